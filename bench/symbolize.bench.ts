/**
 * Symbolization costs, one run, side by side (not part of run.mjs's suites;
 * run it directly):
 *
 *   deno run -A bench/symbolize.bench.ts     bun bench/symbolize.bench.ts
 *
 * 1. warm: `maps.symbolize()` of 100,000 addresses sampled from a C++
 *    process's executable file mappings (the binary, libstdc++, libm,
 *    libgcc_s, libc, ld.so), with every table already cached: cost per
 *    address (target: at most 0.5 us);
 * 2. cold: the first `symbolizeFile()` of libc with libc6-dbg's debug file,
 *    a fresh Symbolizer each time (target: under 20 ms);
 * 3. 1,000 of those (libc, ELF address) pairs through `addr2line -f -e`
 *    and `llvm-symbolizer`, one process for all of them (their cost per
 *    address includes reading DWARF line tables, which procmap does not).
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { ProcMaps, Symbolizer } from "../mod.ts";

const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined"
  ? "bun"
  : typeof (globalThis as { Deno?: unknown }).Deno !== "undefined"
  ? "deno"
  : "node";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** Median of `runs` timings of fn, in ms. */
function time(runs: number, fn: () => void): number {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    out.push(performance.now() - t0);
  }
  return median(out);
}

/** A deterministic xorshift, so every runtime samples the same addresses. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const dir = mkdtempSync(join(tmpdir(), "procmap-symbench-"));
const src = new URL("../tests/fixtures/sym_target_cpp.cc", import.meta.url).pathname;
const bin = join(dir, "target");
const cc = spawnSync("g++", ["-O2", "-g", "-o", bin, src], { encoding: "utf8" });
if (cc.status !== 0) throw new Error(`g++: ${cc.stderr}`);
// Started with a stdin that stays open until it is killed.
const proc = spawn(bin, [], { stdio: ["pipe", "pipe", "inherit"] });
await new Promise((r) => proc.stdout!.once("data", r));
const pid = proc.pid!;
const lines: string[] = [];
try {
  using maps = ProcMaps.open(pid);
  const code = [...maps.vmasSync({ executable: true, fileBacked: true })];
  const next = rng(20261201);
  const addrs: bigint[] = [];
  for (let i = 0; i < 100_000; i++) {
    const v = code[Math.floor(next() * code.length)];
    addrs.push(v.start + BigInt(Math.floor(next() * Number(v.end - v.start))));
  }
  const symbolizer = new Symbolizer();
  const first = maps.symbolize(addrs, { symbolizer });
  const named = first.filter((r) => r?.symbol).length;
  maps.symbolize(addrs, { symbolizer }); // JIT warm-up
  const warm = time(7, () => maps.symbolize(addrs, { symbolizer }));
  const resolveOnly = time(7, () => maps.resolve(addrs));
  lines.push(
    `warm symbolize: ${((warm * 1000) / addrs.length).toFixed(3)} us/address (resolve alone ${
      ((resolveOnly * 1000) / addrs.length).toFixed(3)
    }); ${named} of ${addrs.length} named, over ${code.length} executable VMAs`,
  );

  const libc = realpathSync("/lib/x86_64-linux-gnu/libc.so.6");
  const lnext = rng(7);
  const libcAddrs = Array.from({ length: 10_000 }, () => BigInt(0x28000 + Math.floor(lnext() * 0x150000)));
  let source = "";
  const cold = time(9, () => {
    const r = new Symbolizer().symbolizeFile(libc, [libcAddrs[0]]);
    source = r[0].symbol?.source ?? String(r[0].symbolReason);
  });
  lines.push(`cold libc (first use, ${source}): ${cold.toFixed(2)} ms`);
  const s = new Symbolizer();
  s.symbolizeFile(libc, libcAddrs);
  const warmFile = time(7, () => s.symbolizeFile(libc, libcAddrs));
  const ours = (warmFile * 1000) / libcAddrs.length;
  lines.push(`symbolizeFile warm, 10,000 libc addresses: ${ours.toFixed(3)} us/address`);
  // The tools get the first 1,000 pairs (they take milliseconds per address).
  const toolAddrs = libcAddrs.slice(0, 1000);
  const hex = toolAddrs.map((a) => "0x" + a.toString(16)).join("\n") + "\n";
  for (const [tool, args] of [["addr2line", ["-f", "-e", libc]], ["llvm-symbolizer", [`--obj=${libc}`]]] as const) {
    const t0 = performance.now();
    const r = spawnSync(tool, [...args], { input: hex, encoding: "utf8", maxBuffer: 256 << 20, timeout: 120_000 });
    const ms = performance.now() - t0;
    if (r.status !== 0 || r.error) {
      lines.push(`${tool}: not available (${r.error ?? r.stderr.trim()})`);
      continue;
    }
    const per = (ms * 1000) / toolAddrs.length;
    lines.push(
      `${tool} (one process, 1,000 addresses, reads line tables too): ${per.toFixed(2)} us/address, ` +
        `${(per / ours).toFixed(0)}x procmap's warm cost`,
    );
  }
} finally {
  proc.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
}
console.log(`# symbolize bench (${runtime}, ${new Date().toISOString()})`);
for (const l of lines) console.log(l);
process.exitCode = 0;
