#!/usr/bin/env -S deno run --allow-ffi
/**
 * buildids: each distinct file mapped by a process with its ELF build ID,
 * like `perf buildid-list`.
 *
 *   deno run --allow-ffi examples/buildids.ts [pid] [--all] [--json]
 */
import process from "node:process";
import { ProcMaps, ProcMapsError } from "../mod.ts";

const USAGE = `usage: buildids.ts [pid|self] [--all] [--json]

Prints "<build id> <path>" for each distinct file the process maps that has
an ELF build ID. --all also lists files without one ("-" as the build ID).`;

function main(): number {
  let pid: number | "self" = "self";
  let all = false, json = false;
  for (const arg of process.argv.slice(2)) {
    if (arg === "-h" || arg === "--help") {
      console.log(USAGE);
      return 0;
    } else if (arg === "--all") all = true;
    else if (arg === "--json") json = true;
    else if (arg === "self") pid = "self";
    else if (/^\d+$/.test(arg)) pid = Number(arg);
    else {
      console.error(`buildids: unknown argument ${arg}\n${USAGE}`);
      return 2;
    }
  }
  try {
    using maps = ProcMaps.open(pid);
    // One entry per file (device, inode), in address order of first mapping.
    const files = new Map<string, { path: string; buildId: string | null; dev: string; inode: string }>();
    for (const v of maps.vmasSync({ fileBacked: true, buildId: true })) {
      const key = `${v.devMajor}:${v.devMinor}:${v.inode}`;
      if (files.has(key)) continue;
      files.set(key, {
        path: v.name ?? "",
        buildId: v.buildId ?? null,
        dev: `${v.devMajor}:${v.devMinor}`,
        inode: `${v.inode}`,
      });
    }
    const list = [...files.values()].filter((f) => all || f.buildId !== null);
    if (json) console.log(JSON.stringify({ pid, backend: maps.backend, files: list }, null, 2));
    else for (const f of list) console.log(`${f.buildId ?? "-".padEnd(40)} ${f.path}`);
    return 0;
  } catch (e) {
    if (e instanceof ProcMapsError || e instanceof TypeError || e instanceof RangeError) {
      console.error(`buildids: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = main();
