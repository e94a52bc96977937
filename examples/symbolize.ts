#!/usr/bin/env -S deno run --allow-ffi --allow-read
/**
 * symbolize: names of addresses in a running process, printed like
 * `addr2line -f -a` (address, function, then `??:0`: procmap reads symbol
 * tables, not line tables).
 *
 *   deno run --allow-ffi --allow-read examples/symbolize.ts -p PID [-C] [--json] [ADDR...]
 *
 * Addresses (hex with or without 0x, or decimal with a leading "d") come
 * from the arguments, else from --input FILE, else from standard input, one
 * or more per line.
 */
import process from "node:process";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ProcMaps, ProcMapsError } from "../mod.ts";
import { escapeName } from "./cli.ts";

const USAGE = `usage: symbolize.ts -p PID [-C] [--json] [--debug-dir DIR]... [--input FILE] [ADDR...]

For each address prints, like addr2line -f -a:
  0x<address, 16 hex digits>
  <function> (or ?? when no symbol covers it)
  ??:0
-C prints demangled names; --json one JSON object per address instead;
--debug-dir adds a directory of separate debug files (default /usr/lib/debug).`;

function parseAddress(s: string): bigint | undefined {
  if (/^d\d+$/.test(s)) return BigInt(s.slice(1));
  const hex = s.startsWith("0x") || s.startsWith("0X") ? s.slice(2) : s;
  return /^[0-9a-fA-F]{1,16}$/.test(hex) ? BigInt("0x" + hex) : undefined;
}

async function readStdin(): Promise<string> {
  let text = "";
  for await (const chunk of process.stdin) text += typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk);
  return text;
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      options: {
        pid: { type: "string", short: "p" },
        demangle: { type: "boolean", short: "C", default: false },
        json: { type: "boolean", default: false },
        "debug-dir": { type: "string", multiple: true },
        input: { type: "string", short: "i" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    console.error(`symbolize: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const v = args.values;
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  if (!v.pid || !/^(\d+|self)$/.test(v.pid)) {
    console.error(`symbolize: -p PID is required\n${USAGE}`);
    return 2;
  }
  const words = args.positionals.length
    ? args.positionals
    : (v.input ? readFileSync(v.input, "utf8") : await readStdin()).split(/\s+/).filter((w) => w !== "");
  const addrs: bigint[] = [];
  for (const w of words) {
    const a = parseAddress(w);
    if (a === undefined) {
      console.error(`symbolize: not an address: ${w}`);
      return 2;
    }
    addrs.push(a);
  }
  try {
    using maps = ProcMaps.open(v.pid === "self" ? "self" : Number(v.pid));
    const results = maps.symbolize(addrs, {
      demangle: v.demangle,
      ...(v["debug-dir"] ? { debugDirs: [...v["debug-dir"], "/usr/lib/debug"] } : {}),
    });
    const out: string[] = [];
    results.forEach((r, i) => {
      const s = r?.symbol;
      if (v.json) {
        out.push(JSON.stringify({
          addr: "0x" + addrs[i].toString(16),
          name: s ? (v.demangle ? s.demangled : s.name) : null,
          offset: s ? "0x" + s.offset.toString(16) : null,
          start: s ? "0x" + s.start.toString(16) : null,
          size: s ? Number(s.size) : null,
          source: s?.source ?? null,
          file: r?.name ?? null,
          elfAddr: r?.elfAddr !== undefined ? "0x" + r.elfAddr.toString(16) : null,
          reason: r ? (r.symbolReason ?? null) : "unmapped",
        }));
        return;
      }
      out.push("0x" + addrs[i].toString(16).padStart(16, "0"));
      // A symbol name is bytes from the file: a newline in it would forge a line (escaped as the kernel does).
      out.push(s ? escapeName(v.demangle ? s.demangled : s.name) : "??");
      out.push("??:0");
    });
    console.log(out.join("\n"));
    return 0;
  } catch (e) {
    if (e instanceof ProcMapsError || e instanceof TypeError || e instanceof RangeError) {
      console.error(`symbolize: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = await main();
