// Case 9: start-up. Fresh processes of each runtime, interleaved: an empty script, one that
// imports procmap, and one that imports it and symbolizes one libc address with its debug file
// (bench/startup_child.mjs). Each process's wall time is measured from outside (spawn to exit),
// and the child reports its own import and first symbolize() (wall clock and main-thread CPU).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { inflateSync } from "node:zlib";

const MODES = ["empty", "import", "symbolize", "warm", "nolines"];
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
  const floor = inflateFloorMs();
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
      noLinesSymbolizeMs: field("nolines", "symbolizeMs"),
      noLinesSymbolizeCpuMs: field("nolines", "symbolizeCpuMs"),
      inflateFloorMs: floor,
      warmSymbolizeMs: field("warm", "symbolizeMs"),
      warmSymbolizeCpuMs: field("warm", "symbolizeCpuMs"),
      symbol: sym ? `${sym.symbol} (${sym.source})` : undefined,
    };
    log(`  startup ${c.label}: ${JSON.stringify(results[c.label])}`);
  }
  return results;
}

/**
 * What a first symbolize() with source lines paid before it read compressed sections only as far as the address's
 * unit: inflating the zlib-compressed .debug_info and .debug_line of libc's debug file (libc6-dbg) whole, in this
 * process's zlib: its CPU time (the least of 5; the sync inflate runs on this thread), comparable with the children's
 * main-thread CPU time. (A zlib stream has no random access: a unit near the end still needs the stream inflated up
 * to it.) Undefined where there is no such file or section.
 */
function inflateFloorMs() {
  const note = spawnSync("readelf", ["-n", "/lib/x86_64-linux-gnu/libc.so.6"], { encoding: "utf8" });
  const id = /Build ID: ([0-9a-f]+)/.exec(note.stdout ?? "")?.[1];
  if (!id) return undefined;
  const debug = `/usr/lib/debug/.build-id/${id.slice(0, 2)}/${id.slice(2)}.debug`;
  const dir = mkdtempSync(join(tmpdir(), "procmap-floor-"));
  try {
    let total = 0;
    for (const name of ["debug_info", "debug_line"]) {
      const out = join(dir, name);
      const r = spawnSync("objcopy", [`--dump-section=.${name}=${out}`, debug, join(dir, "junk")]);
      if (r.status !== 0) return undefined;
      const b = readFileSync(out);
      // An Elf64_Chdr of type 1 (zlib), then the stream.
      if (b.length < 24 || b.readUInt32LE(0) !== 1) return undefined;
      let best = Infinity;
      for (let i = 0; i < 5; i++) {
        const t0 = process.cpuUsage();
        inflateSync(b.subarray(24));
        const t = process.cpuUsage(t0);
        best = Math.min(best, (t.user + t.system) / 1000);
      }
      total += best;
    }
    return total;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
