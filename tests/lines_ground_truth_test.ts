/**
 * Source lines and inlined frames end to end, against tools nobody here
 * wrote: for every variant of the fixtures (gcc -O2 -g DWARF 5, -gdwarf-4,
 * -gdwarf-2, -gz=zlib, zstd-compressed sections, -gsplit-dwarf with its
 * .dwo and with a .dwp, a dwz pair, clang, g++, rustc) and for libc with
 * libc6-dbg's debug file, `symbol.frames` of Symbolizer.symbolizeFile()
 * must equal `addr2line -f -i` (names, files, lines) or `llvm-symbolizer
 * --inlining` (names, files, lines, columns) or `eu-addr2line -f -i` for
 * at least 99.5% of the addresses, and maps.symbolize() in a live child must give the same
 * frames as symbolizeFile() for the same ELF addresses.
 *
 * Frames compared innermost first, names as DWARF gives them (the linkage
 * name, else DW_AT_name), as eu-addr2line does. Where a tool names the
 * outermost frame after the symbol table instead (llvm-symbolizer always,
 * so `f.cold` for a function's cold part; addr2line where the symbol
 * starts the function, so `f.constprop.0`), an address whose frames are
 * otherwise equal counts as agreeing but for that rule; no tool is
 * compared where it cannot read the file (addr2line and .dwo files,
 * llvm-symbolizer 14 and dwz or zstd).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, realpathSync } from "node:fs";
import { ProcMaps, Symbolizer } from "../mod.ts";
import { startChild } from "./helpers/child.ts";
import { readRows } from "./helpers/ground_truth.ts";
import { loadBias } from "./helpers/tools.ts";
import { haveAddr2line, haveLlvmSymbolizer, instructionAddresses } from "./helpers/dwarf_tools.ts";
import { sample } from "./helpers/dwarf_builds.ts";
import { built, compare, has, type Tally, VARIANTS } from "./helpers/lines_compare.ts";

/** Addresses per binary: enough to meet every kind of row, few enough for four runtimes. */
const PER_BINARY = 160;

function assertAgreement(what: string, t: Tally): void {
  const share = (t.agree + t.nameRule) / t.total;
  assert.ok(
    share >= 0.995,
    `${what}: ${t.agree} of ${t.total} addresses agree (${t.nameRule} more by the naming and padding rules) (addr2line ${t.a2l}, llvm-symbolizer ${t.llvm}, eu-addr2line ${t.eu}); first misses:\n` +
      t.misses.join("\n"),
  );
}

const tools = haveAddr2line || haveLlvmSymbolizer ? false : "addr2line or llvm-symbolizer is needed";

describe("frames equal addr2line -i or llvm-symbolizer --inlining", { skip: tools }, () => {
  for (const v of VARIANTS) {
    const missing = v.needs.filter((t) => !has(t));
    test(v.name, { skip: missing.length ? `${missing.join(", ")} not installed` : false }, () => {
      const bin = built(v);
      const addrs = sample(instructionAddresses(bin, [".text"]), PER_BINARY);
      const t = compare(bin, addrs);
      assertAgreement(v.name, t);
      // Every variant has inlined code: some address must have more than one frame.
      const ours = new Symbolizer().symbolizeFile(bin, addrs);
      assert.ok(ours.some((r) => (r.symbol?.frames?.length ?? 0) > 1), `${v.name}: inlined frames seen`);
      // inlines: false gives one frame: the outermost function at the address's own line.
      const one = new Symbolizer().symbolizeFile(bin, addrs, { inlines: false });
      one.forEach((r, i) => {
        const all = ours[i].symbol?.frames;
        if (!all) return assert.equal(r.symbol?.frames, undefined);
        assert.equal(r.symbol!.frames!.length, 1);
        const f = r.symbol!.frames![0];
        assert.deepEqual([f.name, f.file, f.line, f.column, f.inlined], [
          all.at(-1)!.name,
          all[0].file,
          all[0].line,
          all[0].column,
          false,
        ]);
      });
      // lines: false reads no DWARF.
      const none = new Symbolizer().symbolizeFile(bin, addrs, { lines: false });
      assert.ok(none.every((r) => r.symbol?.frames === undefined));
    });
  }
});

const LIBC = "/lib/x86_64-linux-gnu/libc.so.6";

test("libc with libc6-dbg's debug file", {
  skip: tools || (existsSync("/usr/lib/debug/.build-id") ? false : "libc6-dbg is not installed"),
}, () => {
  const libc = realpathSync(LIBC);
  const addrs = sample(instructionAddresses(libc, [".text"]), 400);
  const t = compare(libc, addrs);
  assert.ok(t.a2l + t.llvm > 0, "the debug file was found");
  assertAgreement("libc", t);

  // The lines count in the cache: the DWARF sections and the units parsed, within the bound.
  const names = new Symbolizer();
  names.symbolizeFile(libc, addrs, { lines: false });
  const full = new Symbolizer();
  const all = full.symbolizeFile(libc, addrs);
  assert.ok(full.cacheBytes > names.cacheBytes + (4 << 20), `${full.cacheBytes} vs ${names.cacheBytes} without lines`);
  assert.ok(full.cacheBytes <= full.maxCacheBytes);
  // One address a call, in a scattered order (a late unit first, then early ones, ...): each call may need more of
  // the compressed sections than the calls before read (a longer prefix, or the whole), and answers as the batch.
  const step = Math.max(1, Math.floor(addrs.length / 24));
  const picks = addrs.map((_, i) => i).filter((i) => i % step === 0);
  picks.sort((x, y) => ((x * 7919) % 101) - ((y * 7919) % 101));
  const oneByOne = new Symbolizer();
  for (const i of [addrs.length - 1, ...picks]) {
    const [r] = oneByOne.symbolizeFile(libc, [addrs[i]]);
    assert.deepEqual(r.symbol?.frames, all[i].symbol?.frames, `one by one: 0x${addrs[i].toString(16)}`);
  }
  assert.ok(oneByOne.cacheBytes <= oneByOne.maxCacheBytes);
  // A small cache (the parsed units get half of it) answers the same, twice, and stays within it.
  const small = new Symbolizer({ maxCacheBytes: 24 << 20 });
  for (let round = 0; round < 2; round++) {
    const r = small.symbolizeFile(libc, addrs);
    r.forEach((x, i) => assert.deepEqual(x.symbol?.frames, all[i].symbol?.frames, `0x${addrs[i].toString(16)}`));
    assert.ok(small.cacheBytes <= small.maxCacheBytes, `${small.cacheBytes}`);
  }
});

test("maps.symbolize() in live children gives symbolizeFile()'s frames", async () => {
  for (const v of VARIANTS.filter((v) => /DWARF 5\)|split-dwarf \(|dwz/.test(v.name))) {
    if (v.needs.some((t) => !has(t))) continue;
    const bin = built(v);
    const child = await startChild<{ pid: number }>(bin, []);
    try {
      const addrs = sample(instructionAddresses(bin, [".text"]), 60);
      const bias = loadBias(readRows(child.pid), bin);
      using maps = ProcMaps.open(child.pid);
      const live = maps.symbolize(addrs.map((a) => a + bias));
      const file = new Symbolizer().symbolizeFile(bin, addrs);
      let framed = 0;
      live.forEach((r, i) => {
        assert.deepEqual(r?.symbol?.frames, file[i].symbol?.frames, `${v.name} 0x${addrs[i].toString(16)}`);
        if (r?.symbol?.frames) framed++;
      });
      assert.ok(framed > addrs.length / 2, `${v.name}: most addresses have frames (${framed})`);
    } finally {
      await child.stop();
    }
  }
});
