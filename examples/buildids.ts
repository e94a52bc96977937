#!/usr/bin/env -S deno run --allow-ffi
/**
 * buildids: each distinct file mapped by a process with its ELF build ID,
 * like `perf buildid-list`.
 *
 *   deno run --allow-ffi examples/buildids.ts [pid] [--all] [--json]
 */
import process from "node:process";
import { ProcMaps } from "../mod.ts";
import { escapeName, parseCli, parsePid, reportError, usageError } from "./cli.ts";

const PROG = "buildids";
const USAGE = `usage: buildids.ts [pid|self] [--all] [--json]

Prints "<build id> <path>" for each distinct file the process (default: this
one) maps that has an ELF build ID. --all also lists files without one ("-"
as the build ID). Paths appear as the kernel's maps print them (a newline as
\\012); --json gives them raw, with the device as hex major:minor.`;

const { values: opt, positionals } = parseCli(PROG, USAGE, {
  all: { type: "boolean" },
  json: { type: "boolean" },
}, true);
if (positionals.length > 1) usageError(PROG, "give one process id");
const arg = positionals[0] ?? "self";
const pid = parsePid(PROG, arg);

const hex2 = (n: number) => n.toString(16).padStart(2, "0");

function main(): number {
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
        dev: `${hex2(v.devMajor)}:${hex2(v.devMinor)}`,
        inode: `${v.inode}`,
      });
    }
    const list = [...files.values()].filter((f) => opt.all || f.buildId !== null);
    if (opt.json) {
      const id = pid === "self" ? process.pid : pid;
      console.log(JSON.stringify({ pid: id, backend: maps.backend, files: list }, null, 2));
    } else {
      for (const f of list) console.log(`${f.buildId ?? "-".padEnd(40)} ${escapeName(f.path)}`);
    }
    return 0;
  } catch (e) {
    return reportError(PROG, e);
  }
}

process.exitCode = main();
