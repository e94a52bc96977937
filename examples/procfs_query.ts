#!/usr/bin/env -S deno run --allow-ffi --allow-read
/**
 * procfs_query: resolve sampled addresses of a process to (file offset,
 * name, build ID), as the kernel's PROCMAP_QUERY demo tool
 * (tools/testing/selftests/proc/procfs_query) does, then the function and
 * source line (`in FUNCTION at FILE:LINE`) where the file has them.
 *
 *   deno run --allow-ffi --allow-read examples/procfs_query.ts -p <pid> -f addrs.txt [-Q|-T] [-b] [-B N] [-q] [-v] [--json]
 *   some-sampler | bun examples/procfs_query.ts -p <pid>
 */
import process from "node:process";
import { ProcMaps, type Resolved, type Symbolized } from "../mod.ts";
import {
  escapeName,
  messagePrefix,
  parseCli,
  parseCount,
  parsePid,
  readInputFile,
  reportError,
  usageError,
} from "./cli.ts";

const PROG = "procfs_query";
const USAGE = `usage: procfs_query.ts [-p <pid|self>] [-f <file>] [-Q | -T] [-b] [-B <runs>] [-q] [-v] [--json]

Reads hex addresses (one per line, "0x"/"0X" optional, '#' starts a comment)
from <file> or standard input and resolves each in process <pid> (default:
this one):  addr -> start-end perms offset name [build id] file offset / ELF address
            in FUNCTION at FILE:LINE (the innermost source frame, where known)

  -p, --pid <pid>        the process
  -f, --addrs-path <f>   file with the addresses (default: standard input, not a terminal)
  -Q, --query            per-address PROCMAP_QUERY ioctls
  -T, --text             one read of /proc/<pid>/maps text
                         (neither: the planner picks)
  -b, --build-id         fetch build IDs (once per file)
  -B, --benchmark <runs> resolve <runs> times; times on standard error
  -q, --quiet            no per-address output
  -v, --verbose          dump every VMA of the process first
  --json                 one JSON object per address per line instead of text
                         (resolve()'s result as JSON, names raw)
A summary (and with -B the timing) goes to standard error; names appear as
the kernel's maps print them (a newline as \\012).`;

const { values: opt } = parseCli(PROG, USAGE, {
  pid: { type: "string", short: "p" },
  "addrs-path": { type: "string", short: "f" },
  query: { type: "boolean", short: "Q" },
  text: { type: "boolean", short: "T" },
  "build-id": { type: "boolean", short: "b" },
  benchmark: { type: "string", short: "B" },
  quiet: { type: "boolean", short: "q" },
  verbose: { type: "boolean", short: "v" },
  json: { type: "boolean" },
});

if (opt.query && opt.text) usageError(PROG, "-Q and -T are mutually exclusive");
const pid = opt.pid === undefined ? "self" : parsePid(PROG, opt.pid);
const strategy = opt.query ? "ioctl" : opt.text ? "text" : "auto";
const runs = opt.benchmark === undefined ? 1 : parseCount(PROG, "-B", opt.benchmark, 1);
const buildId = opt["build-id"] ?? false;
const file = opt["addrs-path"];

/** The input text; exits 1 with the reason when it cannot be read. */
function readInput(): string {
  if (file === undefined && process.stdin.isTTY) {
    usageError(PROG, "no -f <file> given and standard input is a terminal: give -f, or pipe addresses in");
  }
  return readInputFile(PROG, file);
}

const HEX = /^(?:0[xX])?([0-9a-fA-F]{1,16})$/;

/** Addresses, one per line; every bad line is reported (with its number) before exiting 2. */
function parseAddresses(text: string): bigint[] {
  const out: bigint[] = [];
  let bad = 0;
  const lines = text.split("\n");
  lines.forEach((raw, i) => {
    const hash = raw.indexOf("#");
    const line = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (!line) return;
    const m = HEX.exec(line);
    if (!m) {
      if (++bad <= 20) {
        console.error(
          `${messagePrefix(PROG)}: ${file ?? "<stdin>"}:${i + 1}: not a hex address: ${JSON.stringify(raw)}`,
        );
      }
      return;
    }
    out.push(BigInt("0x" + m[1]));
  });
  if (bad > 20) console.error(`${messagePrefix(PROG)}: ... and ${bad - 20} more bad lines`);
  if (bad > 0) process.exit(2);
  if (out.length === 0) {
    console.error(`${messagePrefix(PROG)}: no addresses in ${file ?? "standard input"}`);
    process.exit(1);
  }
  return out;
}

const hex = (n: bigint) => "0x" + n.toString(16);

/** ` in FUNCTION at FILE:LINE` of the address's innermost frame (or just the function, or nothing). */
function sourceOf(s: Symbolized | null): string {
  const sym = s?.symbol;
  if (!sym) return "";
  const f = sym.frames?.[0];
  if (!f) return ` in ${escapeName(sym.demangled)}`;
  const line = f.line === 0 ? "?" : f.discriminator ? `${f.line} (discriminator ${f.discriminator})` : f.line;
  return ` in ${escapeName(f.demangled)} at ${escapeName(f.file ?? "??")}:${line}`;
}

function describe(r: Resolved | null, addr: bigint, s: Symbolized | null): string {
  if (!r) return `${hex(addr)} -> <unmapped>`;
  const v = r.vma;
  let line = `${hex(addr)} -> ${v.start.toString(16)}-${v.end.toString(16)} ${v.perms} ` +
    `${v.offset.toString(16).padStart(8, "0")} ${escapeName(r.name) || "[anon]"}`;
  if (r.buildId) line += ` (build id ${r.buildId})`;
  if (r.fileOffset !== undefined) line += ` file offset ${hex(r.fileOffset)}`;
  if (r.elfAddr !== undefined) line += ` elf addr ${hex(r.elfAddr)}`;
  if (r.reasonText && r.fileOffset === undefined) line += ` [${r.reasonText}]`;
  return line + sourceOf(s);
}

function main(): number {
  const addrs = parseAddresses(readInput());
  try {
    using maps = ProcMaps.open(pid);
    if (opt.verbose && !opt.json) {
      for (const v of maps.vmasSync()) console.log(v.toString());
      console.log();
    }
    const plan = maps.planResolve(addrs, { strategy });
    let results: (Resolved | null)[] = [];
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) results = maps.resolve(addrs, { strategy, buildId });
    const totalMs = performance.now() - t0;
    const ms = totalMs / runs;
    if (opt.json) {
      // One line per address: the library's JSON of its result (bigints as "0x" hex), or the address alone.
      const lines = results.map((r, i) => JSON.stringify(r ?? { addr: hex(addrs[i]), unmapped: true }));
      if (!opt.quiet) console.log(lines.join("\n"));
    } else if (!opt.quiet) {
      // The function and source line of each address (once, outside any -B timing).
      const syms = maps.symbolize(addrs, { strategy });
      results.forEach((r, i) => console.log(describe(r, addrs[i], syms[i])));
    }
    const mapped = results.filter((r) => r !== null).length;
    console.error(
      `resolved ${addrs.length} addresses (${plan.uniqueAddresses} distinct, ${mapped} mapped) in ` +
        `${ms.toFixed(3)} ms per run, planned as ${plan.strategy} (${plan.reason})`,
    );
    if (opt.benchmark !== undefined) {
      console.error(
        `benchmark: ${runs} runs, total ${totalMs.toFixed(3)} ms, ${ms.toFixed(3)} ms per run, ` +
          `${(ms * 1000 / addrs.length).toFixed(3)} us per address`,
      );
    }
    return 0;
  } catch (e) {
    return reportError(PROG, e);
  }
}

process.exitCode = main();
