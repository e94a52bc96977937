/**
 * What the examples share: argument parsing on node:util's parseArgs (the
 * same in Deno, Bun and Node), error reporting, and names escaped for
 * line-based output. Each example is also a `procmap` subcommand
 * (examples/procmap.ts), which names it in messages.
 * @module
 */
import process from "node:process";
import { readFileSync } from "node:fs";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { ProcMapsError } from "../mod.ts";
import { getLibc } from "../ffi/mod.ts";

quietFfiWarning();

/**
 * Node 26 prints "ExperimentalWarning: FFI is an experimental feature" when
 * procmap first opens libc through node:ffi: noise in a tool's output. Only
 * that warning is dropped (by its type and feature); every other warning is
 * printed as Node prints it. Deno and Bun emit none.
 */
function quietFfiWarning(): void {
  const emit = process.emitWarning;
  if (typeof emit !== "function") return;
  process.emitWarning = function (this: unknown, warning: string | Error, ...rest: unknown[]) {
    const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    const isExperimental = type === "ExperimentalWarning" ||
      (warning instanceof Error && warning.name === "ExperimentalWarning");
    const text = typeof warning === "string" ? warning : warning?.message;
    if (isExperimental && /^FFI\b/.test(text ?? "")) return;
    return (emit as (...a: unknown[]) => void).call(this, warning, ...rest);
  } as typeof process.emitWarning;
}

/** The name messages use: set by examples/procmap.ts (`procmap pmap`), else `<prog>.ts`. */
let commandName: string | undefined;

/** Names the running command in messages (`procmap pmap`); examples/procmap.ts calls it. */
export function setCommandName(name: string): void {
  commandName = name;
}

/** How messages start for the program `prog` (an example's PROG, e.g. "pmap"): `procmap pmap` or `pmap`. */
export function messagePrefix(prog: string): string {
  return commandName ?? prog;
}

/**
 * Prints a usage error as one line on stderr, `procmap pmap: <msg> (see
 * procmap pmap --help)`, and exits 2, the status of a bad argument in every
 * procmap command.
 */
export function usageError(prog: string, msg: string): never {
  console.error(`${messagePrefix(prog)}: ${msg} (see ${commandName ?? `${prog}.ts`} --help)`);
  process.exit(2);
}

/**
 * node:util parseArgs' error as one short line (its messages run over
 * several lines, or name the option as "-A, --range <value>").
 */
export function parseArgsMessage(e: unknown): string {
  const { code, message } = e as { code?: string; message?: string };
  const text = String(message ?? e);
  const quoted = /'([^']*)'/.exec(text)?.[1];
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option '${quoted ?? text}'`;
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument '${quoted ?? text}'`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      const option = (quoted ?? "").replace(/ <value>$/, "");
      if (/argument missing/.test(text)) return `option ${option} needs a value`;
      if (/does not take an argument/.test(text)) return `option ${option} takes no value`;
      if (/ambiguous/.test(text)) return `option ${option} needs a value (a value starting with '-': ${option}=-VALUE)`;
      return text.split("\n")[0];
    }
    default:
      return text.split("\n")[0];
  }
}

/**
 * parseArgs with strict checking: unknown options, missing values and
 * stray positionals become one usage error line. `--help` prints `usage`
 * (its `<prog>.ts` as the command is named) and exits 0.
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
    usageError(prog, parseArgsMessage(e));
  }
  if ((parsed.values as { help?: boolean }).help) {
    console.log(commandName ? usage.replaceAll(`${prog}.ts`, commandName) : usage);
    process.exit(0);
  }
  // deno-lint-ignore no-explicit-any
  return parsed as any;
}

/**
 * A file named on the command line (or standard input, for `undefined`), as
 * text; a file that cannot be read is one error line and exit status 1
 * (under Deno without --allow-read, saying so).
 */
export function readInputFile(prog: string, file: string | undefined): string {
  try {
    return readFileSync(file ?? 0, "utf8");
  } catch (e) {
    const err = e as { name?: string; code?: string; message?: string };
    const what = file === undefined ? "standard input" : file;
    if (err.name === "NotCapable" || err.name === "PermissionDenied") {
      console.error(`${messagePrefix(prog)}: reading ${what} needs Deno's --allow-read (deno run --allow-read ...)`);
    } else {
      console.error(`${messagePrefix(prog)}: cannot read ${what}: ${err.code ?? err.message}`);
    }
    process.exit(1);
  }
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
    console.error(`${messagePrefix(prog)}: ${e.message}`);
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
