#!/usr/bin/env -S deno run --allow-ffi --allow-read
/**
 * procfs_query: resolve sampled addresses of a process to (binary, build ID,
 * file offset), as the kernel's PROCMAP_QUERY demo tool does.
 *
 *   deno run --allow-ffi --allow-read examples/procfs_query.ts -p <pid> [-f addrs.txt] [-Q|-T] [-v] [--json]
 *   bun examples/procfs_query.ts -p <pid> < addrs.txt
 */
import process from "node:process";
import { readFileSync } from "node:fs";
import { ProcMaps, ProcMapsError, type Resolved } from "../mod.ts";

const USAGE = `usage: procfs_query.ts -p <pid|self> [-f <file>] [-Q | -T] [-v] [--json] [--repeat <n>]

Reads hex addresses (one per line, "0x" optional; '#' starts a comment) from
<file> or standard input and resolves each in process <pid>:
  addr -> start-end perms offset name (build id) file offset / ELF address

  -Q           per-address PROCMAP_QUERY ioctls
  -T           one read of /proc/<pid>/maps text
               (neither: the planner picks)
  -v           dump every VMA of the process first
  --json       one JSON document instead of text
  --repeat n   resolve n times and report the average time (for comparing -Q and -T)`;

interface Args {
  pid: number | "self";
  file: string | undefined;
  strategy: "auto" | "ioctl" | "text";
  verbose: boolean;
  json: boolean;
  repeat: number;
}

function fail(msg: string): never {
  console.error(`procfs_query: ${msg}\n${USAGE}`);
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const a: Args = { pid: "self", file: undefined, strategy: "auto", verbose: false, json: false, repeat: 1 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => argv[++i] ?? fail(`${arg} needs a value`);
    if (arg === "-h" || arg === "--help") {
      console.log(USAGE);
      process.exit(0);
    } else if (arg === "-p") {
      const v = value();
      a.pid = v === "self" ? "self" : /^\d+$/.test(v) ? Number(v) : fail(`bad pid ${v}`);
    } else if (arg === "-f") a.file = value();
    else if (arg === "-Q") a.strategy = "ioctl";
    else if (arg === "-T") a.strategy = "text";
    else if (arg === "-v") a.verbose = true;
    else if (arg === "--json") a.json = true;
    else if (arg === "--repeat") {
      a.repeat = Number(value());
      if (!Number.isInteger(a.repeat) || a.repeat < 1) fail("--repeat needs a positive integer");
    } else fail(`unknown argument ${arg}`);
  }
  return a;
}

/** Hex addresses from text: one per line, optional 0x, '#' comments, blank lines ignored. */
function parseAddresses(text: string): bigint[] {
  const out: bigint[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) return;
    if (!/^(0x)?[0-9a-fA-F]{1,16}$/.test(line)) fail(`line ${i + 1}: not a hex address: ${JSON.stringify(raw)}`);
    out.push(BigInt(line.startsWith("0x") ? line : "0x" + line));
  });
  return out;
}

const hex = (n: bigint) => "0x" + n.toString(16);

function describe(r: Resolved | null, addr: bigint): string {
  if (!r) return `${hex(addr)} -> <unmapped>`;
  const v = r.vma;
  let s =
    `${hex(addr)} -> ${v.start.toString(16)}-${v.end.toString(16)} ${v.perms} ${
      v.offset.toString(16).padStart(8, "0")
    } ` +
    (r.name || "[anon]");
  if (r.buildId) s += ` (build id ${r.buildId})`;
  if (r.fileOffset !== undefined) s += ` file offset ${hex(r.fileOffset)}`;
  if (r.elfAddr !== undefined) s += ` elf addr ${hex(r.elfAddr)}`;
  if (r.reasonText && r.fileOffset === undefined) s += ` [${r.reasonText}]`;
  return s;
}

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  const text = args.file === undefined ? readFileSync(0, "utf8") : readFileSync(args.file, "utf8");
  const addrs = parseAddresses(text);
  try {
    using maps = ProcMaps.open(args.pid);
    if (args.verbose && !args.json) {
      for (const v of maps.vmasSync()) console.log(v.toString());
      console.log();
    }
    const plan = maps.planResolve(addrs, { strategy: args.strategy });
    let results: (Resolved | null)[] = [];
    const t0 = performance.now();
    for (let i = 0; i < args.repeat; i++) results = maps.resolve(addrs, { strategy: args.strategy });
    const ms = (performance.now() - t0) / args.repeat;
    if (args.json) {
      const json = (r: Resolved | null, i: number) =>
        r && {
            addr: hex(r.addr),
            kind: r.kind,
            vma: r.vma,
            name: r.name,
            buildId: r.buildId ?? null,
            fileOffset: r.fileOffset === undefined ? null : hex(r.fileOffset),
            elfAddr: r.elfAddr === undefined ? null : hex(r.elfAddr),
            reason: r.reason ?? null,
            reasonText: r.reasonText ?? null,
          } || { addr: hex(addrs[i]), unmapped: true };
      console.log(JSON.stringify(
        {
          pid: args.pid,
          backend: maps.backend,
          strategy: plan.strategy,
          planReason: plan.reason,
          ms,
          results: results.map(json),
        },
        null,
        2,
      ));
      return 0;
    }
    results.forEach((r, i) => console.log(describe(r, addrs[i])));
    const mapped = results.filter((r) => r !== null).length;
    console.log(
      `resolved ${addrs.length} addresses (${plan.uniqueAddresses} distinct, ${mapped} mapped) in ${
        ms.toFixed(3)
      } ms ` +
        `per run, planned as ${plan.strategy} (${plan.reason})`,
    );
    return 0;
  } catch (e) {
    if (e instanceof ProcMapsError || e instanceof TypeError || e instanceof RangeError) {
      console.error(`procfs_query: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = main();
