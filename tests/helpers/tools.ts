/** Ground truth from binutils and gdb, for the symbolization tests. */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

const has = (cmd: string, arg = "--version") => spawnSync(cmd, [arg], { encoding: "utf8" }).status === 0;
/** Whether each tool runs here. */
export const haveNm = has("nm");
export const haveGdb = has("gdb");
export const haveCxxfilt = has("c++filt");
export const haveGxx = has("g++");
export const havePerf = has("perf");

/** One line of `nm -S`: a symbol with its address, size and type letter. */
export interface NmSymbol {
  addr: bigint;
  size: bigint;
  type: string;
  name: string;
}

/** `nm -S [-D] file`: the sized symbols (those nm prints a size for). */
export function nmSized(path: string, dynamic = false): NmSymbol[] {
  const r = spawnSync("nm", dynamic ? ["-S", "-D", path] : ["-S", path], {
    encoding: "utf8",
    maxBuffer: 256 << 20,
  });
  if (r.status !== 0) throw new Error(`nm ${path}: ${r.stderr}`);
  const out: NmSymbol[] = [];
  for (const m of r.stdout.matchAll(/^([0-9a-f]+) ([0-9a-f]+) (\S) (.+)$/gm)) {
    out.push({ addr: BigInt("0x" + m[1]), size: BigInt("0x" + m[2]), type: m[3], name: m[4] });
  }
  return out;
}

/** `nm` type letters of code. */
export const isCode = (s: NmSymbol) => /^[TtWi]$/.test(s.type);

/**
 * `gdb -batch -p PID -ex 'info symbol ADDR'` for each address: "name" or
 * "name + off" with its section, or null for "No symbol matches".
 */
export function gdbInfoSymbol(
  pid: number,
  addrs: bigint[],
): ({ name: string; offset: bigint; section: string } | null)[] {
  const args = ["-batch", "-nx", "-p", String(pid)];
  for (const a of addrs) args.push("-ex", `info symbol 0x${a.toString(16)}`);
  const r = spawnSync("gdb", args, { encoding: "utf8", timeout: 60_000 });
  const lines = r.stdout.split("\n").filter((l) => /^No symbol matches|in section /.test(l));
  if (lines.length !== addrs.length) {
    throw new Error(`gdb gave ${lines.length} answers for ${addrs.length}: ${r.stdout}`);
  }
  return lines.map((l) => {
    const m = /^(\S+)(?: \+ (\d+))? in section (\S+)/.exec(l);
    return m ? { name: m[1], offset: BigInt(m[2] ?? 0), section: m[3] } : null;
  });
}

/** `c++filt` of each name, in one run. */
export function cxxfilt(names: string[]): string[] {
  const r = spawnSync("c++filt", [], { input: names.join("\n") + "\n", encoding: "utf8" });
  return r.stdout.split("\n").slice(0, names.length);
}

/** `objdump -d` labels of PLT stubs: address -> `name@plt`. */
export function objdumpPlt(path: string): Map<bigint, string> {
  const r = spawnSync("objdump", ["-d", "-j", ".plt", "-j", ".plt.sec", path], { encoding: "utf8" });
  const out = new Map<bigint, string>();
  for (const m of r.stdout.matchAll(/^([0-9a-f]+) <([^>+-]+@plt)>:$/gm)) out.set(BigInt("0x" + m[1]), m[2]);
  return out;
}

/** The load bias of `path` in a process: its lowest VMA's start minus its first PT_LOAD's page-aligned vaddr. */
export function loadBias(rows: { start: bigint; name: string; offset: bigint }[], path: string): bigint {
  const r = spawnSync("readelf", ["-lW", path], { encoding: "utf8" });
  const m = /^\s*LOAD\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)/m.exec(r.stdout);
  if (!m) throw new Error(`readelf -lW ${path}: no LOAD`);
  const first = rows.filter((x) => x.name === path).sort((a, b) => (a.start < b.start ? -1 : 1))[0];
  return first.start - first.offset - (BigInt(m[1]) & ~0xfffn);
}

/** Compiles tests/fixtures/<name>.cc with g++ once per content and flags; returns the binary's path. */
export function compileCxx(name: string, extraFlags: string[] = []): string {
  const here = new URL(".", import.meta.url).pathname;
  const src = [join(here, "../fixtures"), join(here, "../../../tests/fixtures")].map((d) => join(d, `${name}.cc`))
    .find((p) => existsSync(p))!;
  const hash = createHash("sha256").update(readFileSync(src)).update(extraFlags.join(" ")).digest("hex").slice(0, 16);
  const dir = join(tmpdir(), "procmap-test-bin");
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `${name}-${hash}`);
  if (!existsSync(out)) {
    const tmp = `${out}.${process.pid}.tmp`;
    const r = spawnSync("g++", ["-O2", "-Wall", "-o", tmp, src, ...extraFlags], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`g++ ${name}.cc failed: ${r.stderr || r.error}`);
    spawnSync("mv", [tmp, out]);
  }
  return out;
}

/** Runs a command, throwing with its stderr when it fails. */
export function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr || r.error}`);
  return r.stdout;
}
