/** Ground truth from binutils and gdb, for the symbolization tests. */
import { spawnSync } from "node:child_process";

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
