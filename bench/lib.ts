/**
 * Shared harness of the bench/*.bench.ts suites: reads the run's config
 * (written by bench/run.mjs), runs tinybench, and writes results as JSON.
 *
 * Each task does a batch of operations per call (all query addresses, one
 * whole walk, one parse), so every sample is long enough to time well; the
 * reported cost is a batch's time divided by the operations in it (the
 * fastest batch, and the median), the statistics bench/ref.c reports for C.
 * The tasks of one measurement run in interleaved rounds, the C reference
 * among them where a suite has one (bench/ref_lib.ts).
 * @module
 */
import { readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { Bench } from "tinybench";
import { loadRef, REF_MODE, type RefBatch, type RefMode } from "./ref_lib.ts";
import { getLibc } from "../ffi/mod.ts";

/** One target process (bench/target.c) as run.mjs started it. */
export interface Target {
  /** Requested number of VMAs. */
  size: number;
  /** VMAs it really has (lines of its maps). */
  vmas: number;
  pid: number;
  /** Query addresses spread across its VMAs, one hex address per line. */
  addrsFile: string;
  /** Its maps text as saved when it was ready. */
  mapsFile: string;
}

/** Case 4: sampled addresses over one target. */
export interface ResolveConfig {
  target: Target;
  samples: { count: number; file: string }[];
}

/** Case 8: a recorded profile of a busy process (bench/profile.mjs), still running. */
export interface ProfileConfig {
  pid: number;
  seconds: number;
  samples: number;
  frames: number;
  distinct: number;
  alignedSamples: number;
  /** Every user-space frame's address, one hex address per line, in sample order. */
  framesFile: string;
  /** The distinct ones, in order of first appearance. */
  distinctFile: string;
  /** [address, file offset, file] for frames perf printed as file offsets (JSON). */
  expectFile: string;
  /** The process's maps at the end of the recording. */
  mapsFile: string;
}

/** bench/out/config.json. */
export interface Config {
  quick: boolean;
  /** tinybench time budget per task (ms), over all rounds. */
  timeMs: number;
  /**
   * Rounds per measurement: each runs every task for its share of the time
   * budget, in alternating order, so that a slow stretch of the host's (they
   * last seconds here) lands on every task rather than on one. Default 4.
   */
  rounds?: number;
  warmupMs: number;
  targets: Target[];
  resolve: ResolveConfig;
  /** Case 8's profile, when perf could record one. */
  profile?: ProfileConfig;
  /** bench/ref.c built as a shared library, for the in-process C tasks. */
  refLib?: string;
}

/** One measured task. */
export interface Result {
  case: string;
  size: number;
  vmas: number;
  task: string;
  /** For the in-process C reference: the bench/ref.c mode it ran. */
  cMode?: RefMode;
  /** Median time per operation (ns): the median of the rounds' medians. */
  nsPerOp: number;
  /** Fastest sample per operation (ns). */
  minNsPerOp: number;
  opsPerIter: number;
  samples: number;
  /** Relative margin of error of the mean (%), in the worst round. */
  rme: number;
}

/** What a suite writes to --out. */
export interface SuiteOutput {
  suite: string;
  runtime: string;
  runtimeVersion: string;
  results: Result[];
  notes: string[];
  /** Figures a suite reports besides its timings (e.g. the strategy its planner chose). */
  facts: Record<string, unknown>;
}

/** A task: `fn` does `ops` operations per call. */
export interface BenchTask {
  name: string;
  ops: number;
  fn: () => unknown;
  cMode?: RefMode;
  /** Memory the task's C reads by address, kept alive with the task. */
  keep?: unknown;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function arg(name: string): string | undefined {
  const argv = process.argv.slice(2);
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** The runtime running this suite. */
export const runtime: { name: string; version: string } = process.versions.bun
  ? { name: "bun", version: process.versions.bun }
  : process.versions.deno
  ? { name: "deno", version: process.versions.deno }
  : { name: "node", version: process.versions.node };

/** Loads the config named by `--config`. */
export function loadConfig(): Config {
  const path = arg("--config");
  if (!path) {
    throw new Error(
      "usage: <suite>.bench.ts --config bench/out/config.json [--out file]; `node bench/run.mjs` writes the config",
    );
  }
  return JSON.parse(readFileSync(path, "utf8")) as Config;
}

/** Reads an address file (one hex address per line). */
export function readAddrs(path: string): bigint[] {
  return readFileSync(path, "utf8").split("\n").filter((l) => l !== "").map((l) => BigInt(l));
}

/** A full garbage collection, where the runtime offers one (Bun; Deno with --v8-flags=--expose-gc). */
const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
const collectGarbage: () => void = g.Bun ? () => g.Bun!.gc(true) : g.gc ?? (() => {});

let sinkValue = 0;
/** Keeps a result observable so no engine can drop the work producing it. */
export function sink(x: number): void {
  sinkValue = (sinkValue + x) | 0;
}

/** Collects one suite's results and writes them at the end. */
export class Suite {
  readonly results: Result[] = [];
  readonly notes: string[] = [];
  readonly facts: Record<string, unknown> = {};
  #ref: RefBatch | undefined;
  constructor(readonly name: string, readonly config: Config) {}

  /**
   * A task running bench/ref.c's `mode` in this process, one FFI call per
   * batch; `data` is what the mode reads (the query addresses, or the
   * text for parse), copied. Costed per operation of the JS tasks (`ops`),
   * so ratios compare whole batches: C's ioctl walk stops one VMA short
   * ([vsyscall], which the ioctl never reports and procmap's walk adds).
   */
  cTask(mode: RefMode, fd: number, data: BigUint64Array | Uint8Array | undefined, ops: number): BenchTask {
    check(this.config.refLib, "the config names bench/ref.c's shared library (run.mjs builds it)");
    const batch = this.#ref ??= loadRef(this.config.refLib);
    const m = REF_MODE[mode];
    // C's own copy, on an explicit ArrayBuffer (a small typed array's bytes may move with the
    // garbage collector in JavaScriptCore), kept alive by the task.
    let bytes: Uint8Array | undefined;
    if (data !== undefined) {
      bytes = new Uint8Array(new ArrayBuffer(data.byteLength));
      bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
    const at = bytes ? getLibc().addressOf(bytes) : 0n;
    const n = data ? data.length : 0;
    const done = batch(m, fd, at, n);
    check(done === ops || done === ops - 1, `C ${mode} does the ${ops} operations JS does (it did ${done})`);
    return { name: `C ${mode}`, ops, cMode: mode, fn: () => batch(m, fd, at, n), keep: bytes };
  }

  /** Runs `tasks` side by side, in interleaved tinybench rounds, for one case and target size. */
  async measure(caseId: string, target: Target, tasks: BenchTask[]): Promise<void> {
    const { timeMs, warmupMs } = this.config;
    const rounds = this.config.rounds ?? 4;
    const stats = new Map(tasks.map((t) => [t, { min: Infinity, p50: [] as number[], samples: 0, rme: 0 }]));
    for (let round = 0; round < rounds; round++) {
      const bench = new Bench({
        time: timeMs / rounds,
        // The optimising compilers warm up once; later rounds only refill caches.
        warmupTime: round === 0 ? warmupMs : warmupMs / 10,
        // Batches are long; a few samples are enough once the time budget is spent.
        iterations: 2,
        warmupIterations: 1,
        throws: true,
      });
      // Each task starts with a clean heap, so garbage one task leaves behind is
      // not collected on the next task's time.
      const order = round % 2 ? [...tasks].reverse() : tasks;
      for (const t of order) bench.add(t.name, t.fn, { beforeAll: collectGarbage });
      await bench.run();
      for (const t of tasks) {
        const r = bench.getTask(t.name)?.result;
        if (!r || r.state !== "completed") throw new Error(`${caseId}/${t.name}: ${r?.state ?? "not run"}`);
        const acc = stats.get(t)!;
        acc.min = Math.min(acc.min, r.latency.min);
        acc.p50.push(r.latency.p50);
        acc.samples += r.latency.samplesCount;
        acc.rme = Math.max(acc.rme, r.latency.rme);
      }
    }
    for (const t of tasks) {
      const acc = stats.get(t)!;
      this.results.push({
        case: caseId,
        size: target.size,
        vmas: target.vmas,
        task: t.name,
        ...(t.cMode ? { cMode: t.cMode } : {}),
        nsPerOp: (median(acc.p50) * 1e6) / t.ops,
        minNsPerOp: (acc.min * 1e6) / t.ops,
        opsPerIter: t.ops,
        samples: acc.samples,
        rme: acc.rme,
      });
    }
    process.stderr.write(
      `  ${runtime.name} ${this.name} ${caseId} @${target.size}: ${tasks.map((t) => t.name).join(", ")} done\n`,
    );
  }

  /** Writes the results to `--out`, or prints them when there is none. */
  finish(): void {
    const out: SuiteOutput = {
      suite: this.name,
      runtime: runtime.name,
      runtimeVersion: runtime.version,
      results: this.results,
      notes: this.notes,
      facts: this.facts,
    };
    const path = arg("--out");
    if (path) writeFileSync(path, JSON.stringify(out, null, 1) + "\n");
    else {
      console.table(
        this.results.map((r) => ({ case: r.case, vmas: r.vmas, task: r.task, "ns/op": r.nsPerOp.toFixed(1) })),
      );
      for (const n of this.notes) console.log(n);
    }
    if (sinkValue === 0.5) console.log("unreachable"); // reads the sink
  }
}

/** Throws when a benchmark's precondition does not hold (a wrong benchmark is worse than none). */
export function check(ok: unknown, what: string): asserts ok {
  if (!ok) throw new Error(`benchmark precondition failed: ${what}`);
}

/** A deterministic xorshift in [0, 1), so every runtime (and tool) gets the same addresses. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}
