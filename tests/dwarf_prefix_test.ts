/**
 * Compressed DWARF read only as far as a lookup needs (libc with libc6-dbg's
 * debug file, whose .debug_info and .debug_line are zlib-compressed): a
 * lookup in a unit near the start of .debug_info inflates only the start of
 * the section (the unit found through .debug_aranges, the line program
 * through its offset, the abbreviation table likewise), and every answer
 * equals the one read from the whole sections. Large compressed sections are
 * left in the file until needed (read back through a Reopen that accepts
 * only the same file). A stream broken past the prefix gives the early units' frames
 * and a reason (no exception) for the others.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLibc } from "../ffi/mod.ts";
import { memoryReader } from "../src/elf/read_at.ts";
import { type ElfSections, readSections } from "../src/elf/sections.ts";
import { DwarfInfo, type DwarfSectionName, type DwarfSections } from "../src/dwarf/mod.ts";
import { readAranges } from "../src/dwarf/ranges.ts";
import { type Reopen, reopener, SectionSet } from "../src/symbolize/dwarf_files.ts";
import { dwarfSectionsOf } from "./helpers/dwarf_tools.ts";
import { installedDebugFile } from "./helpers/elf_notes.ts";

const LIBC = "/lib/x86_64-linux-gnu/libc.so.6";
const debug = existsSync(LIBC) ? installedDebugFile(realpathSync(LIBC)) : undefined;

/** The reader's sections over a SectionSet, noting the longest prefix given and the whole sections read. */
function spied(bytes: Uint8Array, elf: ElfSections, reopen?: Reopen) {
  const set = new SectionSet(memoryReader(bytes), elf, reopen);
  const inner = set.forReader();
  const longest = new Map<string, number>();
  const whole = new Set<string>();
  const sections: Record<string, unknown> = {
    littleEndian: inner.littleEndian,
    prefix: (name: DwarfSectionName, want: number) => {
      const b = inner.prefix!(name, want);
      longest.set(name, Math.max(longest.get(name) ?? 0, b?.length ?? 0));
      return b;
    },
  };
  for (const k of Object.keys(inner) as DwarfSectionName[]) {
    if (k === ("littleEndian" as string) || k === ("prefix" as string)) continue;
    Object.defineProperty(sections, k, {
      get: () => {
        whole.add(k);
        return inner[k];
      },
    });
  }
  return { sections: sections as DwarfSections, longest, whole, set };
}

describe("compressed DWARF read as far as a lookup needs", {
  skip: !debug && "libc6-dbg's debug file for this libc is not installed",
}, () => {
  const bytes = debug ? new Uint8Array(readFileSync(debug)) : new Uint8Array(0);
  const elf = debug ? readSections(memoryReader(bytes))! : undefined;
  const compressed = (name: string) => elf?.byName(name) && (Number(elf.byName(name)!.flags) & 0x800) !== 0;

  test("a unit near the start: only the start of .debug_info and .debug_line inflated, frames as from the whole", (t) => {
    if (!compressed(".debug_info") || !compressed(".debug_line")) {
      return t.skip("this debug file's .debug_info / .debug_line are not compressed");
    }
    const reference = new DwarfInfo(dwarfSectionsOf(debug!)!);
    const whole = dwarfSectionsOf(debug!)!;
    const sets = readAranges(whole.debug_aranges!, true).filter((s) => s.ranges.length > 0);
    sets.sort((a, b) => a.unitOffset - b.unitOffset);
    const infoSize = whole.debug_info!.length, lineSize = whole.debug_line!.length;
    // The first units with code, then units spread over the section.
    const picked = [...sets.slice(0, 3), ...sets.filter((_, i) => i % Math.ceil(sets.length / 12) === 0)];
    let early = 0;
    for (const set of picked) {
      for (const addr of [set.ranges[0], set.ranges[0] + 1, (set.ranges[0] + set.ranges[1]) >>> 1]) {
        const a = BigInt(addr);
        const { sections, longest, whole: read } = spied(bytes, elf!);
        const got = new DwarfInfo(sections).findFrames(a);
        const want = reference.findFrames(a);
        assert.deepEqual(got, want, `0x${addr.toString(16)} (unit at ${set.unitOffset})`);
        // (An address its unit has no line or function for is looked for in every unit: all is read.)
        if (set.unitOffset < infoSize / 8 && Array.isArray(want)) {
          early++;
          assert.ok(!read.has("debug_info"), `unit at ${set.unitOffset}: the whole .debug_info was inflated`);
          assert.ok(!read.has("debug_line"), `unit at ${set.unitOffset}: the whole .debug_line was inflated`);
          assert.ok(!read.has("debug_abbrev"), `unit at ${set.unitOffset}: the whole .debug_abbrev was inflated`);
          assert.ok(longest.get("debug_info")! < infoSize / 2, `${longest.get("debug_info")} of ${infoSize}`);
          assert.ok((longest.get("debug_line") ?? 0) < lineSize / 2, `${longest.get("debug_line")} of ${lineSize}`);
        }
      }
    }
    assert.ok(early >= 3, `${early} addresses in early units`);
    // One reader over many addresses in ascending order (as a batch) answers as the whole sections do.
    const { sections } = spied(bytes, elf!);
    const one = new DwarfInfo(sections);
    const addrs = picked.map((s) => BigInt(s.ranges[0] + 2)).sort((x, y) => (x < y ? -1 : 1));
    for (const a of addrs) assert.deepEqual(one.findFrames(a), reference.findFrames(a), `0x${a.toString(16)}`);
  });

  test("a stream broken past the prefix: the early unit's frames, a reason for a late one", (t) => {
    const s = elf!.byName(".debug_info")!;
    if (!compressed(".debug_info")) return t.skip("this debug file's .debug_info is not compressed");
    const whole = dwarfSectionsOf(debug!)!;
    const reference = new DwarfInfo(whole);
    const sets = readAranges(whole.debug_aranges!, true).filter((x) => x.ranges.length > 0);
    sets.sort((a, b) => a.unitOffset - b.unitOffset);
    const broken = bytes.slice();
    // Bytes near the end of the compressed stream (before its checksum) flipped.
    const at = s.offset + Number(s.size) - 64;
    for (let i = 0; i < 16; i++) broken[at + i] ^= 0x5a;
    const firstAddr = BigInt(sets[0].ranges[0]);
    const lastAddr = BigInt(sets[sets.length - 1].ranges[0]);
    const early = new DwarfInfo(spied(broken, elf!).sections);
    assert.deepEqual(early.findFrames(firstAddr), reference.findFrames(firstAddr));
    const late = early.findFrames(lastAddr);
    assert.ok("reason" in late, `late unit: ${JSON.stringify(late)}`);
    // A fresh reader asked for the late unit first: a reason too.
    const fresh = new DwarfInfo(spied(broken, elf!).sections).findFrames(lastAddr);
    assert.ok("reason" in fresh, `fresh, late unit: ${JSON.stringify(fresh)}`);
  });

  test("large compressed sections left in the file: read back only as far as the lookup needs", (t) => {
    if (!compressed(".debug_info")) return t.skip("this debug file's .debug_info is not compressed");
    const reference = new DwarfInfo(dwarfSectionsOf(debug!)!);
    const sets = readAranges(reference && dwarfSectionsOf(debug!)!.debug_aranges!, true)
      .filter((x) => x.ranges.length > 0 && x.ranges[1] - x.ranges[0] > 64)
      .sort((a, b) => a.unitOffset - b.unitOffset);
    const info = elf!.byName(".debug_info")!;
    let readBack = 0, opens = 0;
    const reopen: Reopen = () => {
      opens++;
      return {
        read: (offset, len) => {
          readBack += len;
          return bytes.subarray(offset, offset + len);
        },
        close: () => {},
      };
    };
    const { sections, set, whole } = spied(bytes, elf!, reopen);
    // Nothing of the large compressed sections held before a lookup.
    assert.ok(set.byteSize < Number(info.size) / 2, `${set.byteSize} bytes held at first`);
    const a = BigInt(sets[0].ranges[0] + 16);
    assert.deepEqual(new DwarfInfo(sections).findFrames(a), reference.findFrames(a));
    assert.ok(!whole.has("debug_info"));
    assert.ok(opens > 0 && readBack < Number(info.size) / 2, `${readBack} bytes read back in ${opens} opens`);
    // A file that cannot be opened again: a reason, not an exception, and the section named unreadable.
    const gone = spied(bytes, elf!, () => undefined);
    const r = new DwarfInfo(gone.sections).findFrames(a);
    assert.ok("reason" in r, JSON.stringify(r));
    assert.equal(gone.set.problems.get(".debug_info"), "unreadable");
  });

  test("left in the file and read into one buffer: any order answers as the whole; a failing read or a broken stream gives a reason", (t) => {
    if (!compressed(".debug_info")) return t.skip("this debug file's .debug_info is not compressed");
    const whole = dwarfSectionsOf(debug!)!;
    const reference = new DwarfInfo(whole);
    const sets = readAranges(whole.debug_aranges!, true)
      .filter((x) => x.ranges.length > 0 && x.ranges[1] - x.ranges[0] > 64)
      .sort((a, b) => a.unitOffset - b.unitOffset);
    const info = elf!.byName(".debug_info")!;
    /** A Reopen over `file` with readInto (as reopener() gives), failing reads of .debug_info that reach `failAt`. */
    const over = (file: Uint8Array, failAt = Infinity) => {
      const seen = { read: 0, readInto: 0 };
      const reopen: Reopen = () => ({
        read: (offset, len) => {
          if (offset + len > failAt && offset < info.offset + Number(info.size)) return null;
          seen.read += len;
          return file.subarray(offset, offset + len);
        },
        readInto: (buf, offset) => {
          if (offset >= failAt && offset < info.offset + Number(info.size)) return -5;
          const b = file.subarray(offset, offset + buf.length);
          buf.set(b);
          seen.readInto += b.length;
          return b.length;
        },
        close: () => {},
      });
      return { reopen, seen };
    };
    // Late, early, middle, then early again and the last: each prefix grows (or the whole is taken) as asked.
    const at = (f: number) => BigInt(sets[Math.min(sets.length - 1, Math.floor(f * sets.length))].ranges[0] + 16);
    const order = [0.8, 0.01, 0.5, 0.02, 0.95, 0.3, 0.999].map(at);
    const { reopen, seen } = over(bytes);
    const s = spied(bytes, elf!, reopen);
    const one = new DwarfInfo(s.sections);
    for (const a of order) assert.deepEqual(one.findFrames(a), reference.findFrames(a), `0x${a.toString(16)}`);
    assert.ok(s.set.byteSize > 0);
    // An early unit first: only the start of the stream read (where the inflater takes pieces; else read whole).
    const early = over(bytes);
    const e = spied(bytes, elf!, early.reopen);
    const a0 = at(0);
    assert.deepEqual(new DwarfInfo(e.sections).findFrames(a0), reference.findFrames(a0));
    assert.ok(!e.whole.has("debug_info"));
    if (early.seen.readInto > 0) {
      assert.ok(early.seen.readInto < Number(info.size) / 2, `${early.seen.readInto} bytes read into the buffer`);
      assert.ok(seen.readInto > 0 && seen.read === 0, `${JSON.stringify(seen)}`);
    }
    // Reads failing half-way through .debug_info's stream: the early unit answers, a late one gives a reason.
    const failing = over(bytes, info.offset + Number(info.size) / 2);
    const f = spied(bytes, elf!, failing.reopen);
    const fi = new DwarfInfo(f.sections);
    assert.deepEqual(fi.findFrames(a0), reference.findFrames(a0));
    const late = fi.findFrames(at(0.999));
    assert.ok("reason" in late, JSON.stringify(late));
    // A stream broken near its end: the early unit's frames, a reason for the last.
    const broken = bytes.slice();
    for (let i = 0; i < 16; i++) broken[info.offset + Number(info.size) - 64 + i] ^= 0x5a;
    const b = new DwarfInfo(spied(broken, elf!, over(broken).reopen).sections);
    assert.deepEqual(b.findFrames(a0), reference.findFrames(a0));
    const last = b.findFrames(at(0.999));
    assert.ok("reason" in last, JSON.stringify(last));
  });

  test("a first lookup (.debug_aranges scanned, no index built yet) answers as a reader with its index", () => {
    const whole = dwarfSectionsOf(debug!)!;
    const sets = readAranges(whole.debug_aranges!, true).filter((x) => x.ranges.length > 0);
    // A reader whose index is built (its first two lookups), and a fresh reader per address.
    const indexed = new DwarfInfo(whole);
    indexed.findFrames(BigInt(sets[0].ranges[0]));
    indexed.findFrames(BigInt(sets[1].ranges[0]));
    const addrs = [0, 1, 2 ** 40];
    sets.forEach((x, i) => {
      if (i % 25 !== 0) return;
      const [b, e] = x.ranges;
      addrs.push(b, b + 1, Math.floor((b + e) / 2), e - 1, e);
    });
    for (const addr of addrs) {
      const a = BigInt(addr);
      assert.deepEqual(new DwarfInfo(whole).findFrames(a), indexed.findFrames(a), `0x${addr.toString(16)}`);
      assert.deepEqual(new DwarfInfo(whole).findFunction(a), indexed.findFunction(a), `0x${addr.toString(16)}`);
    }
    // Only the first lookup scans: the second builds the index (its bytes counted), which later lookups keep.
    const one = new DwarfInfo(whole);
    const a = BigInt(sets[sets.length >> 1].ranges[0]);
    one.findFrames(a);
    const afterFirst = one.byteSize;
    one.findFrames(a);
    const afterSecond = one.byteSize;
    assert.ok(afterSecond - afterFirst >= 24 * sets.length, `${afterFirst} -> ${afterSecond} bytes`);
    one.findFrames(a);
    assert.equal(one.byteSize, afterSecond);
  });

  test("reopener: the same file only (a file changed since gives nothing)", () => {
    const dir = mkdtempSync(join(tmpdir(), "procmap-reopen-"));
    try {
      const libc = getLibc();
      const path = join(dir, "debug");
      copyFileSync(debug!, path);
      const fd = libc.openRead(path);
      assert.ok(fd >= 0);
      try {
        const reopen = reopener(libc, fd, path)!;
        const f = reopen();
        assert.ok(f, "the same file opens again");
        assert.deepEqual(f.read(0, 4), new Uint8Array([0x7f, 0x45, 0x4c, 0x46]));
        f.close();
        utimesSync(path, new Date(2001, 1, 1), new Date(2001, 1, 1));
        assert.equal(reopen(), undefined, "a file modified since is refused");
        rmSync(path);
        assert.equal(reopen(), undefined, "a file gone is refused");
      } finally {
        libc.close(fd);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
