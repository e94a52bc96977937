// Case 9: start-up. Fresh processes of each runtime, interleaved: an empty script, one that
// imports procmap, and one that imports it and symbolizes one libc address with its debug file
// (bench/startup_child.mjs). Each process's wall time is measured from outside (spawn to exit),
// and the child reports its own import and first symbolize() (wall clock and main-thread CPU).
import { spawnSync } from "node:child_process";
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { constants as zlibConstants, inflateSync } from "node:zlib";

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
  const modesOf = (c) => c.modes ?? MODES;
  // One run of each first, not counted: caches (Deno's transpiled modules, the page cache) warm.
  for (const c of commands) for (const mode of modesOf(c)) once(c, mode);
  const samplesOf = new Map(commands.map((c) => [c, Object.fromEntries(MODES.map((m) => [m, []]))]));
  for (let r = 0; r < runs; r++) {
    for (const c of r % 2 ? [...commands].reverse() : commands) {
      const modes = modesOf(c);
      for (const mode of r % 2 ? [...modes].reverse() : modes) samplesOf.get(c)[mode].push(once(c, mode));
    }
  }
  const debug = libcDebugFile();
  const floor = inflateFloorMs(debug);
  const wallOf = (c, m) => median(samplesOf.get(c)[m].map((s) => s.processMs));
  const elfAddr = commands.flatMap((c) => Object.values(samplesOf.get(c)).flat()).find((s) => s.elfAddr)?.elfAddr;
  const unitFloor = unitInflateFloorMs(debug, elfAddr);
  for (const c of commands) {
    if (c.floorOf) continue;
    const samples = samplesOf.get(c);
    const wall = (m) => wallOf(c, m);
    const field = (m, k) => median(samples[m].map((s) => s[k]));
    const sym = samples.symbolize.find((s) => s.symbol);
    // The floor beside it: the same code in a module that runs none of it, imported the same way.
    const floorCommand = commands.find((f) => f.floorOf === c.label);
    results[c.label] = {
      runs,
      emptyMs: wall("empty"),
      importProcessMs: wall("import"),
      importOverEmptyMs: wall("import") - wall("empty"),
      importMs: field("import", "importMs"),
      importCpuMs: field("import", "importCpuMs"),
      floorOverEmptyMs: floorCommand ? wallOf(floorCommand, "import") - wallOf(floorCommand, "empty") : undefined,
      floorKb: floorCommand?.floorKb,
      symbolizeMs: field("symbolize", "symbolizeMs"),
      symbolizeCpuMs: field("symbolize", "symbolizeCpuMs"),
      noLinesSymbolizeMs: field("nolines", "symbolizeMs"),
      noLinesSymbolizeCpuMs: field("nolines", "symbolizeCpuMs"),
      inflateFloorMs: floor,
      unitInflateFloorMs: unitFloor?.ms,
      unitInflateFreshFloorMs: unitFloor?.freshMs,
      unitFloorDetail: unitFloor?.detail,
      warmSymbolizeMs: field("warm", "symbolizeMs"),
      warmSymbolizeCpuMs: field("warm", "symbolizeCpuMs"),
      symbol: sym ? `${sym.symbol} (${sym.source})` : undefined,
    };
    log(`  startup ${c.label}: ${JSON.stringify(results[c.label])}`);
  }
  for (const c of commands) c.cleanup?.();
  return results;
}

/**
 * What a first symbolize() with source lines paid before it read compressed sections only as far as the address's
 * unit: inflating the zlib-compressed .debug_info and .debug_line of libc's debug file (libc6-dbg) whole, in this
 * process's zlib: its CPU time (the least of 5; the sync inflate runs on this thread), comparable with the children's
 * main-thread CPU time. (A zlib stream has no random access: a unit near the end still needs the stream inflated up
 * to it.) Undefined where there is no such file or section.
 */
function inflateFloorMs(debug) {
  if (!debug) return undefined;
  let total = 0;
  for (const name of ["debug_info", "debug_line"]) {
    const stream = zlibStream(debug, name);
    if (!stream) return undefined;
    total += leastCpuMs(() => inflateSync(stream));
  }
  return total;
}

/** libc6-dbg's debug file of this machine's libc, or undefined. */
function libcDebugFile() {
  const note = spawnSync("readelf", ["-n", "/lib/x86_64-linux-gnu/libc.so.6"], { encoding: "utf8" });
  const id = /Build ID: ([0-9a-f]+)/.exec(note.stdout ?? "")?.[1];
  return id && `/usr/lib/debug/.build-id/${id.slice(0, 2)}/${id.slice(2)}.debug`;
}

/** The zlib stream of a compressed section `.name` of `file` (after its Elf64_Chdr), or undefined. */
function zlibStream(file, name) {
  const dir = mkdtempSync(join(tmpdir(), "procmap-floor-"));
  try {
    const out = join(dir, name);
    const r = spawnSync("objcopy", [`--dump-section=.${name}=${out}`, file, join(dir, "junk")]);
    if (r.status !== 0) return undefined;
    const b = readFileSync(out);
    // An Elf64_Chdr of type 1 (zlib), then the stream.
    return b.length >= 24 && b.readUInt32LE(0) === 1 ? b.subarray(24) : undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The least CPU time of 5 runs of `f` (sync: it runs on this thread). */
function leastCpuMs(f) {
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = process.cpuUsage();
    f();
    const t = process.cpuUsage(t0);
    best = Math.min(best, (t.user + t.system) / 1000);
  }
  return best;
}

/**
 * The floor of a first lookup of ELF address `elfAddr` (hex) with source lines: inflating the compressed
 * sections only as far as its unit needs them, with no other work (the least CPU time of 5, in this process's
 * zlib): `.debug_aranges` whole, `.debug_info` up to the end of the unit covering the address, `.debug_line` up
 * to the end of that unit's line program, `.debug_abbrev` up to the start of its abbreviation table (a little
 * under the floor there: the table's end is not looked for). The unit and offsets are llvm-dwarfdump's. Each
 * prefix is the shortest start of the stream found to inflate that far (zlib has no random access). Undefined
 * where a tool, the file or a section is missing.
 */
function unitInflateFloorMs(debug, elfAddr) {
  if (!debug || !elfAddr) return undefined;
  const look = spawnSync("llvm-dwarfdump", [`--lookup=${elfAddr}`, debug], { encoding: "utf8" });
  const unit = /Compile Unit: .*abbr_offset = (0x[0-9a-f]+).*\(next unit at (0x[0-9a-f]+)\)/.exec(look.stdout ?? "");
  const stmt = /DW_AT_stmt_list\s*\((0x[0-9a-f]+)\)/.exec(look.stdout ?? "");
  if (look.status !== 0 || !unit || !stmt) return undefined;
  const line = spawnSync("llvm-dwarfdump", [`--debug-line=${stmt[1]}`, debug], { encoding: "utf8" });
  const length = /total_length: (0x[0-9a-f]+)/.exec(line.stdout ?? "");
  if (line.status !== 0 || !length) return undefined;
  const wants = {
    debug_aranges: Infinity,
    debug_info: Number(unit[2]),
    debug_abbrev: Number(unit[1]),
    debug_line: Number(stmt[1]) + 4 + Number(length[1]),
  };
  let total = 0;
  const parts = [];
  const prefixes = [];
  for (const [name, want] of Object.entries(wants)) {
    const stream = zlibStream(debug, name);
    if (!stream) return undefined;
    const n = want === Infinity ? stream.length : shortestPrefix(stream, want);
    total += leastCpuMs(() => inflatePrefixSync(stream, n));
    prefixes.push(stream.subarray(0, n));
    parts.push(`.${name} ${want === Infinity ? "whole" : `${(want / 1024).toFixed(0)} KiB`}`);
  }
  return { ms: total, freshMs: freshInflateMs(prefixes), detail: parts.join(", ") };
}

/**
 * The same inflates once in a fresh process (this Node.js, the least CPU time of 5 processes): what a first
 * symbolize pays besides the inflating itself for memory the process has not touched yet (the output's pages;
 * on a virtual machine each first touch of a page can cost more than filling it). The streams' prefixes are
 * read before the clock starts.
 */
function freshInflateMs(prefixes) {
  const dir = mkdtempSync(join(tmpdir(), "procmap-fresh-floor-"));
  try {
    const files = prefixes.map((p, i) => {
      const f = join(dir, `${i}`);
      writeFileSync(f, p);
      return f;
    });
    const script = `
      const { readFileSync } = require("node:fs");
      const { inflateSync, constants } = require("node:zlib");
      const streams = ${JSON.stringify(files)}.map((f) => readFileSync(f));
      inflateSync(Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]));
      const t0 = process.cpuUsage();
      for (const s of streams) inflateSync(s, { finishFlush: constants.Z_SYNC_FLUSH });
      const t = process.cpuUsage(t0);
      console.log((t.user + t.system) / 1000);`;
    let best = Infinity;
    for (let i = 0; i < 5; i++) {
      const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" });
      if (r.status !== 0) return undefined;
      best = Math.min(best, Number(r.stdout.trim()));
    }
    return best;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The first `n` bytes of a zlib stream inflated (as far as they go). */
function inflatePrefixSync(stream, n) {
  return inflateSync(stream.subarray(0, n), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
}

/** The shortest start of `stream` (to 256 bytes) that inflates to `want` bytes or more. */
function shortestPrefix(stream, want) {
  let lo = 0, hi = stream.length;
  while (hi - lo > 256) {
    const mid = (lo + hi) >>> 1;
    if (inflatePrefixSync(stream, mid).length >= want) hi = mid;
    else lo = mid;
  }
  return hi;
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
 * comparison tsc's output unbundled (dist/mod.js, what the package shipped before) and, in Deno, the source and the
 * package installed in a project's node_modules, imported by its name (as a package.json dependency loads it: Deno
 * reads a module outside node_modules with its own module graph, which parses it first, a
 * cost in proportion to its size that npm packages do not pay). Each form of the package has its floor beside it
 * (`floorOf`, empty and import only): the runtime loading a module of the same code that runs none of it (the
 * bundle's statically imported chunks, each inside a function never called), imported the same way.
 */
export function startupCommands({ root, bin, node26, node26Flags, runtimes }) {
  const child = join(root, "bench", "startup_child.mjs");
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const dist = join(root, pkg.exports["."].default);
  const unbundled = join(root, "dist", "mod.js");
  // A project with the package (package.json and its bundle) in its node_modules, and the floor.
  const project = mkdtempSync(join(tmpdir(), "procmap-startup-"));
  const installed = join(project, "node_modules", pkg.name);
  mkdirSync(installed, { recursive: true });
  writeFileSync(join(installed, "package.json"), JSON.stringify(pkg));
  cpSync(dirname(dist), join(installed, dirname(pkg.exports["."].default)), { recursive: true });
  // The floor twice: a file of the project (Deno reads it as it reads dist/bundle/mod.js), and a package.
  const floorText = floorOf(dist);
  const floorModule = join(project, "floor.js");
  writeFileSync(floorModule, floorText);
  const floorPackage = join(project, "node_modules", "procmap-floor");
  mkdirSync(floorPackage, { recursive: true });
  writeFileSync(join(floorPackage, "package.json"), '{"name":"procmap-floor","type":"module","main":"mod.js"}');
  writeFileSync(join(floorPackage, "mod.js"), floorText);
  const floorKb = Math.round(floorText.length / 1024);
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({ type: "module", dependencies: { [pkg.name]: pkg.version, "procmap-floor": "1.0.0" } }),
  );
  const projectChild = join(project, "startup_child.mjs");
  copyFileSync(child, projectChild);
  const commands = [];
  const add = (label, argv) => {
    commands.push({ label, argv: (m) => [...argv, child, m, dist] });
    commands.push({
      label: `${label} (floor)`,
      floorOf: label,
      floorKb,
      modes: ["empty", "import"],
      argv: (m) => [...argv, child, m, floorModule],
    });
    commands.push({ label: `${label} (${UNBUNDLED})`, argv: (m) => [...argv, child, m, unbundled] });
  };
  if (runtimes.includes("deno")) {
    add("deno", [bin("deno"), "run", "-A"]);
    const deno = [bin("deno"), "run", "-A", projectChild];
    commands.push({ label: "deno (node_modules)", modes: ["empty", "import"], argv: (m) => [...deno, m, pkg.name] });
    commands.push({
      label: "deno (node_modules) (floor)",
      floorOf: "deno (node_modules)",
      floorKb,
      modes: ["empty", "import"],
      argv: (m) => [...deno, m, "procmap-floor"],
    });
    commands.push({ label: "deno (mod.ts)", argv: (m) => [bin("deno"), "run", "-A", child, m, join(root, "mod.ts")] });
  }
  if (runtimes.includes("bun")) add("bun", [bin("bun")]);
  if (runtimes.includes("node26") && node26) add("node26", [node26, ...node26Flags]);
  const cleanup = () => rmSync(project, { recursive: true, force: true });
  if (commands.length) commands[0].cleanup = cleanup;
  else cleanup();
  return commands;
}

/**
 * A module of the code `entry` loads at import that runs none of it: the text of every chunk it imports statically
 * (transitively), its import and export statements left out, each inside a function that is never called.
 */
function floorOf(entry) {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/^(?:\} from|import) "(\.[^"]+)";$/gm)) visit(join(dirname(file), m[1]));
  };
  visit(entry);
  let out = "";
  let n = 0;
  for (const file of seen) {
    const body = readFileSync(file, "utf8")
      .replace(/^import \{[^}]*\} from "[^"]*";$/gm, "")
      .replace(/^import "[^"]*";$/gm, "")
      .replace(/^export \{[^}]*\};$/gm, "");
    out += `export function unused${n++}() {\n${body}\n}\n`;
  }
  return out;
}
