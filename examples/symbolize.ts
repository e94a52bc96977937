#!/usr/bin/env -S deno run --allow-ffi --allow-read --allow-env --allow-net --allow-write
/**
 * symbolize: source locations of addresses, printed as binutils `addr2line`
 * prints them, with its flags (`-a -f -i -C -p -s`), of a file (`-e FILE`,
 * ELF addresses), of a running process (`--pid PID`, its addresses), or of a
 * module known only by its build ID (`--build-id ID`).
 *
 *   deno run --allow-ffi --allow-read examples/symbolize.ts --pid PID -f -i [ADDR...]
 *   deno run --allow-ffi --allow-read examples/symbolize.ts -e FILE -a -f -i -p -C [ADDR...]
 *   DEBUGINFOD_URLS=https://debuginfod.example.org deno run --allow-ffi --allow-read --allow-env \
 *     --allow-net --allow-write examples/symbolize.ts --build-id ID [--file-offsets] -f [ADDR...]
 *
 * Addresses (hex with or without 0x, or decimal with a leading "d") come
 * from the arguments, else from --input FILE, else from standard input.
 * When DEBUGINFOD_URLS names servers, debug files missing locally are
 * fetched from them (progress on standard error when it is a terminal);
 * without it nothing reaches the network. The output's form is in
 * addr2line.ts.
 */
import process from "node:process";
import { type DownloadProgress, ProcMaps, Symbolizer } from "../mod.ts";
import { readEnv } from "../ffi/mod.ts";
import { parseCli, parsePid, readInputFile, reportError, usageError } from "./cli.ts";
import { type Addr2lineFlags, formatAddr2line, parseAddress, type Row, toJson } from "./addr2line.ts";

const PROG = "symbolize";

const USAGE = `usage: symbolize.ts (--pid PID | -e FILE | --build-id ID [--file-offsets])
                    [-a] [-f] [-i] [-C] [-p] [-s] [--json] [--debug-dir DIR]... [--input FILE] [ADDR...]

Prints the source location of each address as binutils addr2line does:
  --pid PID        addresses of a running process (or "self")
  -e, --exe FILE   ELF addresses of FILE, no process (as addr2line -e)
  --build-id ID    ELF addresses (with --file-offsets, offsets in the file, as
                   resolve() gives them) of the module with that build ID, found
                   in the debug directories, the debuginfod cache or on the servers
  -a, --addresses  print the address first
  -f, --functions  print function names
  -i, --inlines    print the inlined frames too (innermost first)
  -C, --demangle   demangle C++ and Rust names
  -p, --pretty-print  one line per address
  -s, --basenames  file names without their directories
  --json           one JSON object per address (all frames, raw names)
  --debug-dir DIR  a directory of separate debug files (as well as /usr/lib/debug)
  --input FILE     read addresses from FILE (default: the arguments, else standard input)
Addresses are hex (0x optional) or decimal with a leading d. Unknown ones print ?? and ??:0.
With DEBUGINFOD_URLS set, debug files missing locally are fetched from those
servers (DEBUGINFOD_CACHE_PATH, DEBUGINFOD_TIMEOUT, ... as elfutils reads them).
Note: -p is addr2line's pretty-print; the process is --pid (before, -p PID).`;

let progressShown = false;

/** Download progress on a terminal: one line, rewritten in place. */
function progressLine(): ((p: DownloadProgress) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  return (p) => {
    progressShown = true;
    const total = p.totalBytes === undefined ? "" : ` of ${(p.totalBytes / 1048576).toFixed(1)} MiB`;
    process.stderr.write(
      `\rdebuginfod: ${p.buildId} ${p.file} ${(p.receivedBytes / 1048576).toFixed(1)} MiB${total}\x1b[K`,
    );
  };
}

async function readStdin(): Promise<string> {
  let text = "";
  for await (const chunk of process.stdin) text += typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk);
  return text;
}

async function main(): Promise<number> {
  const { values: v, positionals } = parseCli(PROG, USAGE, {
    pid: { type: "string" },
    exe: { type: "string", short: "e" },
    "build-id": { type: "string" },
    "file-offsets": { type: "boolean", default: false },
    addresses: { type: "boolean", short: "a", default: false },
    functions: { type: "boolean", short: "f", default: false },
    inlines: { type: "boolean", short: "i", default: false },
    demangle: { type: "boolean", short: "C", default: false },
    "pretty-print": { type: "boolean", short: "p", default: false },
    basenames: { type: "boolean", short: "s", default: false },
    json: { type: "boolean", default: false },
    "debug-dir": { type: "string", multiple: true },
    input: { type: "string" },
  }, true);
  const buildId = v["build-id"];
  if ([v.pid, v.exe, buildId].filter((x) => x !== undefined).length !== 1) {
    usageError(PROG, "give one of --pid PID, -e FILE or --build-id ID");
  }
  if (v["file-offsets"] && buildId === undefined) usageError(PROG, "--file-offsets goes with --build-id");
  const pid = v.pid === undefined ? undefined : parsePid(PROG, v.pid);
  const words = (positionals.length ? positionals : (v.input ? readInputFile(PROG, v.input) : await readStdin())
    .split(/\s+/)).filter((w) => w !== "");
  const addrs: bigint[] = [];
  for (const w of words) {
    const a = parseAddress(w);
    if (a === undefined) usageError(PROG, `not an address: ${JSON.stringify(w)}`);
    addrs.push(a);
  }
  const debugDirs = v["debug-dir"] ? [...v["debug-dir"], "/usr/lib/debug"] : undefined;
  const demangle = v.demangle || v.json;
  try {
    // Servers, cache and limits from DEBUGINFOD_URLS and the other DEBUGINFOD_* variables.
    const symbolizer = new Symbolizer(debugDirs ? { debugDirs } : {});
    const fetching = (readEnv("DEBUGINFOD_URLS") ?? "").trim() !== "";
    const onProgress = fetching ? progressLine() : undefined;
    let results: Row[];
    if (buildId !== undefined) {
      const kind = v["file-offsets"] ? "file-offset" : "elf-address";
      results = await symbolizer.symbolizeBuildId(buildId, addrs, { kind, demangle, onProgress });
    } else if (pid === undefined) {
      // Only with a server named: the asynchronous form fetches what is missing locally.
      results = fetching
        ? await symbolizer.symbolizeFileAsync(v.exe!, addrs, { demangle, onProgress })
        : symbolizer.symbolizeFile(v.exe!, addrs, { demangle });
    } else {
      using maps = ProcMaps.open(pid);
      const opts = { demangle, symbolizer };
      results = fetching ? await maps.symbolizeAsync(addrs, { ...opts, onProgress }) : maps.symbolize(addrs, opts);
    }
    if (progressShown) process.stderr.write("\n");
    const flags: Addr2lineFlags = {
      addresses: v.addresses,
      functions: v.functions,
      inlines: v.inlines,
      demangle: v.demangle,
      pretty: v["pretty-print"],
      basenames: v.basenames,
    };
    let text = "";
    for (let i = 0; i < addrs.length; i++) {
      text += v.json ? toJson(addrs[i], results[i]) + "\n" : formatAddr2line(addrs[i], results[i], flags);
    }
    process.stdout.write(text);
    return 0;
  } catch (e) {
    return reportError(PROG, e);
  }
}

process.exitCode = await main();
