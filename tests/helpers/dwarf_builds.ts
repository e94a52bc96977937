/**
 * Binaries with DWARF for the reader's ground-truth tests, built from
 * tests/fixtures/dwarf/ by the compilers here (gcc, g++, clang, rustc) in
 * each flavour (DWARF 2/4/5, compressed, split, dwz), cached per content
 * and flags in a temp directory, and the comparison of frames.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import type { DwarfFrame, DwarfMiss } from "../../src/dwarf/mod.ts";
import type { ToolFrame } from "./dwarf_tools.ts";

const HERE = new URL(".", import.meta.url).pathname;
/** tests/fixtures/dwarf (from tests/helpers, or from dist/tests/helpers). */
export const DWARF_FIXTURES = [join(HERE, "../fixtures/dwarf"), join(HERE, "../../../tests/fixtures/dwarf")].find((d) =>
  existsSync(join(d, "dw_main.c"))
)!;

export const C_SOURCES = ["dw_main.c", "dw_other.c"];

function sh(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout: 300_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr || r.error}`);
}

/**
 * Runs `steps` (commands, in the build directory) once per content, and
 * returns that directory: one build per run of the suite, shared by the
 * runtimes (and by later runs while the sources are the same). Keyed by the
 * fixture sources (every file of `fixtures`, default tests/fixtures/dwarf,
 * and its path) and the steps, so a change to either builds anew. Built in place
 * (split-DWARF skeletons name their .dwo files by the directory they were
 * compiled in); a `.done` marker written last tells a finished build from
 * one cut short.
 */
export function build(name: string, steps: [string, ...string[]][], fixtures = DWARF_FIXTURES): string {
  // The fixtures' directory too: the DWARF names it (comp_dir, file names), so checkouts side by side must not share
  // a build, nor one build its .dwo files with another's.
  const h = createHash("sha256").update(fixtures);
  for (const f of readdirSync(fixtures).sort()) h.update(f).update(readFileSync(join(fixtures, f)));
  h.update(JSON.stringify(steps));
  const dir = join(BUILD_ROOT, `${name.replace(/[^a-z0-9.+-]+/gi, "-")}-${h.digest("hex").slice(0, 12)}`);
  const done = join(dir, ".done");
  if (existsSync(done)) return dir;
  mkdirSync(BUILD_ROOT, { recursive: true });
  // Another test process may be building the same directory (runs side by side): one builds, the others wait.
  const lock = `${dir}.lock`;
  for (const t0 = Date.now(); !tryLock(lock);) {
    if (existsSync(done)) return dir;
    if (Date.now() - t0 > LOCK_WAIT_MS) throw new Error(`${name}: another process has been building it too long`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  }
  try {
    if (existsSync(done)) return dir;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    // Commands name the fixtures as $F/... and the build directory as $D.
    for (const [cmd, ...args] of steps) {
      sh(
        cmd,
        args.map((a) => a.replaceAll("$F", fixtures).replaceAll("$D", dir)),
        dir,
      );
    }
    writeFileSync(done, "");
    return dir;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** How long a build waits for another process's build of the same thing. */
const LOCK_WAIT_MS = 600_000;

/** Takes the lock directory `lock`; one left by a process that died (older than the wait) is taken over. */
function tryLock(lock: string): boolean {
  try {
    mkdirSync(lock);
    return true;
  } catch {
    try {
      if (Date.now() - statSync(lock).mtimeMs > LOCK_WAIT_MS) rmSync(lock, { recursive: true, force: true });
    } catch { /* gone meanwhile */ }
    return false;
  }
}

const BUILD_ROOT = join(tmpdir(), "procmap-dwarf-bin");

/** The C fixture compiled and linked by `cc` with `flags` into `dir/bin`. */
export function cSteps(cc: string, flags: string[]): [string, ...string[]][] {
  return [[cc, ...flags, "-o", "bin", ...C_SOURCES.map((s) => `$F/${s}`)]];
}

/** A copy without symbol tables (names then come from DWARF alone in every tool), in the build cache. */
export function withoutSymbols(path: string): string {
  mkdirSync(BUILD_ROOT, { recursive: true });
  const st = statSync(path);
  const key = createHash("sha256").update(`${path} ${st.size} ${st.mtimeMs}`).digest("hex").slice(0, 16);
  const out = join(BUILD_ROOT, `nosym-${key}`);
  if (!existsSync(out)) {
    const tmp = `${out}.${process.pid}.tmp`;
    // Decompressed too: some tools read compressed sections badly after objcopy rewrote them.
    sh("objcopy", [
      "--strip-all",
      "--keep-section=.debug_*",
      "--keep-section=.zdebug_*",
      "--decompress-debug-sections",
      path,
      tmp,
    ], "/");
    renameSync(tmp, out);
  }
  return out;
}

/** At most `n` of `addrs`, evenly spread. */
export function sample<T>(addrs: T[], n: number): T[] {
  if (addrs.length <= n) return addrs;
  const step = addrs.length / n;
  return Array.from({ length: n }, (_, i) => addrs[Math.floor(i * step)]);
}

/** What a comparison found. */
export interface Agreement {
  equal: number;
  total: number;
  /** The first differences, printed. */
  diffs: string[];
}

/** Which fields a comparison covers (names and lines always). */
export interface Fields {
  /** The tool prints columns. */
  columns: boolean;
  /** Compare files (default true). */
  files?: boolean;
}

const fmt = (f: readonly ToolFrame[], k: Fields) =>
  f.map((x) =>
    `${x.name || "??"} ${k.files === false ? "" : x.file || "??"}:${x.line}${k.columns ? ":" + x.column : ""}`
  )
    .join(" <- ");

/**
 * Compares the reader's answers with a tool's, frame by frame (name, file,
 * line, and column when the tool prints columns; file unless told not to). A miss of the reader
 * equals the tool's `??` (one frame, no file, no line).
 */
export function agreement(
  addrs: bigint[],
  ours: (DwarfFrame[] | DwarfMiss)[],
  truth: ToolFrame[][],
  fields: Fields,
): Agreement {
  let equal = 0;
  const diffs: string[] = [];
  addrs.forEach((a, i) => {
    const o = ours[i];
    const t = truth[i];
    const mine: ToolFrame[] = "reason" in o ? [{ name: "", file: "", line: 0, column: 0 }] : o;
    if (fmt(mine, fields) === fmt(t, fields)) equal++;
    else if (diffs.length < 8) {
      diffs.push(
        `0x${a.toString(16)}\n    ours: ${"reason" in o ? o.reason + ": " + o.message : fmt(mine, fields)}\n    tool: ${
          fmt(t, fields)
        }`,
      );
    }
  });
  return { equal, total: addrs.length, diffs };
}

/** The bytes of a section as the file holds them (`objcopy -O binary`), to show two builds have the same code. */
export function sectionBytes(path: string, section: string): Uint8Array {
  const out = `${path}${section}.bin`;
  sh("objcopy", ["-O", "binary", `--only-section=${section}`, path, out], "/");
  const b = new Uint8Array(readFileSync(out));
  rmSync(out, { force: true });
  return b;
}
