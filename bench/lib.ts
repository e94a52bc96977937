/**
 * Shared harness of the bench/*.bench.ts suites: reads the run's config
 * (written by bench/run.mjs), runs tinybench, and writes results as JSON.
 *
 * Each task does a batch of operations per call (all query addresses, one
 * whole walk, one parse), so every sample is long enough to time well; the
 * reported cost is the median sample divided by the operations in a batch,
 * the same statistic bench/ref.c reports for C.
 * @module
 */
import { readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { Bench } from "tinybench";

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

/** bench/out/config.json. */
export interface Config {
  quick: boolean;
  /** tinybench time budget per task (ms). */
  timeMs: number;
  warmupMs: number;
  targets: Target[];
  resolve: ResolveConfig;
}

/** One measured task. */
export interface Result {
  case: string;
  size: number;
  vmas: number;
  task: string;
  /** Median time per operation (ns). */
  nsPerOp: number;
  /** Fastest sample per operation (ns). */
  minNsPerOp: number;
  opsPerIter: number;
  samples: number;
  /** Relative margin of error of the mean (%). */
  rme: number;
}

/** What a suite writes to --out. */
export interface SuiteOutput {
  suite: string;
  runtime: string;
  runtimeVersion: string;
  results: Result[];
  notes: string[];
}

/** A task: `fn` does `ops` operations per call. */
export interface BenchTask {
  name: string;
  ops: number;
  fn: () => unknown;
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
  constructor(readonly name: string, readonly config: Config) {}

  /** Runs `tasks` side by side (one tinybench run) for one case and target size. */
  async measure(caseId: string, target: Target, tasks: BenchTask[]): Promise<void> {
    const { timeMs, warmupMs } = this.config;
    const bench = new Bench({
      time: timeMs,
      warmupTime: warmupMs,
      // Batches are long; a few samples are enough once the time budget is spent.
      iterations: 5,
      warmupIterations: 2,
      throws: true,
    });
    // Each task starts with a clean heap, so garbage one task leaves behind is
    // not collected on the next task's time.
    for (const t of tasks) bench.add(t.name, t.fn, { beforeAll: collectGarbage });
    await bench.run();
    for (const t of tasks) {
      const r = bench.getTask(t.name)?.result;
      if (!r || r.state !== "completed") throw new Error(`${caseId}/${t.name}: ${r?.state ?? "not run"}`);
      this.results.push({
        case: caseId,
        size: target.size,
        vmas: target.vmas,
        task: t.name,
        nsPerOp: (r.latency.p50 * 1e6) / t.ops,
        minNsPerOp: (r.latency.min * 1e6) / t.ops,
        opsPerIter: t.ops,
        samples: r.latency.samplesCount,
        rme: r.latency.rme,
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
