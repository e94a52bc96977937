#!/usr/bin/env -S deno run --allow-ffi
/**
 * agent: the host half of remote symbolization (examples/central.ts is the
 * other). Resolves sampled addresses of a process to what names code on any
 * machine, without this host's files: the module's build ID and the offset
 * in that file, one JSON line per address. Frames with no such record
 * (anonymous memory, JIT code, files without a build ID) say what they are.
 *
 *   deno run --allow-ffi examples/agent.ts PID [ADDR...] > records.jsonl
 *
 * Addresses are hex (0x optional), from the arguments or else from
 * standard input, separated by white space.
 */
import process from "node:process";
import { readFileSync } from "node:fs";
import { ProcMaps } from "../mod.ts";
import { parseCli, parsePid, reportError, usageError } from "./cli.ts";

const PROG = "agent";
const USAGE = `usage: agent.ts PID [ADDR...]

Prints one JSON line per address (arguments, else standard input):
  {"addr":"0x...","buildId":"...","fileOffset":"0x..."}   code in a file with a build ID
  {"addr":"0x...","kind":"jit"}                            anything else (kind as resolve() says, or "unmapped")
for examples/central.ts to name on another machine.`;

const { positionals } = parseCli(PROG, USAGE, {}, true);
if (positionals.length === 0) usageError(PROG, "give a process id");
const pid = parsePid(PROG, positionals[0]);
const words = positionals.length > 1 ? positionals.slice(1) : readFileSync(0, "utf8").split(/\s+/).filter(Boolean);
const samples = words.map((w) => {
  const hex = w.replace(/^0[xX]/, "");
  if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) usageError(PROG, `not an address: ${JSON.stringify(w)}`);
  return BigInt("0x" + hex);
});

function main(): number {
  try {
    const hex = (v: bigint) => "0x" + v.toString(16);
    using maps = ProcMaps.open(pid);
    const records = maps.resolve(samples).map((r, i) => {
      if (r?.buildId && r.fileOffset !== undefined) {
        return { addr: hex(samples[i]), buildId: r.buildId, fileOffset: hex(r.fileOffset) };
      }
      return { addr: hex(samples[i]), kind: r?.kind ?? "unmapped" };
    });
    for (const record of records) console.log(JSON.stringify(record));
    return 0;
  } catch (e) {
    return reportError(PROG, e);
  }
}

process.exitCode = main();
