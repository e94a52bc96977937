/**
 * Case 8: a real profile. The distinct user-space addresses of a `perf
 * record -g` of a busy Node.js process (bench/profile.mjs), resolved while
 * it runs: `resolveTable()` (columns; a BigUint64Array in) and `resolve()`
 * (objects) against the naive JavaScript a user would write (read the maps
 * text, split, a regular expression per line, BigInt, a binary search and an
 * object per address), each strategy, and the VMA lookups alone (the
 * queries resolve() makes, or one text read): the floor the per-address
 * work adds to. Before timing, every address is checked against the maps
 * text and every frame in a file against the file offset perf printed.
 * @module
 */
import { readFileSync } from "node:fs";
import { ProcMaps, type ResolveStrategy } from "../mod.ts";
import { type BaselineVma, parseMapsBaseline } from "./baseline_parser.ts";
import { check, loadConfig, sink, Suite } from "./lib.ts";

const suite = new Suite("profile", loadConfig());
const profile = suite.config.profile;
check(profile, "the config has a recorded profile (run.mjs records one where perf works)");
const pid = profile.pid;
const lines = (file: string) => readFileSync(file, "utf8").split("\n").filter((l) => l !== "");
const distinct = lines(profile.distinctFile).map((l) => BigInt(l));
const big = BigUint64Array.from(distinct);
const u = distinct.length;

/** The naive code: the maps text, split, a regular expression per line, BigInt, a binary search per address. */
function naive(addrs: bigint[]): ({ name: string; fileOffset: bigint | undefined } | null)[] {
  const rows = parseMapsBaseline(readFileSync(`/proc/${pid}/maps`, "utf8"));
  return addrs.map((a) => {
    let lo = 0, hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (rows[mid].end <= a) lo = mid + 1;
      else hi = mid;
    }
    const r = rows[lo];
    if (!r || r.start > a) return null;
    return { name: r.name, fileOffset: r.inode !== 0n ? a - r.start + r.offset : undefined };
  });
}

using maps = ProcMaps.open(pid);
using text = ProcMaps.open(pid, { backend: "text" });

// ---- preconditions: procmap's answers are the maps text's and perf's own ----
{
  const rows: BaselineVma[] = parseMapsBaseline(readFileSync(`/proc/${pid}/maps`, "utf8"));
  const got = maps.resolve(distinct);
  let files = 0;
  for (let i = 0; i < u; i++) {
    const a = distinct[i];
    const row = rows.find((r) => a >= r.start && a < r.end);
    // Files stay put while the process runs; its heap and JIT code may move between two reads.
    if (!row || row.inode === 0n) continue;
    const r = got[i];
    check(
      r && r.vma.start === row.start && r.vma.end === row.end && r.name === row.name &&
        r.fileOffset === a - row.start + row.offset,
      `0x${a.toString(16)} resolves to its maps line (${row.name})`,
    );
    files++;
  }
  const perf = JSON.parse(readFileSync(profile.expectFile, "utf8")) as [string, string, string][];
  const byAddr = new Map(distinct.map((a, i) => [a, got[i]]));
  for (const [addr, offset, dso] of perf) {
    const r = byAddr.get(BigInt(addr));
    check(r && r.fileOffset === BigInt(offset) && r.name === dso, `${addr}: perf's file offset ${offset} in ${dso}`);
  }
  const table = maps.resolveTable(big);
  suite.facts.plan = table.plan.strategy;
  suite.facts.vmasTouched = table.vmas.length;
  suite.notes.push(
    `profile: ${profile.samples} samples of ${profile.seconds} s, ${profile.frames} user frames, ${u} distinct ` +
      `addresses over ${rows.length} VMAs; ${table.vmas.length} VMAs touched; ${files} addresses in files checked ` +
      `against the maps text, ${perf.length} against perf's own file offsets (${profile.alignedSamples} samples ` +
      `aligned); the planner: ${table.plan.strategy} (${table.plan.reason})`,
  );
}

// ---- the floor: the queries resolve() makes (one per VMA or gap touched), or one text read ----
const seeks: bigint[] = [];
{
  const known: [bigint, bigint][] = [];
  for (const a of distinct) {
    if (known.some(([s, e]) => a >= s && a < e)) continue;
    seeks.push(a);
    const v = maps.query(a, { coveringOrNext: true });
    known.push(v && v.start <= a ? [v.start, v.end] : [a & ~0xfffn, v ? v.start : 1n << 64n]);
  }
  suite.notes.push(`profile: ${seeks.length} queries for ${u} distinct addresses (the ioctl's VMA lookups)`);
  suite.facts.queries = seeks.length;
}
const COVERING = { coveringOrNext: true };

const strategyTask = (strategy: ResolveStrategy) => ({
  name: `resolveTable() ${strategy}`,
  ops: u,
  fn: () => sink(maps.resolveTable(big, { strategy }).length),
});

await suite.measure("profile", { size: u, vmas: lines(profile.mapsFile).length, pid } as never, [
  { name: "naive JS", ops: u, fn: () => sink(naive(distinct).length) },
  { name: "resolve()", ops: u, fn: () => sink(maps.resolve(distinct).length) },
  { name: "resolveTable()", ops: u, fn: () => sink(maps.resolveTable(big).length) },
  strategyTask("ioctl"),
  strategyTask("text"),
  {
    name: "queries (floor)",
    ops: u,
    fn: () => {
      let n = 0;
      for (const a of seeks) n += maps.query(a, COVERING)?.name?.length ?? 0;
      sink(n);
    },
  },
  {
    name: "text read (floor)",
    ops: u,
    fn: () => {
      text.refresh();
      sink(text.query(distinct[0])?.name?.length ?? 0);
    },
  },
]);
suite.finish();
