/**
 * Source lines (issue #24): the cost per address of names + lines +
 * inlined frames, procmap beside gimli's addr2line, llvm-symbolizer and
 * binutils addr2line, over the same 100,000 ELF addresses of libc (with
 * libc6-dbg's debug file) and of a large C++ program built here with
 * g++ -O2 -g (bench/lines_cpp.cc: regex, containers, algorithms and streams
 * over ten element types, deep inline chains; built once per content into
 * bench/out) (random addresses in each file's executable segment, a fixed
 * seed). Both have DWARF for their code (node and libstdc++ here have none).
 *
 * - procmap warm: `symbolizeFile()` with `lines` and `inlines` (the
 *   default), tables and parsed units already in the Symbolizer; and the
 *   same with `lines: false` (names only, today's cost before lines).
 * - procmap warm, columns: `symbolizeFileTable()`, the same answers as
 *   columns (symbols, offsets, frame chains: no object per address), on
 *   the same Symbolizer.
 *   Each warm form runs in a phase of its own, its timed rounds after
 *   untimed ones (WARM_ROUNDS): a runtime's first rounds of a batch this
 *   size pay its compilers' tiering and the collection of the rounds
 *   before (Deno, columns alone, in CPU time an address: 1.9, 1.2, 1.0,
 *   0.7, 1.1, 0.9, 0.8 us, then 0.32-0.55 us), and a form timed right
 *   after the other pays the other's garbage.
 * - procmap results alone (floor): the warm results copied, object for
 *   object (a frames array that results share, once), in one batch: what
 *   making and collecting them costs in this runtime, with no lookup at all.
 * - procmap cold: a fresh Symbolizer, the first `symbolizeFile()` of one
 *   libc address (open, debug file, symbol table, the DWARF sections' start
 *   up to the address's unit, that unit); beside it what inflating the debug
 *   file's DWARF sections whole with node:zlib costs (what a cold lookup
 *   paid before it read them only that far), and gimli's load (its sections
 *   read and inflated, its unit index made).
 * - gimli's addr2line (bench/gimli/main.rs, built by bench/gimli.mjs):
 *   its second pass over the addresses (everything parsed), and its first.
 * - llvm-symbolizer --inlining and addr2line -f -i -C: marginal cost per
 *   address (one process for many addresses minus one for one address).
 * Costs are CPU time (this process's, the tools' user + system), since the
 * machine may be shared; figures taken on a busy machine are indicative.
 *
 *   <runtime> bench/lines.bench.ts [--quick] [--json FILE]
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { readFileSync } from "node:fs";
import { type FileSymbolized, Symbolizer } from "../mod.ts";
import { memoryReader } from "../src/elf/read_at.ts";
import { readSections } from "../src/elf/sections.ts";
import { decompressSection, dwarfSectionName } from "../src/dwarf/mod.ts";
import { rng } from "./lib.ts";

const quick = process.argv.includes("--quick");
const jsonOut = process.argv.includes("--json") ? process.argv[process.argv.indexOf("--json") + 1] : undefined;
const COUNT = quick ? 10_000 : 100_000;
const LLVM_COUNT = quick ? 1000 : 10_000;
const A2L_COUNT = quick ? 100 : 1000;
/** A tool's marginal CPU time is taken over at least this much (its timer's steps are 10 ms). */
const MIN_MARGINAL_MS = 100;

const runtime = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : `node ${process.versions.node.split(".")[0]}`;

/** The executable PT_LOAD's [vaddr, vaddr + memsz) of a file, from readelf. */
function textRange(file: string): [number, number] {
  const r = spawnSync("readelf", ["-lW", file], { encoding: "utf8" });
  for (const m of r.stdout.matchAll(/^\s*LOAD\s+\S+\s+(0x[0-9a-f]+)\s+\S+\s+\S+\s+(0x[0-9a-f]+)\s+(R?\s?W?\s?E)/gm)) {
    if (m[3].includes("E")) return [Number(m[1]), Number(m[1]) + Number(m[2])];
  }
  throw new Error(`no executable PT_LOAD in ${file}`);
}

/** Untimed rounds of a warm form before its timed ones, and the timed rounds (their median is the figure). */
const WARM_ROUNDS = 10;
const TIMED_ROUNDS = 9;

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** The debug file of `file` found by build ID, or the file itself. */
function dwarfHolder(file: string): string {
  const r = spawnSync("readelf", ["-n", file], { encoding: "utf8" });
  const id = /Build ID: ([0-9a-f]+)/.exec(r.stdout)?.[1];
  const debug = id && `/usr/lib/debug/.build-id/${id.slice(0, 2)}/${id.slice(2)}.debug`;
  return debug && existsSync(debug) ? debug : file;
}

/**
 * A tool's user + system CPU time (ms) for one run, through /usr/bin/time;
 * its input from a file (a large `input` through a pipe can deadlock some
 * runtimes' spawnSync, and not every runtime passes a descriptor), its
 * output discarded.
 */
function toolCpuMs(cmd: string, args: string[], input: string): number | undefined {
  const file = join(dir, "input");
  writeFileSync(file, input);
  // Through sh: the input from the file, the output discarded, the tool timed by /usr/bin/time.
  const r = spawnSync("sh", ["-c", 'exec /usr/bin/time -f "%U %S" "$@" < "$F" > /dev/null', "sh", cmd, ...args], {
    env: { ...process.env, F: file },
    encoding: "utf8",
    timeout: 600_000,
  });
  const m = /([\d.]+) ([\d.]+)\s*$/.exec(r.stderr ?? "");
  return r.status === 0 && m ? (Number(m[1]) + Number(m[2])) * 1000 : undefined;
}

/**
 * A result as a new object graph (a copy of every object in it, but frames
 * arrays shared between results as procmap shares them: each copied once,
 * through `arrays`): what making one costs.
 */
function copyResult(r: FileSymbolized, arrays: Map<object, object>): object {
  const s = r.symbol;
  const f = s?.frames;
  let frames = f && arrays.get(f);
  if (f && !frames) {
    frames = f.map((f) => ({
      name: f.name,
      demangled: f.demangled,
      file: f.file,
      line: f.line,
      column: f.column,
      discriminator: f.discriminator,
      inlined: f.inlined,
    }));
    arrays.set(f, frames);
  }
  return {
    elfAddr: r.elfAddr,
    symbol: s && {
      name: s.name,
      demangled: s.demangled,
      start: s.start,
      size: s.size,
      offset: s.offset,
      source: s.source,
      frames,
    },
    symbolReason: r.symbolReason,
    symbolMessage: r.symbolMessage,
  };
}

/** Milliseconds to inflate the DWARF sections of `path` (each as the reader would get it). */
function inflateMs(path: string): number {
  const bytes = new Uint8Array(readFileSync(path));
  const elf = readSections(memoryReader(bytes))!;
  const t0 = performance.now();
  for (const s of elf.sections) {
    if (!dwarfSectionName(s.name) || s.type === 8) continue;
    const raw = bytes.subarray(s.offset, s.offset + Number(s.size));
    decompressSection({ name: s.name, flags: s.flags, bytes: raw, is64: elf.is64, littleEndian: elf.le }, 1 << 30);
  }
  return performance.now() - t0;
}

interface Row {
  file: string;
  task: string;
  nsPerAddr: number | undefined;
  note?: string;
}
const rows: Row[] = [];
const notes: string[] = [];
const hex = (xs: number[]) => xs.map((a) => "0x" + a.toString(16)).join("\n") + "\n";

/** gimli's addr2line driver, built by bench/lines.mjs (bench/gimli.mjs) and named in PROCMAP_GIMLI. */
const gimli = process.env.PROCMAP_GIMLI
  ? { exe: process.env.PROCMAP_GIMLI, why: "" }
  : { exe: undefined, why: "not built (run through bench/lines.mjs, which builds it from Debian's crates)" };
if (!gimli.exe) notes.push(`gimli's addr2line: not measured (${gimli.why})`);

/** bench/lines_cpp.cc built with g++ -O2 -g into bench/out (once per content), or undefined with a note. */
function cppProgram(): string | undefined {
  // bench/ itself, or the repository's bench/ when run compiled from dist/bench (Node).
  const here = new URL(".", import.meta.url).pathname;
  const dir = [here, join(here, "../../bench")].find((d) => existsSync(join(d, "lines_cpp.cc")));
  if (!dir) {
    notes.push("C++ program: bench/lines_cpp.cc not found");
    return undefined;
  }
  const src = join(dir, "lines_cpp.cc");
  const out = join(
    dir,
    "out",
    `lines_cpp-${createHash("sha256").update(readFileSync(src)).digest("hex").slice(0, 12)}`,
  );
  if (existsSync(out)) return out;
  mkdirSync(dirname(out), { recursive: true });
  const r = spawnSync("g++", ["-std=c++17", "-O2", "-g", "-o", `${out}.tmp`, src], {
    encoding: "utf8",
    timeout: 900_000,
  });
  if (r.status !== 0) {
    notes.push(`C++ program: g++ failed (${(r.stderr || String(r.error)).slice(0, 200)})`);
    return undefined;
  }
  renameSync(`${out}.tmp`, out);
  return out;
}

const files: [string, string | undefined][] = [
  ["libc", "/lib/x86_64-linux-gnu/libc.so.6"],
  ["C++ (g++ -O2 -g)", cppProgram()],
];
const dir = mkdtempSync(join(tmpdir(), "procmap-linesbench-"));
try {
  for (const [label, path] of files) {
    if (path === undefined) continue;
    if (!existsSync(path)) {
      notes.push(`${label}: ${path} is missing`);
      continue;
    }
    const file = realpathSync(path);
    const [lo, hi] = textRange(file);
    const next = rng(20261207);
    const addrs = Array.from({ length: COUNT }, () => lo + Math.floor(next() * (hi - lo)));
    const big = addrs.map((a) => BigInt(a));
    const holder = dwarfHolder(file);

    // procmap warm, lines and inlines, as objects and as columns (interleaved, one Symbolizer); then names only.
    for (const [task, opts] of [["procmap warm", {}], ["procmap warm, lines: false", { lines: false }]] as const) {
      const s = new Symbolizer();
      const first = s.symbolizeFile(file, big, opts);
      if (task === "procmap warm") {
        const framed = first.filter((r) => r.symbol?.frames).length;
        const named = first.filter((r) => r.symbol).length;
        const t = s.symbolizeFileTable(file, big, opts);
        notes.push(
          `${label}: ${named} of ${COUNT} addresses named, ${framed} with frames (DWARF in ${holder}); ` +
            `as columns ${t.length} rows, ${t.chains.length} frame chains`,
        );
      }
      const timed = (run: () => unknown) => {
        for (let i = 0; i < (quick ? 1 : WARM_ROUNDS); i++) run();
        const ms: number[] = [];
        for (let i = 0; i < (quick ? 2 : TIMED_ROUNDS); i++) {
          const t0 = cpuMs();
          run();
          ms.push(cpuMs() - t0);
        }
        return ms;
      };
      const times = timed(() => s.symbolizeFile(file, big, opts));
      const columns = task === "procmap warm" ? timed(() => s.symbolizeFileTable(file, big, opts)) : [];
      rows.push({ file: label, task, nsPerAddr: (median(times) * 1e6) / COUNT });
      if (task === "procmap warm") {
        rows.push({
          file: label,
          task: "procmap warm, columns (symbolizeFileTable)",
          nsPerAddr: (median(columns) * 1e6) / COUNT,
        });
        const copies: number[] = [];
        for (let i = 0; i < (quick ? 2 : 5); i++) {
          const t0 = cpuMs();
          const arrays = new Map<object, object>();
          const copy = first.map((r) => copyResult(r, arrays));
          copies.push(cpuMs() - t0);
          if (copy.length !== first.length) throw new Error("unreachable");
        }
        rows.push({ file: label, task: "procmap results alone (floor)", nsPerAddr: (median(copies) * 1e6) / COUNT });
      }
    }
    // procmap cold (libc only: the issue's case).
    if (label === "libc") {
      const times: number[] = [];
      for (let i = 0; i < (quick ? 3 : 7); i++) {
        const t0 = performance.now();
        new Symbolizer().symbolizeFile(file, [big[i]]);
        times.push(performance.now() - t0);
      }
      rows.push({ file: label, task: "procmap cold (ms, wall)", nsPerAddr: median(times) * 1e6 });
      if (holder !== file) {
        const inflate = Array.from({ length: quick ? 3 : 7 }, () => inflateMs(holder));
        rows.push({
          file: label,
          task: "inflating the debug file's DWARF whole (ms, wall)",
          nsPerAddr: median(inflate) * 1e6,
        });
      }
    }

    const input = hex(addrs);
    writeFileSync(join(dir, "addrs"), input);
    if (gimli.exe) {
      const r = spawnSync("sh", ["-c", 'exec "$@" < "$F"', "sh", gimli.exe, holder], {
        env: { ...process.env, F: join(dir, "addrs") },
        encoding: "utf8",
      });
      const m = /load (\d+) first (\d+) second (\d+) frames (\d+)/.exec(r.stdout);
      if (m) {
        if (label === "libc") rows.push({ file: label, task: "gimli load (ms, CPU)", nsPerAddr: Number(m[1]) });
        rows.push({ file: label, task: "gimli addr2line, parsed", nsPerAddr: Number(m[3]) / COUNT });
        rows.push({ file: label, task: "gimli addr2line, first pass", nsPerAddr: Number(m[2]) / COUNT });
      } else notes.push(`${label}: gimli's addr2line failed: ${r.stderr.slice(0, 200)}`);
    }
    const marginal = (tool: string, args: string[], n: number) => {
      const one = toolCpuMs(tool, args, hex(addrs.slice(0, 1)));
      let many = toolCpuMs(tool, args, hex(addrs.slice(0, n)));
      // /usr/bin/time counts in 10 ms steps: a difference under MIN_MARGINAL_MS is mostly its rounding (it read
      // negative for binutils on the C++ file), so such a tool gets ten times the addresses, up to all of them.
      while (many !== undefined && one !== undefined && many - one < MIN_MARGINAL_MS && n < addrs.length) {
        n = Math.min(addrs.length, n * 10);
        many = toolCpuMs(tool, args, hex(addrs.slice(0, n)));
      }
      if (many === undefined || one === undefined) return notes.push(`${label}: ${tool} not available`);
      if (many - one < MIN_MARGINAL_MS) return notes.push(`${label}: ${tool}: below what /usr/bin/time resolves`);
      rows.push({ file: label, task: tool, nsPerAddr: ((many - one) * 1e6) / (n - 1), note: `${n} addresses` });
    };
    marginal("llvm-symbolizer", ["--inlining", `--obj=${file}`], LLVM_COUNT);
    marginal("addr2line", ["-f", "-i", "-C", "-e", file], A2L_COUNT);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const fmt = (ns: number | undefined) =>
  ns === undefined
    ? "-"
    : ns >= 1e6
    ? `${(ns / 1e6).toFixed(1)} ms`
    : ns >= 1000
    ? `${(ns / 1000).toFixed(2)} µs`
    : `${ns.toFixed(0)} ns`;
console.log(`| file | task (${runtime}) | per address |`);
console.log("| --- | --- | ---: |");
for (const r of rows) console.log(`| ${r.file} | ${r.task}${r.note ? ` (${r.note})` : ""} | ${fmt(r.nsPerAddr)} |`);
for (const n of notes) console.log(`\n- ${n}`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ runtime, rows, notes }, null, 1) + "\n");
