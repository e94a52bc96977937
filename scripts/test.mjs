#!/usr/bin/env node
// Runs the test suite under each runtime and prints one summary line:
//   tests: N passed, N failed
// Exits non-zero when any runtime fails or its results cannot be read.
// Usage: node scripts/test.mjs [deno] [bun] [node]   (default: all three)
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const env = { ...process.env, NO_COLOR: "1" };
delete env.FORCE_COLOR;

// Deno: --allow-all, because Deno grants reads of /proc/<pid>/maps (the tests' ground truth)
// only with it; the library itself needs just --allow-ffi.
const DENO_TEST = ["test", "--allow-all", "tests/"];

const runners = {
  deno: () =>
    run(bin("deno"), DENO_TEST, (out) => {
      const m = /(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/.exec(out);
      return m && { passed: +m[1], failed: +m[2] };
    }),
  bun: () =>
    // --timeout: Bun 1.4 applies bunfig.toml's test timeout to bun:test only, not to
    // node:test tests, which otherwise get 5 s (too little on a loaded machine).
    run(bin("bun"), ["test", "--timeout", "60000", "./tests/"], (out) => {
      const p = /^\s*(\d+) pass$/m.exec(out);
      const f = /^\s*(\d+) fail$/m.exec(out);
      return p && f && { passed: +p[1], failed: +f[1] };
    }),
  node: () => {
    const dir = join(root, "dist", "tests");
    if (!existsSync(dir)) return { passed: 0, failed: 1, note: "dist/tests missing: run `npm run build` first" };
    const files = readdirSync(dir).filter((f) => f.endsWith("_test.js")).map((f) => join(dir, f));
    return run(process.execPath, ["--test", "--test-reporter=tap", ...files], (out) => {
      const p = /^# pass (\d+)$/m.exec(out);
      const f = /^# fail (\d+)$/m.exec(out);
      return p && f && { passed: +p[1], failed: +f[1] };
    });
  },
};

function run(cmd, args, parse) {
  console.log(`\n$ ${[cmd, ...args].join(" ")}`);
  const r = spawnSync(cmd, args, { cwd: root, env, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  const out = (r.stdout ?? "") + "\n" + (r.stderr ?? "");
  process.stdout.write(out);
  const counts = parse(out.replace(/\x1b\[[0-9;]*m/g, ""));
  if (!counts) return { passed: 0, failed: 1, note: `could not read the results (exit ${r.status}, ${r.error ?? ""})` };
  // A runner that exits non-zero with no failed test still failed (load error, leak check, ...).
  if (r.status !== 0 && counts.failed === 0) return { ...counts, failed: 1, note: `exited with ${r.status}` };
  return counts;
}

const wanted = process.argv.slice(2);
const names = wanted.length ? wanted : ["deno", "bun", "node"];
let passed = 0, failed = 0;
const lines = [];
for (const name of names) {
  if (!runners[name]) throw new Error(`unknown runtime ${name}`);
  const r = runners[name]();
  passed += r.passed;
  failed += r.failed;
  lines.push(`${name}: ${r.passed} passed, ${r.failed} failed${r.note ? ` (${r.note})` : ""}`);
}
console.log("\n" + lines.join("\n"));
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
