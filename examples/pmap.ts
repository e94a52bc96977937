#!/usr/bin/env -S deno run --allow-ffi
/**
 * pmap: the memory map of a process as a table, like `pmap -x`.
 *
 *   deno run --allow-ffi examples/pmap.ts [pid] [-x] [--json] [--backend auto|ioctl|text]
 *   bun examples/pmap.ts [pid] [-x] [--json]
 */
import process from "node:process";
import { ProcMaps, ProcMapsError, type Vma } from "../mod.ts";

const USAGE = `usage: pmap.ts [pid|self] [-x] [--build-id] [--json] [--backend auto|ioctl|text]

Prints every VMA of the process (default: this one) in address order.
  -x           extended columns: offset, device, inode
  --build-id   add each file's ELF build ID
  --json       one JSON document instead of the table
  --backend    where the answers come from (default: auto)`;

interface Args {
  pid: number | "self";
  extended: boolean;
  buildId: boolean;
  json: boolean;
  backend: "auto" | "ioctl" | "text";
}

function parseArgs(argv: string[]): Args {
  const a: Args = { pid: "self", extended: false, buildId: false, json: false, backend: "auto" };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-h" || arg === "--help") {
      console.log(USAGE);
      process.exit(0);
    } else if (arg === "-x") a.extended = true;
    else if (arg === "--build-id") a.buildId = true;
    else if (arg === "--json") a.json = true;
    else if (arg === "--backend") a.backend = argv[++i] as Args["backend"];
    else if (arg.startsWith("--backend=")) a.backend = arg.slice(10) as Args["backend"];
    else if (arg === "self") a.pid = "self";
    else if (/^\d+$/.test(arg)) a.pid = Number(arg);
    else {
      console.error(`pmap: unknown argument ${arg}\n${USAGE}`);
      process.exit(2);
    }
  }
  return a;
}

/** The mapping column: the kernel's name, or pmap's `[ anon ]` for nameless memory. */
function mapping(v: Vma): string {
  return v.name || "[ anon ]";
}

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  let vmas: Vma[];
  let backend: string;
  try {
    using maps = ProcMaps.open(args.pid, { backend: args.backend });
    backend = maps.backend;
    vmas = [...maps.vmasSync({ buildId: args.buildId })];
  } catch (e) {
    if (e instanceof ProcMapsError || e instanceof TypeError || e instanceof RangeError) {
      console.error(`pmap: ${e.message}`);
      return 1;
    }
    throw e;
  }
  const totalKb = vmas.reduce((sum, v) => sum + v.size, 0n) / 1024n;
  if (args.json) {
    console.log(JSON.stringify({ pid: args.pid, backend, totalKb: Number(totalKb), vmas }, null, 2));
    return 0;
  }
  console.log(`pid ${args.pid} (${vmas.length} VMAs, backend ${backend})`);
  const header = args.extended
    ? "Address           Kbytes Mode Offset           Device    Inode Mapping"
    : "Address           Kbytes Mode Mapping";
  console.log(header);
  for (const v of vmas) {
    const addr = v.start.toString(16).padStart(16, "0");
    const kb = (v.size / 1024n).toString().padStart(6);
    let line = `${addr} ${kb} ${v.perms} `;
    if (args.extended) {
      const dev = `${v.devMajor.toString(16).padStart(3, "0")}:${v.devMinor.toString(16).padStart(5, "0")}`;
      line += `${v.offset.toString(16).padStart(16, "0")} ${dev} ${v.inode.toString().padStart(8)} `;
    }
    line += mapping(v);
    if (v.buildId) line += `  (build id ${v.buildId})`;
    console.log(line);
  }
  console.log(`${"-".repeat(16)} ${"-".repeat(6)}`);
  console.log(`total kB ${totalKb.toString().padStart(14)}`);
  return 0;
}

process.exitCode = main();
