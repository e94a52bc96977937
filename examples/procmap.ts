#!/usr/bin/env node
/**
 * procmap: the package's command (`npx procmap`, `bunx --bun procmap`,
 * `deno run -A npm:procmap`), one subcommand per example tool:
 *
 *   procmap pmap -x PID          procps pmap
 *   procmap symbolize --pid PID -f -i ADDR...   binutils addr2line (its flags), of a process, -e FILE or --build-id ID
 *   procmap buildids PID...      perf buildid-list
 *   procmap query -p PID         the kernel's procfs_query
 *   procmap watch PID            mappings as they come and go
 *   procmap profile -p PID       a sampling profiler (perf record -g), as pprof or flame graph
 *
 * Each subcommand is its example, run as it runs alone: this file takes the
 * subcommand's name off the command line and imports the example, which
 * reads the rest of it. Nothing is written twice.
 * @module
 */
import process from "node:process";
import { readProcFile, setCommandName } from "./cli.ts";

/** The subcommands: what each does, and its example (imported only when run). */
const COMMANDS: Record<string, { about: string; run: () => Promise<unknown> }> = {
  pmap: { about: "the memory map of processes, as procps pmap prints it", run: () => import("./pmap.ts") },
  symbolize: {
    about:
      "functions and source lines of a process's addresses (--pid PID), a file's (-e FILE) or a build ID's (--build-id ID), as binutils addr2line",
    run: () => import("./symbolize.ts"),
  },
  buildids: {
    about: "build IDs of the files processes map, [vdso] and the kernel, as perf buildid-list",
    run: () => import("./buildids.ts"),
  },
  query: {
    about: "resolve sampled addresses to file offsets and build IDs, as the kernel's procfs_query",
    run: () => import("./procfs_query.ts"),
  },
  watch: { about: "follow a process: mappings that appear and disappear, exec", run: () => import("./watch.ts") },
  profile: {
    about: "sample a process or a command on perf_event_open: pprof, folded stacks, speedscope, top functions",
    run: () => import("./profile.ts"),
  },
};

const USAGE = `usage: procmap <command> [options] [arguments]

What is mapped at an address in a process, which function is there, and which
file it is: Linux's PROCMAP_QUERY and /proc/<pid>/maps, from Deno, Bun and Node.

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.about}`).join("\n")}

'procmap <command> --help' gives each one's options. Every command takes --json:
one JSON object per line (bigints as "0x" hex strings, as the library's toJSON()).
Exit status: 0 done, 1 a failure (a process that does not exist or cannot be
read, a file that cannot be read), 2 a bad argument.`;

/** The package's version, from its package.json (read through libc: no Deno read permission needed). */
function version(): string {
  for (const rel of ["../package.json", "../../package.json"]) {
    const path = decodeURIComponent(new URL(rel, import.meta.url).pathname);
    const raw = readProcFile(path, 1 << 16);
    if (!raw) continue;
    try {
      const pkg = JSON.parse(new TextDecoder().decode(raw));
      if (pkg.name === "procmap") return pkg.version;
    } catch {
      // not this one
    }
  }
  return "unknown";
}

async function main(): Promise<number> {
  const name = process.argv[2];
  if (name === undefined) {
    console.error(USAGE);
    return 2;
  }
  if (name === "--help" || name === "-h" || name === "help") {
    console.log(USAGE);
    return 0;
  }
  if (name === "--version" || name === "-V") {
    console.log(`procmap ${version()}`);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    console.error(
      `procmap: ${name.startsWith("-") ? "unknown option" : "unknown command"} '${name}' (commands: ${
        Object.keys(COMMANDS).join(", ")
      }; see procmap --help)`,
    );
    return 2;
  }
  // The example reads process.argv.slice(2) as its own arguments, as when it runs alone.
  process.argv.splice(2, 1);
  setCommandName(`procmap ${name}`);
  await command.run();
  return typeof process.exitCode === "number" ? process.exitCode : 0;
}

process.exitCode = await main();
