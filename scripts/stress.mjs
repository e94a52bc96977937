#!/usr/bin/env node
// Runs the reliability tests' long variants (PROCMAP_STRESS=1: millions of
// fuzz cases, tens of thousands of walks under churn, 1,000,000 queries for
// RSS, 100,000 open/close cycles) under Deno and Bun (and, when asked,
// Node.js 26 on the compiled tests in dist/: `npm run build` first), one file
// at a time, streaming their output. Exits non-zero when any run fails.
//
// Usage: node scripts/stress.mjs [deno] [bun] [node26] [tests/x_test.ts ...]
//   (default: Deno and Bun, the files below). PROCMAP_SEED=<n> replays the
//   random inputs of a failed run.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { bin, node26, NODE26_FLAGS, root } from "./runtimes.mjs";

const FILES = [
  "tests/fuzz_test.ts",
  "tests/race_test.ts",
  "tests/lifecycle_test.ts",
  "tests/leak_test.ts",
  "tests/concurrency_test.ts",
  "tests/privilege_test.ts",
];

const commands = {
  // --allow-all as in `npm test`: the tests read /proc/<pid>/maps as ground truth.
  deno: (file) => [bin("deno"), ["test", "--allow-all", file]],
  bun: (file) => [bin("bun"), ["test", "--timeout", "7200000", `./${file}`]],
  node26: (file) => [node26(), [...NODE26_FLAGS, "--test", join("dist", file.replace(/\.ts$/, ".js"))]],
};
const DEFAULT_RUNTIMES = ["deno", "bun"];

const args = process.argv.slice(2);
const runtimes = args.filter((a) => a in commands);
const files = args.filter((a) => !(a in commands));
const env = { ...process.env, PROCMAP_STRESS: "1", NO_COLOR: "1" };

const results = [];
for (const runtime of runtimes.length ? runtimes : DEFAULT_RUNTIMES) {
  for (const file of files.length ? files : FILES) {
    const [cmd, cmdArgs] = commands[runtime](file);
    console.log(`\n$ PROCMAP_STRESS=1 ${[cmd, ...cmdArgs].join(" ")}`);
    const started = Date.now();
    const r = spawnSync(cmd, cmdArgs, { cwd: root, env, stdio: "inherit" });
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    const ok = r.status === 0;
    results.push(
      `${ok ? "ok    " : "FAILED"} ${runtime} ${file} (${seconds} s${ok ? "" : `, exit ${r.status ?? r.signal}`})`,
    );
  }
}
console.log("\n" + results.join("\n"));
const failed = results.filter((l) => l.startsWith("FAILED")).length;
console.log(`stress: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
