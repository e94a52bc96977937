/**
 * Source frames do not depend on what a Symbolizer looked up before. The
 * DWARF reader starts a lookup where the one before ended (the unit
 * .debug_aranges named, the line row, the inline chain's depth), so a
 * sorted batch's next address is found from its neighbour. The same
 * addresses of libc (with libc6-dbg's debug file) and of a C++ fixture
 * (deep inline chains, many units), in dense runs of neighbouring
 * instructions, at the units' bounds and spread over the code, looked up in one batch, one at a
 * time in shuffled order, in small shuffled batches, in descending
 * batches and repeated, on one Symbolizer, must give the frames a fresh
 * Symbolizer gives them in one batch, as objects and as columns; and
 * those frames must agree with `addr2line -f -i`, `llvm-symbolizer
 * --inlining` or `eu-addr2line -f -i` as in lines_ground_truth_test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { type FileSymbolized, Symbolizer } from "../mod.ts";
import { haveAddr2line, haveLlvmSymbolizer, instructionAddresses } from "./helpers/dwarf_tools.ts";
import { sample } from "./helpers/dwarf_builds.ts";
import { built, compare, has, VARIANTS } from "./helpers/lines_compare.ts";
import { columnFrames } from "./helpers/frame_columns.ts";
import { Rng, seed } from "./helpers/rng.ts";
import { installedDebugFile } from "./helpers/elf_notes.ts";

/** An address's answer as one string: its symbol and frames. */
function answer(r: FileSymbolized | undefined): string {
  const s = r?.symbol;
  return JSON.stringify([s?.name, s?.offset.toString(), s?.source, s?.frames, r?.symbolReason]);
}

/**
 * Runs of `run` neighbouring instructions at `runs` places spread over
 * `all`, and `spread` more addresses evenly spread: sorted, distinct.
 */
function probes(all: bigint[], runs: number, run: number, spread: number): bigint[] {
  const out = new Set<bigint>(sample(all, spread));
  for (let k = 0; k < runs; k++) {
    const at = Math.floor((k + 0.5) * all.length / runs);
    for (let i = at; i < Math.min(all.length, at + run); i++) out.add(all[i]);
  }
  return [...out].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
}

/** Every way of looking `addrs` up on `s` agrees with `truth` (address -> answer). */
function sameEveryWay(file: string, addrs: bigint[], truth: Map<bigint, string>, s: Symbolizer, rng: Rng): void {
  const check = (batch: bigint[], how: string) => {
    const objects = s.symbolizeFile(file, batch);
    const t = s.symbolizeFileTable(file, batch);
    batch.forEach((a, i) => {
      const want = truth.get(a)!;
      assert.equal(answer(objects[i]), want, `${how}: 0x${a.toString(16)} as objects`);
      assert.equal(answer(t.at(i)), want, `${how}: 0x${a.toString(16)} as columns`);
      const r = t.index[i];
      assert.deepEqual(columnFrames(t.chains, t.chain[r]), objects[i].symbol?.frames, `${how}: 0x${a.toString(16)}`);
    });
  };
  // One at a time, in shuffled order: each lookup starts from another's state, often above it.
  for (const a of rng.shuffle([...addrs])) check([a], "one at a time");
  const mixed = rng.shuffle([...addrs]);
  for (let i = 0; i < mixed.length; i += 7) check(mixed.slice(i, i + 7), "batches of 7");
  check([...addrs].reverse(), "descending");
  // Repeats, and the whole again after all the above.
  check([...mixed, ...addrs.slice(0, 50), ...mixed.slice(0, 50)], "repeated");
}

/**
 * The instructions around where `.debug_aranges` ranges start (the units'
 * bounds): `around` before and after each of `n` of them, spread.
 */
function atUnitBounds(file: string, all: bigint[], n: number, around: number): bigint[] {
  const dump = spawnSync("readelf", ["--debug-dump=aranges", installedDebugFile(file) ?? file], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
  }).stdout;
  const starts = [...dump.matchAll(/^\s+([0-9a-f]{16}) ([0-9a-f]{16})$/gm)].map((m) => BigInt("0x" + m[1])).filter((
    a,
  ) => a > 0n);
  const out: bigint[] = [];
  for (const start of sample(starts, n)) {
    let lo = 0, hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (all[mid] < start) lo = mid + 1;
      else hi = mid;
    }
    out.push(...all.slice(Math.max(0, lo - around), lo + around));
  }
  return out;
}

function truthOf(file: string, addrs: bigint[]): Map<bigint, string> {
  const fresh = new Symbolizer().symbolizeFile(file, addrs);
  return new Map(addrs.map((a, i) => [a, answer(fresh[i])]));
}

const tools = haveAddr2line || haveLlvmSymbolizer ? false : "addr2line or llvm-symbolizer is needed";
const LIBC = "/lib/x86_64-linux-gnu/libc.so.6";

test("frames at libc's addresses do not depend on the lookups before, and agree with the tools", {
  skip: tools || (existsSync("/usr/lib/debug/.build-id") ? false : "libc6-dbg is not installed"),
}, () => {
  const libc = realpathSync(LIBC);
  const all = instructionAddresses(libc, [".text"]);
  const bounds = atUnitBounds(libc, all, 40, 3);
  assert.ok(bounds.length > 100, `${bounds.length} addresses at units' bounds`);
  const addrs = [...new Set([...probes(all, 12, 24, 200), ...bounds])].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const truth = truthOf(libc, addrs);
  const framed = addrs.filter((a) => JSON.parse(truth.get(a)!)[3]).length;
  assert.ok(framed > addrs.length * 0.9, `${framed} of ${addrs.length} with frames: the debug file was found`);
  sameEveryWay(libc, addrs, truth, new Symbolizer(), new Rng(seed(20261208)));
  // The fresh batch's frames are the tools' (the threshold and rules of lines_ground_truth_test.ts).
  const t = compare(libc, sample(addrs, 160));
  assert.ok(
    (t.agree + t.nameRule) / t.total >= 0.995,
    `${t.agree + t.nameRule} of ${t.total}:\n${t.misses.join("\n")}`,
  );
});

test("frames in a C++ fixture's units and inline chains do not depend on the lookups before", () => {
  const v = VARIANTS.find((v) => v.name.startsWith("g++") && v.needs.every((t) => has(t)));
  if (!v || tools) return;
  const bin = built(v);
  const addrs = probes(instructionAddresses(bin, [".text"]), 10, 30, 200);
  const truth = truthOf(bin, addrs);
  const deep = addrs.filter((a) => (JSON.parse(truth.get(a)!)[3]?.length ?? 0) > 2).length;
  assert.ok(deep > 20, `${deep} addresses with inline chains deeper than one call`);
  sameEveryWay(bin, addrs, truth, new Symbolizer(), new Rng(seed(20261209)));
  const t = compare(bin, sample(addrs, 160));
  assert.ok(
    (t.agree + t.nameRule) / t.total >= 0.995,
    `${t.agree + t.nameRule} of ${t.total}:\n${t.misses.join("\n")}`,
  );
});
