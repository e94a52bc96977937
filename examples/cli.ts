/**
 * What the examples share: argument parsing on node:util's parseArgs (the
 * same in Deno, Bun and Node), error reporting, and names escaped for
 * line-based output.
 * @module
 */
import process from "node:process";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { ProcMapsError } from "../mod.ts";
import { getLibc } from "../ffi/mod.ts";

/** Prints `prog: msg` and a pointer to --help on stderr; exits 2 (a usage error). */
export function usageError(prog: string, msg: string): never {
  console.error(`${prog}: ${msg}\nTry '${prog}.ts --help' for more information.`);
  process.exit(2);
}

/**
 * parseArgs with strict checking: unknown options, missing values and
 * stray positionals become one usage error line. `--help` prints `usage`
 * and exits 0.
 */
export function parseCli<O extends NonNullable<ParseArgsConfig["options"]>>(
  prog: string,
  usage: string,
  options: O,
  allowPositionals = false,
): {
  values: ReturnType<typeof parseArgs<{ options: O; allowPositionals: boolean; strict: true }>>["values"];
  positionals: string[];
} {
  let parsed;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals,
      strict: true,
    });
  } catch (e) {
    usageError(prog, (e as Error).message);
  }
  if ((parsed.values as { help?: boolean }).help) {
    console.log(usage);
    process.exit(0);
  }
  // deno-lint-ignore no-explicit-any
  return parsed as any;
}

/** A pid argument: digits (a positive safe integer) or `self`. */
export function parsePid(prog: string, arg: string): number | "self" {
  if (arg === "self") return "self";
  const n = /^[0-9]+$/.test(arg) ? Number(arg) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) usageError(prog, `not a process id: ${JSON.stringify(arg)}`);
  return n;
}

/** A non-negative integer option value, or a usage error naming the option. */
export function parseCount(prog: string, option: string, value: string, min = 0): number {
  const n = /^[0-9]+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    usageError(prog, `${option} needs an integer of at least ${min}, not ${JSON.stringify(value)}`);
  }
  return n;
}

/** A name as the kernel escapes it in line-based text: a newline becomes `\012`. */
export function escapeName(name: string): string {
  return name.includes("\n") ? name.replaceAll("\n", "\\012") : name;
}

/**
 * Prints a library error (ProcMapsError, TypeError, RangeError) as one
 * line and returns exit status 1; anything else is a bug and is rethrown.
 */
export function reportError(prog: string, e: unknown): number {
  if (e instanceof ProcMapsError || e instanceof TypeError || e instanceof RangeError) {
    console.error(`${prog}: ${e.message}`);
    return 1;
  }
  throw e;
}

/**
 * A small /proc file (cmdline, comm) as bytes, at most `max` of them, or undefined. Read through
 * procmap's libc binding: Deno's own file API wants --allow-all for
 * /proc/<pid> paths, while --allow-ffi, which procmap needs anyway, covers this.
 */
export function readProcFile(path: string, max = 1 << 20): Uint8Array | undefined {
  const libc = getLibc();
  const fd = libc.openRead(path);
  if (fd < 0) return undefined;
  try {
    const chunks: Uint8Array[] = [];
    let total = 0;
    // Bounded: a command line is at most a few MB (ARG_MAX); stop at `max` (1 MiB).
    while (total < max) {
      const buf = new Uint8Array(Math.min(65536, max - total));
      const n = libc.pread(fd, buf, total);
      if (n <= 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
    }
    const out = new Uint8Array(total);
    let off = 0;
    for (const c of chunks) (out.set(c, off), off += c.length);
    return out;
  } finally {
    libc.close(fd);
  }
}
