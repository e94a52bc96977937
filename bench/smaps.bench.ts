/**
 * Case 6: `smapsSync()` over every VMA of a process, against C reading and
 * parsing the same smaps text (bench/smaps_ref.c, mode smaps-parse), and
 * the kernel's share: C only reading it (smaps-read), which is mostly the
 * kernel's page-table walk and formatting. Cost per VMA.
 *
 *   <runtime> bench/smaps.bench.ts --config bench/out/config.json [--out file]   (from bench/run.mjs)
 *   <runtime> bench/smaps.bench.ts [--vmas 10000] [--time-ms 400]                (alone: starts its own target)
 *
 * The C reference runs right before and right after each JS measurement of
 * the same target (the two averaged);
 * its figures are added to the results as tasks "C read+parse" and
 * "C read (kernel)", and the ratios are in the notes.
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { ProcMaps } from "../mod.ts";
import { check, type Config, loadConfig, sink, Suite, type Target } from "./lib.ts";

const benchDir = dirname(fileURLToPath(import.meta.url));
const outDir = join(benchDir, "out");

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function gcc(name: string, extra: string[] = []): string {
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, name);
  const r = spawnSync("gcc", ["-O2", "-Wall", "-Wextra", ...extra, "-o", out, join(benchDir, `${name}.c`)], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`gcc ${name}.c failed: ${r.stderr || r.error}`);
  return out;
}

interface CResult {
  mode: string;
  nsPerOp: number;
  minNsPerOp: number;
  runs: number;
  opsPerRun: number;
}

function runC(bin: string, pid: number, budgetMs: number): Map<string, CResult> {
  const r = spawnSync(bin, ["smaps-read,smaps-parse", String(pid), String(budgetMs)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`smaps_ref failed (${r.status}): ${r.stderr}`);
  const out = new Map<string, CResult>();
  for (const line of r.stdout.trim().split("\n")) {
    const c = JSON.parse(line) as CResult;
    out.set(c.mode, c);
  }
  return out;
}

/** Without --config: one target of --vmas VMAs (bench/target.c), stopped when done. */
async function ownConfig(): Promise<{ config: Config; stop: () => void }> {
  const bin = gcc("target", ["-Wl,--build-id"]);
  const size = Number(arg("--vmas") ?? 10000);
  const dir = mkdtempSync(join(tmpdir(), "procmap-bench-"));
  const child = spawn(bin, [String(size), dir], { stdio: ["pipe", "pipe", "inherit"] });
  const info = await new Promise<{ pid: number; vmas: number }>((resolve, reject) => {
    let buf = "";
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (d: string) => {
      buf += d;
      if (buf.includes("\n")) resolve(JSON.parse(buf.slice(0, buf.indexOf("\n"))));
    });
    child.on("exit", (code) => reject(new Error(`target exited with ${code}`)));
  });
  const target: Target = { size, vmas: info.vmas, pid: info.pid, addrsFile: "-", mapsFile: "-" };
  const timeMs = Number(arg("--time-ms") ?? 400);
  const config: Config = {
    quick: false,
    timeMs,
    warmupMs: 100,
    rounds: 4,
    targets: [target],
    resolve: { target, samples: [] },
  };
  return {
    config,
    stop: () => {
      child.removeAllListeners("exit");
      child.stdin!.end();
      spawnSync("rm", ["-rf", dir]);
    },
  };
}

const own = arg("--config") ? undefined : await ownConfig();
const suite = new Suite("smaps", own?.config ?? loadConfig());
const ref = gcc("smaps_ref");
try {
  // Up to the 10,000 VMAs (run.mjs's resolve target is that size even
  // in --quick runs): larger ones cost seconds per smaps read.
  const targets = new Map<number, Target>();
  for (const t of [...suite.config.targets, suite.config.resolve.target]) if (t.size <= 10000) targets.set(t.size, t);
  for (const target of [...targets.values()].sort((a, b) => a.size - b.size)) {
    using maps = ProcMaps.open(target.pid);
    const count = [...maps.smapsSync()].length;
    check(count === target.vmas, `smaps lists every VMA (${count} vs ${target.vmas})`);
    // C before and after the JS task, averaged: the kernel's share is large
    // and moves with the load on the machine, so both sides should see the same.
    const before = runC(ref, target.pid, suite.config.timeMs);
    await suite.measure("smaps", target, [
      {
        name: "smapsSync",
        ops: count,
        fn: () => {
          let n = 0;
          for (const e of maps.smapsSync()) n += e.rss!;
          sink(n);
        },
      },
    ]);
    const js = suite.results[suite.results.length - 1];
    const after = runC(ref, target.pid, suite.config.timeMs);
    const avg = (mode: string): CResult => {
      const a = before.get(mode)!, b = after.get(mode)!;
      check(a.opsPerRun === count && b.opsPerRun === count, "C sees the same VMAs");
      return {
        mode,
        nsPerOp: (a.nsPerOp + b.nsPerOp) / 2,
        minNsPerOp: Math.min(a.minNsPerOp, b.minNsPerOp),
        runs: a.runs + b.runs,
        opsPerRun: count,
      };
    };
    const parse = avg("smaps-parse"), read = avg("smaps-read");
    for (const [task, r] of [["C read+parse", parse], ["C read (kernel)", read]] as const) {
      suite.results.push({
        case: "smaps",
        size: target.size,
        vmas: target.vmas,
        task,
        nsPerOp: r.nsPerOp,
        minNsPerOp: r.minNsPerOp,
        opsPerIter: r.opsPerRun,
        samples: r.runs,
        rme: 0,
      });
    }
    suite.notes.push(
      `smaps @${target.vmas} VMAs: smapsSync ${(js.nsPerOp / 1000).toFixed(2)} us/VMA = ` +
        `${(js.nsPerOp / parse.nsPerOp).toFixed(2)}x C read+parse (${(parse.nsPerOp / 1000).toFixed(2)} us); ` +
        `the kernel (C read only, ${(read.nsPerOp / 1000).toFixed(2)} us) is ` +
        `${(100 * read.nsPerOp / js.nsPerOp).toFixed(0)}% of smapsSync and ` +
        `${(100 * read.nsPerOp / parse.nsPerOp).toFixed(0)}% of C; fastest samples: ` +
        `${(js.minNsPerOp / parse.minNsPerOp).toFixed(2)}x C`,
    );
  }
} finally {
  own?.stop();
}
suite.finish();
