// Case 9: start-up. Fresh processes of each runtime, interleaved: an empty script, one that
// imports procmap, and one that imports it and symbolizes one libc address with its debug file
// (bench/startup_child.mjs). Each process's wall time is measured from outside (spawn to exit),
// and the child reports its own import and first symbolize() (wall clock and main-thread CPU).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const MODES = ["empty", "import", "symbolize", "warm"];
/** The label's suffix for tsc's output unbundled. */
export const UNBUNDLED = "dist/mod.js, unbundled";

const median = (xs) => {
  const s = xs.filter((x) => x !== undefined).sort((a, b) => a - b);
  if (!s.length) return undefined;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Runs `runs` rounds of the modes for each entry of `commands` ({ label, argv(mode) }), every
 * command and mode in each round (so a slow stretch of a shared machine lands on all of them):
 * returns per label the medians.
 */
export function measureStartup({ commands, runs, log }) {
  const results = {};
  // One run of each first, not counted: caches (Deno's transpiled modules, the page cache) warm.
  for (const c of commands) for (const mode of MODES) once(c, mode);
  const samplesOf = new Map(commands.map((c) => [c, Object.fromEntries(MODES.map((m) => [m, []]))]));
  for (let r = 0; r < runs; r++) {
    const order = r % 2 ? [...MODES].reverse() : MODES;
    for (const c of r % 2 ? [...commands].reverse() : commands) {
      for (const mode of order) samplesOf.get(c)[mode].push(once(c, mode));
    }
  }
  for (const c of commands) {
    const samples = samplesOf.get(c);
    const wall = (m) => median(samples[m].map((s) => s.processMs));
    const field = (m, k) => median(samples[m].map((s) => s[k]));
    const sym = samples.symbolize.find((s) => s.symbol);
    results[c.label] = {
      runs,
      emptyMs: wall("empty"),
      importProcessMs: wall("import"),
      importOverEmptyMs: wall("import") - wall("empty"),
      importMs: field("import", "importMs"),
      importCpuMs: field("import", "importCpuMs"),
      symbolizeMs: field("symbolize", "symbolizeMs"),
      symbolizeCpuMs: field("symbolize", "symbolizeCpuMs"),
      warmSymbolizeMs: field("warm", "symbolizeMs"),
      warmSymbolizeCpuMs: field("warm", "symbolizeCpuMs"),
      symbol: sym ? `${sym.symbol} (${sym.source})` : undefined,
    };
    log(`  startup ${c.label}: ${JSON.stringify(results[c.label])}`);
  }
  return results;
}

function once(c, mode) {
  const argv = c.argv(mode);
  const t0 = performance.now();
  const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  const processMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${c.label} ${mode} failed (${r.status}): ${r.stderr}`);
  return { ...JSON.parse(r.stdout.trim().split("\n").pop()), processMs };
}

/**
 * The commands for each runtime: the package as npm ships it (the bundle its exports name), and for
 * comparison tsc's output unbundled (dist/mod.js, what the package shipped before) and, in Deno, the source.
 */
export function startupCommands({ root, bin, node26, node26Flags, runtimes }) {
  const child = join(root, "bench", "startup_child.mjs");
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const dist = join(root, pkg.exports["."].default);
  const unbundled = join(root, "dist", "mod.js");
  const commands = [];
  const add = (label, argv) => {
    commands.push({ label, argv: (m) => [...argv, child, m, dist] });
    commands.push({ label: `${label} (${UNBUNDLED})`, argv: (m) => [...argv, child, m, unbundled] });
  };
  if (runtimes.includes("deno")) {
    add("deno", [bin("deno"), "run", "-A"]);
    commands.push({ label: "deno (mod.ts)", argv: (m) => [bin("deno"), "run", "-A", child, m, join(root, "mod.ts")] });
  }
  if (runtimes.includes("bun")) add("bun", [bin("bun")]);
  if (runtimes.includes("node26") && node26) add("node26", [node26, ...node26Flags]);
  return commands;
}
