#!/usr/bin/env -S deno run --allow-ffi --allow-read --allow-write --allow-net --allow-env
/**
 * central: the symbolizer half of remote symbolization (examples/agent.ts
 * is the other). Names the records the agent printed, on any machine, with
 * neither the process nor its files: each module by its build ID, from the
 * debug directories, the debuginfod cache, or the servers DEBUGINFOD_URLS
 * names (fetched in parallel, one download per build ID).
 *
 *   DEBUGINFOD_URLS=https://debuginfod.example.org \
 *     deno run --allow-ffi --allow-read --allow-write --allow-net --allow-env examples/central.ts < records.jsonl
 *
 * Prints "ADDR FUNCTION+OFFSET" per record, or "ADDR ?? (why)"; download
 * progress goes to standard error when it is a terminal.
 */
import process from "node:process";
import { readFileSync } from "node:fs";
import { type BuildIdSymbolized, Symbolizer } from "../mod.ts";
import { escapeName, parseCli, reportError, usageError } from "./cli.ts";

const PROG = "central";
const USAGE = `usage: central.ts [--json] [--debug-dir DIR]... < records.jsonl

Names the records examples/agent.ts printed (one JSON object per line on
standard input): "ADDR FUNCTION+OFFSET", or "ADDR ?? (why)"; --json prints
each record with name, offset, ELF address and reason instead. Modules are
found by build ID in the debug directories (default /usr/lib/debug), the
debuginfod cache, and the servers DEBUGINFOD_URLS names.`;

interface AgentRecord {
  addr: string;
  buildId?: string;
  fileOffset?: string;
  kind?: string;
}

const { values } = parseCli(PROG, USAGE, {
  json: { type: "boolean" },
  "debug-dir": { type: "string", multiple: true },
});
const records: AgentRecord[] = readFileSync(0, "utf8").split("\n").filter((l) => l.trim() !== "").map((l, i) => {
  try {
    return JSON.parse(l);
  } catch {
    usageError(PROG, `line ${i + 1} is not JSON`);
  }
});

async function main(): Promise<number> {
  try {
    const debugDirs = values["debug-dir"] ?? ["/usr/lib/debug"];
    // Servers and cache from DEBUGINFOD_URLS and DEBUGINFOD_CACHE_PATH.
    const symbolizer = new Symbolizer({ debugDirs });
    const onProgress = process.stderr.isTTY
      ? (p: { buildId: string; receivedBytes: number; totalBytes?: number }) =>
        process.stderr.write(`\r${p.buildId.slice(0, 12)}: ${p.receivedBytes}/${p.totalBytes ?? "?"} bytes`)
      : undefined;
    // Records grouped by build ID: one call per module, all modules at once.
    const byModule = new Map<string, AgentRecord[]>();
    for (const r of records) {
      if (r.buildId && r.fileOffset) byModule.set(r.buildId, [...byModule.get(r.buildId) ?? [], r]);
    }
    const named = new Map<AgentRecord, BuildIdSymbolized>();
    await Promise.all([...byModule].map(async ([buildId, group]) => {
      const offsets = group.map((r) => BigInt(r.fileOffset!));
      const results = await symbolizer.symbolizeBuildId(buildId, offsets, { kind: "file-offset", onProgress });
      results.forEach((result, i) => named.set(group[i], result));
    }));
    if (onProgress) process.stderr.write("\n");
    for (const r of records) {
      const n = named.get(r);
      const s = n?.symbol;
      const why = n?.symbolReason ?? r.kind ?? "no record";
      if (values.json) {
        console.log(JSON.stringify({
          ...r,
          name: s?.demangled ?? null,
          offset: s ? "0x" + s.offset.toString(16) : null,
          elfAddr: n?.elfAddr !== undefined ? "0x" + n.elfAddr.toString(16) : null,
          reason: s ? null : why,
        }));
      } else console.log(`${r.addr} ${s ? `${escapeName(s.demangled)}+0x${s.offset.toString(16)}` : `?? (${why})`}`);
    }
    return 0;
  } catch (e) {
    return reportError(PROG, e);
  }
}

process.exitCode = await main();
