#!/usr/bin/env node
// By hand, not in run.mjs: what profiling at 99 Hz costs the target. The
// target (tests/fixtures/profile_target.c, `rounds N`) does a fixed amount
// of work and reports the CPU time and wall time it took; it runs alone and
// under examples/profile.ts (-F 99, as a command the profiler starts),
// alternately, several times per runtime. The overhead is the target's own
// cost per unit of work with the profiler over without (medians): the
// sampling interrupts and callchain walks are charged to the target's CPU
// time. The profiler's own CPU time is reported beside it.
//
//   node bench/profile_overhead.mjs [--runs 6] [--rounds 600] [--runtimes deno,bun]
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bin, root } from "../scripts/runtimes.mjs";

const argv = process.argv.slice(2);
const option = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const runs = Number(option("--runs", "6"));
const rounds = option("--rounds", "600");
const runtimes = option("--runtimes", "deno,bun").split(",");
const outDir = join(dirname(fileURLToPath(import.meta.url)), "out");
mkdirSync(outDir, { recursive: true });

const target = join(outDir, "profile_target");
const cc = spawnSync("gcc", [
  "-O2",
  "-g",
  "-fno-omit-frame-pointer",
  "-fno-optimize-sibling-calls",
  "-pthread",
  "-o",
  target,
  join(root, "tests", "fixtures", "profile_target.c"),
], { encoding: "utf8" });
if (cc.status !== 0) throw new Error(cc.stderr);

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
/** The target's {cpu, wall} line from a run's stdout. */
const measured = (stdout) => JSON.parse(stdout.trim().split("\n").filter((l) => l.includes('"cpu"')).at(-1));

function profiled(runtime) {
  const cmd = runtime === "deno"
    ? [bin("deno"), "run", "-A", join(root, "examples", "profile.ts")]
    : [bin("bun"), join(root, "examples", "profile.ts")];
  const r = spawnSync("/usr/bin/time", [
    "-f",
    "PROFILER_CPU %U %S",
    ...cmd,
    "-F",
    "99",
    "-o",
    join(outDir, "overhead.folded"),
    "--",
    target,
    "rounds",
    rounds,
  ], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${runtime}: ${r.stderr}`);
  const [, user, sys] = /PROFILER_CPU ([\d.]+) ([\d.]+)/.exec(r.stderr);
  const samples = Number(/^(\d+) samples/m.exec(r.stdout)?.[1] ?? 0);
  return { ...measured(r.stdout), profilerCpu: Number(user) + Number(sys), samples };
}

for (const runtime of runtimes) {
  const alone = [];
  const under = [];
  for (let i = 0; i < runs; i++) {
    const a = spawnSync(target, ["rounds", rounds], { encoding: "utf8" });
    alone.push(measured(a.stdout));
    under.push(profiled(runtime));
  }
  const cpuA = median(alone.map((x) => x.cpu));
  const cpuP = median(under.map((x) => x.cpu));
  const wallA = median(alone.map((x) => x.wall));
  const wallP = median(under.map((x) => x.wall));
  console.log(
    `${runtime}: target CPU ${cpuA.toFixed(3)} s alone, ${cpuP.toFixed(3)} s profiled at 99 Hz ` +
      `(overhead ${(100 * (cpuP / cpuA - 1)).toFixed(2)}%); wall ${wallA.toFixed(3)} -> ${wallP.toFixed(3)} s ` +
      `(${(100 * (wallP / wallA - 1)).toFixed(2)}%); ${median(under.map((x) => x.samples))} samples; ` +
      `profiler process (start-up included) ${median(under.map((x) => x.profilerCpu)).toFixed(2)} s CPU`,
  );
}
