#!/usr/bin/env node
// Runs the test suite under each runtime and prints one summary line:
//   tests: N passed, N failed
// Exits non-zero when any runtime fails or its results cannot be read.
// Usage: node scripts/test.mjs [deno] [bun] [node] [node26]   (default: all four)
//   node:   the machine's Node.js (20 here: node:fs, the text backend), on dist/
//   node26: Node.js 26 from npm (node:ffi, the ioctl backend), on dist/
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, writeSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { bin, node26, NODE26_FLAGS, root, systemNode } from "./runtimes.mjs";

const env = { ...process.env, NO_COLOR: "1" };
// Colour escapes some runners print even with NO_COLOR (built from the code: lint bans control characters in regexps).
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");
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
    // --timeout on the command line: Bun 1.4.5 ignores bunfig.toml's [test] timeout (its 5 s default
    // then fails slow tests on a busy machine).
    run(bin("bun"), ["test", "--timeout", "60000", "./tests/"], (out) => {
      const p = /^\s*(\d+) pass$/m.exec(out);
      const f = /^\s*(\d+) fail$/m.exec(out);
      return p && f && { passed: +p[1], failed: +f[1] };
    }),
  node: () => nodeTests(systemNode(), []),
  node26: () => nodeTests(node26(), NODE26_FLAGS),
};

/** The compiled tests under one Node.js; children that run a bare `node` get the same one. */
function nodeTests(node, flags) {
  if (!node) return { passed: 0, failed: 1, note: "this Node.js is not installed (npm ci)" };
  const dir = join(root, "dist", "tests");
  if (!existsSync(dir)) return { passed: 0, failed: 1, note: "dist/tests missing: run `npm run build` first" };
  const files = readdirSync(dir).filter((f) => f.endsWith("_test.js")).map((f) => join(dir, f));
  const nodeEnv = {
    ...env,
    PATH: dirname(node) + delimiter + env.PATH,
    NODE_OPTIONS: [env.NODE_OPTIONS, ...flags].filter(Boolean).join(" "),
  };
  // A per-test limit: node:test has none by default, so one hung child would hang the run.
  return run(node, [...flags, "--test", "--test-timeout=300000", "--test-reporter=tap", ...files], (out) => {
    const p = /^# pass (\d+)$/m.exec(out);
    const f = /^# fail (\d+)$/m.exec(out);
    return p && f && { passed: +p[1], failed: +f[1] };
  }, nodeEnv);
}

/**
 * Writes before the next runtime starts: process.stdout.write() to a pipe waits for the event
 * loop, which spawnSync() blocks, so a later hang would keep this runtime's output unprinted.
 */
function printNow(text) {
  const buf = Buffer.from(text);
  for (let off = 0; off < buf.length;) {
    try {
      off += writeSync(1, buf, off);
    } catch (e) {
      if (e.code !== "EAGAIN") throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10); // the reader is behind
    }
  }
}

/** A whole runtime's limit: a hang fails that runtime (its output so far printed) instead of CI's time. */
const RUN_LIMIT_MS = 25 * 60 * 1000;

function run(cmd, args, parse, runEnv = env) {
  printNow(`\n$ ${[cmd, ...args].join(" ")}\n`);
  const started = Date.now();
  const r = spawnSync(cmd, args, {
    cwd: root,
    env: runEnv,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    timeout: RUN_LIMIT_MS,
    killSignal: "SIGKILL",
  });
  const out = (r.stdout ?? "") + "\n" + (r.stderr ?? "");
  printNow(out);
  const secs = Math.round((Date.now() - started) / 1000);
  printNow(`(${cmd.split("/").at(-1)}: ${secs} s)\n`);
  if (r.error?.code === "ETIMEDOUT" || (r.signal === "SIGKILL" && Date.now() - started >= RUN_LIMIT_MS)) {
    return { passed: 0, failed: 1, note: `killed after ${RUN_LIMIT_MS / 60000} min: the last test printed above hung` };
  }
  const plain = out.replace(ANSI_COLOUR, "");
  const counts = parse(plain);
  if (!counts) return { passed: 0, failed: 1, note: `could not read the results (exit ${r.status}, ${r.error ?? ""})` };
  if (counts.failed > 0) counts.failures = failureExcerpt(plain);
  // A runner that exits non-zero with no failed test still failed (load error, leak check, ...).
  if (r.status !== 0 && counts.failed === 0) return { ...counts, failed: 1, note: `exited with ${r.status}` };
  return counts;
}

/**
 * The failed tests' names and first error lines, printed again beside the summary: CI keeps only
 * the head and tail of a long log, and a failure in the middle of one runtime's output is lost.
 */
function failureExcerpt(out) {
  const lines = out.split("\n");
  const picked = [];
  lines.forEach((line, i) => {
    // Deno: "name => ./tests/x_test.ts:12:3" under FAILURES, the error under ERRORS; Bun: "(fail) name";
    // node:test (tap): "not ok N - name" with its YAML block (error, location) after it.
    if (/ => \S+:\d+:\d+$/.test(line)) picked.push(line.trim());
    else if (/^\(fail\) /.test(line.trim())) {
      // Bun prints the error and its source lines before the test's name.
      const before = lines.slice(Math.max(0, i - 25), i);
      const at = before.findIndex((l) => /^\s+at /.test(l));
      picked.push(...before.filter((l, j) => /Error|!==|expected:|actual:/.test(l) || j === at));
      picked.push(line.trim());
    } else if (/^\s*not ok \d+ - /.test(line)) {
      const block = lines.slice(i, i + 14).filter((l) => /not ok|error:|location:|expected|actual|Error/.test(l));
      picked.push(...block.map((l) => l.trimEnd()));
    }
  });
  const errors = lines.findIndex((l) => l.trim() === "ERRORS");
  if (errors >= 0) picked.push(...lines.slice(errors + 1, errors + 40).filter((l) => l.trim()));
  return [...new Set(picked)].slice(0, 80).join("\n");
}

const wanted = process.argv.slice(2);
const names = wanted.length ? wanted : ["deno", "bun", "node", "node26"];
let passed = 0, failed = 0;
const lines = [];
const failures = [];
for (const name of names) {
  if (!runners[name]) throw new Error(`unknown runtime ${name}`);
  const r = runners[name]();
  passed += r.passed;
  failed += r.failed;
  lines.push(`${name}: ${r.passed} passed, ${r.failed} failed${r.note ? ` (${r.note})` : ""}`);
  if (r.failures) failures.push(`-- ${name} failures:\n${r.failures}`);
}
if (failures.length) console.log("\n" + failures.join("\n"));
console.log("\n" + lines.join("\n"));
console.log(`tests: ${passed} passed, ${failed} failed`);
// exitCode, not exit(): stdout may be a pipe (CI tees it), whose pending writes exit() would drop.
process.exitCode = failed > 0 ? 1 : 0;
