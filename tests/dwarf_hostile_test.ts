/**
 * The DWARF reader on hostile input: hand-made sections that lie (unit and
 * line-program lengths, LEB128 that never ends, unknown forms, origin
 * cycles, ranges over the whole address space, range lists and line
 * programs too large for the budget, entries nested thousands deep,
 * compressed sections whose stream is not the size their header says), and
 * real sections mutated at random. Every lookup answers frames or a reason
 * (never an exception but the TypeError of a bad argument), in bounded time
 * and within `maxBytes`.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { memoryReader } from "../src/elf/read_at.ts";
import { readSections } from "../src/elf/sections.ts";
import {
  decompressSection,
  DwarfInfo,
  type DwarfSectionName,
  type DwarfSections,
  inflatePrefix,
  type Inflater,
  isCompressed,
} from "../src/dwarf/mod.ts";
import { SectionSet } from "../src/symbolize/dwarf_files.ts";
import { getZlib } from "../ffi/mod.ts";
import { abbrevs, Asm, AT, FORM, lineProgram, TAG, unit } from "./helpers/dwarf_asm.ts";
import { build, cSteps } from "./helpers/dwarf_builds.ts";
import { dwarfSectionsOf, haveClang, haveGcc, instructionAddresses } from "./helpers/dwarf_tools.ts";
import { count, Rng, seed } from "./helpers/rng.ts";
import { mutateBytes } from "./helpers/mutate.ts";

const REASONS = new Set(["no-dwarf", "not-covered", "malformed", "too-large", "split-missing", "wide-address"]);

/** Every answer is frames or a known reason, and comes within `ms`. */
function lookups(info: DwarfInfo, addrs: bigint[], ms = 2000) {
  const t0 = performance.now();
  const out = addrs.map((a) => {
    const r = info.findFrames(a);
    if ("reason" in r) assert.ok(REASONS.has(r.reason), `unknown reason ${r.reason}`);
    else for (const f of r) assert.equal(typeof f.name, "string");
    return r;
  });
  const took = performance.now() - t0;
  assert.ok(took < ms, `${addrs.length} lookups took ${took.toFixed(0)} ms`);
  return out;
}

// A unit: a compile unit [0x1000, 0x2000) with a function f [0x1000, 0x1100) and, inside it,
// g inlined over [0x1010, 0x1020), called from line 7.
const ABBREVS = [
  {
    code: 1,
    tag: TAG.compile_unit,
    children: true,
    attrs: [[AT.name, FORM.string], [AT.comp_dir, FORM.string], [AT.low_pc, FORM.addr], [AT.high_pc, FORM.data4], [
      AT.stmt_list,
      FORM.sec_offset,
    ]],
  },
  {
    code: 2,
    tag: TAG.subprogram,
    children: true,
    attrs: [[AT.name, FORM.string], [AT.low_pc, FORM.addr], [AT.high_pc, FORM.data4]],
  },
  {
    code: 3,
    tag: TAG.inlined_subroutine,
    children: true,
    attrs: [[AT.abstract_origin, FORM.ref4], [AT.low_pc, FORM.addr], [AT.high_pc, FORM.data4], [
      AT.call_file,
      FORM.data1,
    ], [
      AT.call_line,
      FORM.data1,
    ]],
  },
  { code: 4, tag: TAG.subprogram, children: false, attrs: [[AT.name, FORM.string]] },
  { code: 5, tag: TAG.lexical_block, children: true, attrs: [] },
  { code: 6, tag: TAG.subprogram, children: false, attrs: [[AT.specification, FORM.ref4]] },
] as const satisfies Parameters<typeof abbrevs>[0];

/**
 * The entries of the unit above, `inner` placed among the inlined call's
 * children; the call's abstract origin is g's entry unless `origin` (an
 * offset in the unit: the DWARF 4 unit header is 11 bytes) says otherwise.
 */
function entries(inner: (a: Asm) => void = () => {}, origin?: number, base = 0x1000n): Uint8Array {
  const a = new Asm();
  a.uleb(1).str("u.c").str("/src").u64(base).u32(0x1000).u32(0);
  const gOffset = 11 + a.length;
  a.uleb(4).str("g");
  a.uleb(2).str("f").u64(base).u32(0x100);
  a.uleb(3).u32(origin ?? gOffset).u64(base + 0x10n).u32(0x10).u8(1).u8(7);
  inner(a);
  a.u8(0); // end of g's children
  a.u8(0); // end of f's children
  a.u8(0); // end of the unit's children
  return a.done();
}

/** Line rows: base line 5, base + 0x10 line 20, sequence ends at base + 0x100. */
function lines(base = 0x1000n): Uint8Array {
  const p = new Asm();
  p.u8(0, 9, 2).u64(base); // set_address
  p.u8(3).sleb(4).u8(1); // line 5, copy
  p.u8(2).uleb(0x10).u8(3).sleb(15).u8(1); // +0x10, line 20, copy
  p.u8(2).uleb(0xf0).u8(0, 1, 1); // +0xf0, end_sequence
  return lineProgram(["u.c"], p.done());
}

function sections(info: Uint8Array, extra: Partial<Record<DwarfSectionName, Uint8Array>> = {}): DwarfSections {
  return { debug_info: info, debug_abbrev: abbrevs([...ABBREVS]), debug_line: lines(), ...extra };
}

describe("hand-made DWARF", () => {
  test("the hand-made unit reads as made (so the hostile variants below test something)", () => {
    const info = new DwarfInfo(sections(unit(entries())));
    assert.deepEqual(info.findFrames(0x1014n), [
      { name: "g", file: "/src/u.c", line: 20, column: 0, discriminator: 0, inlined: true },
      { name: "f", file: "/src/u.c", line: 7, column: 0, discriminator: 0, inlined: false },
    ]);
    assert.deepEqual(info.findFrames(0x1014n, false), [{
      name: "f",
      file: "/src/u.c",
      line: 20,
      column: 0,
      discriminator: 0,
      inlined: false,
    }]);
    assert.deepEqual(info.findFunction(0x1014n), { name: "f", start: 0x1000n, end: 0x1100n });
    const outside = info.findFrames(0x3000n);
    assert.ok("reason" in outside && outside.reason === "not-covered");
    assert.throws(() => info.findFrames(0x1014 as unknown as bigint), TypeError);
    // A batch's number form answers the same, and takes only exact non-negative integers.
    const made = (
      name: string,
      file: string,
      line: number,
      column: number,
      inlined: boolean,
      discriminator: number,
    ) => ({
      name,
      file,
      line,
      column,
      discriminator,
      inlined,
    });
    assert.deepEqual(info.findFramesAt(0x1014, true, made), info.findFrames(0x1014n, true, made));
    assert.deepEqual(info.findFramesAt(0x3000, true, made), outside);
    for (const bad of [-1, 0.5, 2 ** 53, NaN, 0x1014n]) {
      assert.throws(() => info.findFramesAt(bad as number, true, made), TypeError);
    }
  });

  test("discriminators: one row's each (reset by every row), the last row at an address wins, past 32 bits dropped", () => {
    const p = new Asm();
    p.u8(0, 9, 2).u64(0x1000n); // set_address
    p.u8(0, 2, 4, 7).u8(3).sleb(4).u8(1); // discriminator 7, line 5, copy
    p.u8(2).uleb(0x10).u8(3).sleb(15).u8(1); // +0x10, line 20, copy: no discriminator (reset)
    p.u8(2).uleb(0x10).u8(0, 2, 4, 9).u8(1); // +0x10 (0x1020), discriminator 9, copy
    p.u8(0, 2, 4, 5).u8(3).sleb(1).u8(1); // the same address again, discriminator 5, line 21: replaces it
    p.u8(2).uleb(0x10).u8(0, 2, 4, 3).u8(1); // 0x1030, discriminator 3, copy
    p.u8(3).sleb(1).u8(1); // the same address, no discriminator: replaces it (none)
    p.u8(2).uleb(0x10).u8(0, 11, 4).uleb(1n << 60n).u8(1); // 0x1040: a 61-bit discriminator
    p.u8(2).uleb(0xb0).u8(0, 1, 1); // end_sequence at 0x1100
    const info = new DwarfInfo(sections(unit(entries()), { debug_line: lineProgram(["u.c"], p.done()) }));
    const disc = (a: bigint) => {
      const r = info.findFrames(a, false);
      assert.ok(!("reason" in r), `0x${a.toString(16)}: ${JSON.stringify(r)}`);
      return [r[0].line, r[0].discriminator];
    };
    assert.deepEqual(disc(0x1004n), [5, 7]);
    assert.deepEqual(disc(0x1014n), [20, 0]);
    assert.deepEqual(disc(0x1020n), [21, 5]);
    assert.deepEqual(disc(0x1030n), [22, 0]);
    assert.deepEqual(disc(0x1040n), [22, 0]);
  });

  test("columns and call lines past 32 bits, or negative, are unknown (0): as the columnar form keeps them", () => {
    // A set_column of 2^40 (and of 2^70, past 2^53) would otherwise be a column no compiler writes, and one the
    // symbolizer's columnar form (32-bit columns) reads as another number.
    const p = new Asm();
    p.u8(0, 9, 2).u64(0x1000n); // set_address
    p.u8(5).uleb(1n << 40n).u8(3).sleb(4).u8(1); // column 2^40, line 5, copy
    p.u8(2).uleb(0x10).u8(5).uleb(1n << 70n).u8(1); // +0x10, column 2^70, copy
    p.u8(2).uleb(0x10).u8(5).uleb(0xffffffff).u8(1); // +0x10 (0x1020), column 2^32 - 1: kept
    p.u8(2).uleb(0xe0).u8(0, 1, 1); // end_sequence at 0x1100
    // The inlined call's line as data8 (2^33) and its column as sdata (-3).
    const abbr = ABBREVS.map((a) =>
      a.code !== 3 ? a : {
        ...a,
        attrs: [
          [AT.abstract_origin, FORM.ref4],
          [AT.low_pc, FORM.addr],
          [AT.high_pc, FORM.data4],
          [
            AT.call_file,
            FORM.data1,
          ],
          [AT.call_line, FORM.data8],
          [0x57, 0x0d],
        ],
      }
    ) as unknown as Parameters<typeof abbrevs>[0];
    const a = new Asm();
    a.uleb(1).str("u.c").str("/src").u64(0x1000n).u32(0x1000).u32(0);
    const gOffset = 11 + a.length;
    a.uleb(4).str("g");
    a.uleb(2).str("f").u64(0x1000n).u32(0x100);
    a.uleb(3).u32(gOffset).u64(0x1010n).u32(0x10).u8(1).u64(1n << 33n).sleb(-3);
    a.u8(0, 0, 0);
    const info = new DwarfInfo({
      debug_info: unit(a.done()),
      debug_abbrev: abbrevs(abbr),
      debug_line: lineProgram(["u.c"], p.done()),
    });
    const at = (addr: bigint) => {
      const r = info.findFrames(addr);
      assert.ok(!("reason" in r), JSON.stringify(r));
      return r.map((f) => [f.name, f.line, f.column]);
    };
    assert.deepEqual(at(0x1004n), [["f", 5, 0]]);
    assert.deepEqual(at(0x1014n), [["g", 5, 0], ["f", 0, 0]]);
    assert.deepEqual(at(0x1024n), [["f", 5, 0xffffffff]]);
  });

  test("a line program past a compressed .debug_line's prefix whose whole cannot be had: no line, not a TypeError", () => {
    // As a zlib .debug_line whose stream breaks after its start: a prefix holds the program's header,
    // the whole section does not decompress (the file's section getter gives nothing).
    const line = lines();
    const s: DwarfSections = {
      debug_info: unit(entries()),
      debug_abbrev: abbrevs([...ABBREVS]),
      get debug_line() {
        return undefined;
      },
      prefix: (name) => name === "debug_line" ? line.subarray(0, 16) : undefined,
    };
    // The functions are named, with no line (the line table is what is lost).
    const r = lookups(new DwarfInfo(s), [0x1004n, 0x1014n]);
    assert.deepEqual(r.map((x) => "reason" in x ? x.reason : x.map((f) => [f.name, f.line])), [
      [["f", 0]],
      [["g", 0], ["f", 7]],
    ]);
  });

  test("kernel-style addresses (within 2^53 of 2^64) read exactly; those between are a reason", () => {
    const base = 0xffffffff81000000n;
    const info = new DwarfInfo({ ...sections(unit(entries(undefined, undefined, base))), debug_line: lines(base) });
    assert.deepEqual(info.findFrames(base + 0x14n), [
      { name: "g", file: "/src/u.c", line: 20, column: 0, discriminator: 0, inlined: true },
      { name: "f", file: "/src/u.c", line: 7, column: 0, discriminator: 0, inlined: false },
    ]);
    assert.deepEqual(info.findFunction(base + 0x14n), { name: "f", start: base, end: base + 0x100n });
    const low = info.findFrames(0x14n);
    assert.ok("reason" in low && low.reason === "not-covered");
    for (const a of [1n << 60n, -1n, 1n << 64n]) {
      const r = info.findFrames(a);
      assert.ok("reason" in r && r.reason === "wide-address", `${a}: ${JSON.stringify(r)}`);
    }
  });

  test("no .debug_info, or an empty one", () => {
    for (const s of [{}, { debug_info: new Uint8Array(0) }, { debug_info: new Uint8Array(3) }]) {
      const r = new DwarfInfo(s).findFrames(0x1000n);
      assert.ok("reason" in r && r.reason === "no-dwarf", JSON.stringify(r));
    }
  });

  test("a unit length past the section, or reserved: no unit", () => {
    for (const length of [0xfffffff0, 0xffffffff, 1 << 30, 3]) {
      const r = new DwarfInfo(sections(unit(entries(), { length }))).findFrames(0x1014n);
      assert.ok("reason" in r && r.reason === "no-dwarf", JSON.stringify(r));
    }
  });

  test("a LEB128 that never ends, and an abbreviation code with no abbreviation: malformed", () => {
    const endless = new Asm().u8(...new Array(5000).fill(0x80)).done();
    const unknown = new Asm().uleb(77).done();
    for (const body of [endless, unknown]) {
      const r = lookups(new DwarfInfo(sections(unit(body))), [0x1014n])[0];
      assert.ok("reason" in r && r.reason === "malformed", JSON.stringify(r));
    }
  });

  test("an unknown form in the function's abbreviation: malformed, with where", () => {
    const bad = ABBREVS.map((a) => (a.code === 2 ? { ...a, attrs: [[AT.name, 0x7777], ...a.attrs.slice(1)] } : a));
    const info = new DwarfInfo({
      ...sections(unit(entries())),
      debug_abbrev: abbrevs(bad as typeof ABBREVS[number][]),
    });
    const r = lookups(info, [0x1014n])[0];
    // The line table still answers; the function cannot be read.
    assert.ok("reason" in r ? r.reason === "malformed" : r[0].name === "", JSON.stringify(r));
  });

  test("abstract_origin / specification cycles end (the name is empty), in bounded time", () => {
    // Two entries whose specifications point at each other, and one pointing at itself.
    let first = 0, self = 0;
    const cycle = (a: Asm) => {
      first = 11 + a.length;
      a.uleb(6).u32(first + 5); // -> the next entry
      a.uleb(6).u32(first); // -> the one before
      self = 11 + a.length;
      a.uleb(6).u32(self);
    };
    entries(cycle); // learns the offsets (fixed-size fields: the same in the build below)
    for (const origin of [first, self]) {
      const r = lookups(new DwarfInfo(sections(unit(entries(cycle, origin)))), [0x1014n])[0];
      assert.ok(!("reason" in r), JSON.stringify(r));
      assert.deepEqual(r.map((f) => f.name), ["", "f"]);
    }
  });

  test("ranges over the whole address space, and more range entries than the reader reads", () => {
    // The unit's and f's range list (DWARF 4 .debug_ranges): [0, 2^53), then one ending at the
    // all-ones address (a wrap: skipped).
    const abbr = ABBREVS.map((a) =>
      a.code === 1
        ? { ...a, attrs: [[AT.name, FORM.string], [AT.low_pc, FORM.addr], [AT.ranges, FORM.sec_offset]] }
        : a.code === 2
        ? { ...a, attrs: [[AT.name, FORM.string], [AT.ranges, FORM.sec_offset]] }
        : a
    );
    const body = new Asm();
    body.uleb(1).str("u.c").u64(0).u32(0);
    body.uleb(2).str("f").u32(0).u8(0, 0);
    const ranges = new Asm().u64(0).u64(2 ** 53 - 1).u64(0).u64(-1n).u64(0).u64(0).done();
    const whole = new DwarfInfo({
      debug_info: unit(body.done()),
      debug_abbrev: abbrevs(abbr as typeof ABBREVS[number][]),
      debug_ranges: ranges,
    });
    for (const r of lookups(whole, [0x1014n, 0x1234567890n, 2n ** 52n])) {
      assert.ok(!("reason" in r) && r.at(-1)!.name === "f", JSON.stringify(r));
    }
    assert.ok("reason" in whole.findFrames(2n ** 60n)); // beyond the reader's exact range
    // 1.2 million one-byte ranges: past the reader's bound.
    const n = 1_200_000;
    const many = new Uint8Array(16 * (n + 1));
    const mv = new DataView(many.buffer);
    for (let i = 0; i < n; i++) {
      mv.setUint32(16 * i, 2 * i, true);
      mv.setUint32(16 * i + 8, 2 * i + 1, true);
    }
    const big = new DwarfInfo({
      debug_info: unit(body.done()),
      debug_abbrev: abbrevs(abbr as typeof ABBREVS[number][]),
      debug_ranges: many,
    });
    const r = lookups(big, [0x1014n], 10_000)[0];
    assert.ok("reason" in r ? r.reason === "too-large" : r.at(-1)!.name === "", JSON.stringify(r));
  });

  test("a line program larger than maxBytes holds: too-large; a lying program length: malformed", () => {
    const p = new Asm().u8(0, 9, 2).u64(0x1000);
    for (let i = 0; i < 200_000; i++) p.u8(0x20); // special opcodes: one row each
    p.u8(0, 1, 1);
    const prog = lineProgram(["u.c"], p.done());
    const tight = new DwarfInfo({ ...sections(unit(entries())), debug_line: prog }, { maxBytes: 1 << 20 });
    const r = lookups(tight, [0x1014n])[0];
    // The functions still answer: the frames come without a line.
    assert.ok(!("reason" in r) && r[0].line === 0 && r[1].name === "f", JSON.stringify(r));
    assert.ok(tight.byteSize <= 1 << 20, `${tight.byteSize} bytes held`);
    const lying = new DwarfInfo({
      ...sections(unit(entries())),
      debug_line: lineProgram(["u.c"], new Uint8Array(4), { length: 1 << 30 }),
    });
    const l = lookups(lying, [0x1014n])[0];
    assert.ok(!("reason" in l) && l[0].line === 0, JSON.stringify(l));
  });

  test("entries nested 10,000 deep: too-large, quickly", () => {
    const body = entries((a) => {
      for (let i = 0; i < 10_000; i++) a.uleb(5);
      for (let i = 0; i < 10_000; i++) a.u8(0);
    });
    const r = lookups(new DwarfInfo(sections(unit(body))), [0x1014n])[0];
    assert.ok("reason" in r && r.reason === "too-large", JSON.stringify(r));
  });

  test("compressed sections whose stream is not the size their header says", () => {
    const data = new Uint8Array(100_000).fill(7);
    const z = deflateSync(data);
    const chdr = (size: number) => {
      const h = new Asm().u32(1).u32(0).u64(size).u64(1).done();
      return new Uint8Array([...h, ...z]);
    };
    const raw = (bytes: Uint8Array) => ({ name: ".debug_info", flags: 0x800, bytes, is64: true, littleEndian: true });
    // node:zlib, and libz through the FFI where this runtime uses it (Deno).
    for (const inflater of [undefined, getZlib()]) {
      const ok = decompressSection(raw(chdr(100_000)), 1 << 20, inflater);
      assert.ok(ok instanceof Uint8Array && ok.length === 100_000 && ok[99_999] === 7);
      for (const size of [10, 99_999, 100_001]) {
        const r = decompressSection(raw(chdr(size)), 1 << 20, inflater);
        assert.ok(!(r instanceof Uint8Array) && r.reason === "malformed", `${size}: ${JSON.stringify(r)}`);
      }
      const cutStream = decompressSection(raw(chdr(100_000).slice(0, 30)), 1 << 20, inflater);
      assert.ok(!(cutStream instanceof Uint8Array) && cutStream.reason === "malformed");
      const garbage = decompressSection(raw(chdr(100_000).fill(0x5a, 24, 40)), 1 << 20, inflater);
      assert.ok(!(garbage instanceof Uint8Array) && garbage.reason === "malformed");
      // A prefix: at least the bytes asked for, equal to the start of the whole.
      const p = inflatePrefix(raw(chdr(100_000)), 100, 1 << 20, undefined, inflater);
      if (p) assert.ok(p.length >= 100 && p.every((x) => x === 7));
    }
    const big = decompressSection(raw(chdr(100_000)), 50_000);
    assert.ok(!(big instanceof Uint8Array) && big.reason === "too-large");
    const unknown = decompressSection(raw(new Asm().u32(9).u32(0).u64(10).u64(1).done()), 1 << 20);
    assert.ok(!(unknown instanceof Uint8Array) && unknown.reason === "unsupported-compression");
    const cut = decompressSection(raw(new Uint8Array(10)), 1 << 20);
    assert.ok(!(cut instanceof Uint8Array) && cut.reason === "malformed");
  });
});

/** A gcc -O2 -g build with its DWARF sections compressed by zstd (objcopy), and one with zlib (-gz=zlib). */
function compressedBuilds(): [zstdBin: string, zlibBin: string] {
  const dir = build("c-zstd", [
    ...cSteps("gcc", ["-O2", "-g"]),
    ["objcopy", "--compress-debug-sections=zstd", "bin", "bin.zstd"],
  ]);
  const zlibDir = build("c--O2-g-gz=zlib", cSteps("gcc", ["-O2", "-g", "-gz=zlib"]));
  return [join(dir, "bin.zstd"), join(zlibDir, "bin")];
}

describe("real compressed sections with lying headers", { skip: !haveGcc && "gcc is not installed" }, () => {
  test("zstd and zlib .debug_info: a size off by one, a cut stream, a flipped byte", () => {
    const [zstdBin, zlibBin] = compressedBuilds();
    for (const path of [zstdBin, zlibBin]) {
      const bytes = new Uint8Array(readFileSync(path));
      const elf = readSections(memoryReader(bytes))!;
      const s = elf.byName(".debug_info")!;
      const raw = bytes.slice(s.offset, s.offset + Number(s.size));
      const section = (b: Uint8Array) => ({
        name: ".debug_info",
        flags: s.flags,
        bytes: b,
        is64: true,
        littleEndian: true,
      });
      const good = decompressSection(section(raw), 1 << 24);
      if (!(good instanceof Uint8Array)) {
        // This objcopy wrote no zstd (or fzstd cannot load): the reason says which.
        assert.ok(
          good.reason === "unsupported-compression" || !isCompressed({ name: s.name, flags: s.flags }),
          good.message,
        );
        continue;
      }
      const size = new DataView(raw.buffer).getUint32(8, true);
      const zlibFfi = getZlib();
      // libz through the FFI where this runtime uses it (Deno; zlib sections only), else node:zlib.
      const inflater = zlibFfi && new DataView(raw.buffer).getUint32(0, true) === 1 ? zlibFfi : undefined;
      if (inflater) {
        const again = decompressSection(section(raw), 1 << 24, inflater);
        assert.ok(again instanceof Uint8Array && again.length === good.length && again.every((x, i) => x === good[i]));
      }
      for (
        const [what, b] of [
          ["size + 1", withU32(raw, 8, size + 1)],
          ["size - 1", withU32(raw, 8, size - 1)],
          ["cut", raw.slice(0, raw.length >> 1)],
          ["flipped", withByte(raw, raw.length >> 1)],
        ] as const
      ) {
        const r = decompressSection(section(b), 1 << 24, inflater);
        if (what === "flipped" && r instanceof Uint8Array) {
          // A flipped byte may still decode (to other bytes of the right size): then it must not equal the original.
          assert.equal(r.length, good.length);
          continue;
        }
        const got = r instanceof Uint8Array ? `${r.length} bytes decoded` : JSON.stringify(r);
        assert.ok(!(r instanceof Uint8Array) && r.reason === "malformed", `${path} ${what}: ${got}`);
      }
    }
  });

  test("a compression header that lies costs what the stream holds: past any stream's ratio refused unallocated, within it buffers grow with the output", () => {
    const [zstdBin, zlibBin] = compressedBuilds();
    for (const path of [zlibBin, zstdBin]) {
      const bytes = new Uint8Array(readFileSync(path));
      const elf = readSections(memoryReader(bytes))!;
      const s = elf.byName(".debug_info")!;
      const lying = bytes.slice();
      new DataView(lying.buffer).setBigUint64(s.offset + 8, 1n << 30n, true); // ch_size: 1 GiB
      // The inflater is never handed an output buffer: the lie costs nothing.
      const handed: number[] = [];
      const spy: Inflater = {
        inflateInto: (_src, out) => (handed.push(out.length), { written: 0, ended: false }),
      };
      const raw = { name: ".debug_info", flags: s.flags, is64: true, littleEndian: true };
      const r = decompressSection({ ...raw, bytes: lying.subarray(s.offset, s.offset + Number(s.size)) }, 2 ** 31, spy);
      assert.ok(!(r instanceof Uint8Array) && r.reason === "malformed", JSON.stringify(r));
      assert.match(r.message, /-byte stream cannot decompress to the 1073741824 bytes its header says/);
      assert.deepEqual(handed, []);
      // A file's section set refuses it as it reads the section headers.
      const set = new SectionSet(memoryReader(lying), readSections(memoryReader(lying))!);
      assert.equal(set.problems.get(".debug_info"), "malformed", path);
      // A claim within what the stream could hold (1000 to 1): buffers grow with what the stream gives, from
      // 1 MiB (16 times the stream's size at least), not with the claim.
      const stream = Number(s.size) - 24;
      const claim = stream * 1000;
      new DataView(lying.buffer).setBigUint64(s.offset + 8, BigInt(claim), true);
      const section = { ...raw, bytes: lying.subarray(s.offset, s.offset + Number(s.size)) };
      if (new DataView(lying.buffer).getUint32(s.offset, true) === 1) {
        for (const fills of [false, true]) {
          const sizes: number[] = [];
          const fake: Inflater = {
            // A stream that ends after 1000 bytes, or one that fills whatever it is given.
            inflateInto: (
              _src,
              out,
            ) => (sizes.push(out.length),
              fills ? { written: out.length, ended: false } : { written: 1000, ended: true }),
          };
          const m = decompressSection(section, 2 ** 31, fake);
          assert.ok(!(m instanceof Uint8Array) && m.reason === "malformed", JSON.stringify(m));
          const first = Math.max(stream * 16, 1 << 20);
          assert.deepEqual(sizes, fills ? [first, ...(first * 4 < claim + 1 ? [first * 4] : []), claim + 1] : [first]);
        }
      }
      // The honest header still reads (the bound is no compressor's).
      const good = decompressSection({ ...raw, bytes: bytes.subarray(s.offset, s.offset + Number(s.size)) }, 2 ** 31);
      assert.ok(good instanceof Uint8Array || good.reason === "unsupported-compression", JSON.stringify(good));
    }
  });
});

function withU32(b: Uint8Array, at: number, v: number): Uint8Array {
  const c = b.slice();
  new DataView(c.buffer).setUint32(at, v, true);
  return c;
}

function withByte(b: Uint8Array, at: number): Uint8Array {
  const c = b.slice();
  c[at] ^= 0x5a;
  return c;
}

describe("real DWARF, mutated", { skip: !haveGcc && "gcc is not installed" }, () => {
  test("random mutations of each section answer frames or a reason, in bounded time and bytes", () => {
    const s0 = seed(24);
    const rng = new Rng(s0);
    // gcc's DWARF 5 and 4, and clang's DWARF 5 (indexed forms everywhere).
    const flavours = [
      ["gcc", "-O2", "-g"],
      ["gcc", "-O2", "-gdwarf-4"],
      ...(haveClang ? [["clang", "-O2", "-g"]] : []),
    ];
    const bins = flavours.map(([cc, ...flags]) => {
      const bin = join(build(cc === "gcc" ? `c-${flags.join("")}` : "clang-c", cSteps(cc, flags)), "bin");
      return { sections: dwarfSectionsOf(bin)!, addrs: instructionAddresses(bin).filter((_, i) => i % 7 === 0) };
    });
    const n = count(150, 3000);
    for (let i = 0; i < n; i++) {
      const { sections: base, addrs } = bins[i % bins.length];
      const names = Object.keys(base).filter((k) => k !== "littleEndian") as DwarfSectionName[];
      const which = rng.pick(names);
      const mutated = { ...base, [which]: mutateDwarf(rng, base[which] as Uint8Array) };
      const info = new DwarfInfo(mutated, { maxBytes: 4 << 20 });
      try {
        lookups(info, addrs.slice(0, 30));
      } catch (e) {
        throw new Error(`seed ${s0}, case ${i}, ${which}: ${(e as Error).stack}`);
      }
      assert.ok(info.byteSize <= 4 << 20, `seed ${s0}, case ${i}: ${info.byteSize} bytes`);
    }
  });
});

/** Mutations aimed at DWARF: 32-bit fields set to lying values, endless LEB128, and generic byte mutations. */
function mutateDwarf(rng: Rng, b: Uint8Array): Uint8Array {
  const out = rng.chance(0.5) ? mutateBytes(rng, b) : b.slice();
  const rounds = rng.range(1, 3);
  for (let r = 0; r < rounds && out.length > 8; r++) {
    const at = rng.int(out.length - 4);
    const v = new DataView(out.buffer, out.byteOffset, out.length);
    switch (rng.int(4)) {
      case 0:
        v.setUint32(
          at,
          rng.pick([0xffffffff, 0xfffffff0, 0x7fffffff, 0x80000000, out.length, out.length + 1, 0]),
          true,
        );
        break;
      case 1:
        out.fill(0x80, at, Math.min(out.length, at + rng.range(2, 40)));
        break;
      case 2:
        out[at] = rng.pick([0x00, 0x01, 0x16, 0x21, 0x23, 0x1f, 0xff]);
        break;
      default:
        v.setUint32(at, rng.u32(), true);
    }
  }
  return out;
}
