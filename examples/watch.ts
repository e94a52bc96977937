#!/usr/bin/env -S deno run --allow-ffi
/**
 * watch: follows a process and prints the mappings that appear or disappear
 * between samples, as a continuous profiler tracks code being loaded; with
 * --rss also how its resident memory changes (from smaps_rollup).
 *
 *   deno run --allow-ffi examples/watch.ts <pid> [--interval ms] [--count n] [--rss] [--json]
 */
import process from "node:process";
import { ProcMaps, ProcMapsError, type Vma } from "../mod.ts";
import { messagePrefix, parseCli, parseCount, parsePid, reportError, usageError } from "./cli.ts";

const PROG = "watch";
const USAGE = `usage: watch.ts <pid|self> [--interval <ms>] [--count <n>] [--rss] [--json]

Samples the process's VMAs every <ms> milliseconds (default 1000), <n> times
(default: until the process exits or Ctrl-C), and prints "+ <vma>" for each
new mapping and "- <vma>" for each one gone (names as the kernel's maps print
them, a newline as \\012). A process that execs is followed into its new
program: one "exec: ..." line, and the changes after it are the new
program's. --rss also prints "rss <kB> kB (<+/-kB>)" when
the resident size changes (and at the first sample). --json prints one JSON
object per change: {"sample":i,"change":"+"|"-","vma":{...}} or
{"sample":i,"change":"rss","rss":<bytes>,"delta":<bytes>} or
{"sample":i,"change":"exec","vmas":[<the new program's VMAs>]}.`;

const { values: opt, positionals } = parseCli(PROG, USAGE, {
  interval: { type: "string" },
  count: { type: "string" },
  rss: { type: "boolean" },
  json: { type: "boolean" },
}, true);
if (positionals.length !== 1) {
  usageError(PROG, positionals.length === 0 ? "no process id given" : "give one process id");
}
const pid = parsePid(PROG, positionals[0]);
const interval = opt.interval === undefined ? 1000 : parseCount(PROG, "--interval", opt.interval, 0);
const count = opt.count === undefined ? Infinity : parseCount(PROG, "--count", opt.count, 1);
const json = opt.json ?? false;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A VMA is "the same" while its range, permissions, offset and file are. */
const keyOf = (v: Vma) => `${v.start}-${v.end} ${v.perms} ${v.offset} ${v.devMajor}:${v.devMinor} ${v.inode} ${v.name}`;

async function main(): Promise<number> {
  const ac = new AbortController();
  process.once("SIGINT", () => ac.abort());
  let maps: ProcMaps;
  try {
    maps = ProcMaps.open(pid);
  } catch (e) {
    return reportError(PROG, e); // a process that does not exist: exit 1
  }
  try {
    let previous = new Map<string, Vma>();
    let previousRss: number | undefined;
    for (let sample = 0; sample < count && !ac.signal.aborted; sample++) {
      if (sample > 0) await sleep(interval);
      const current = new Map<string, Vma>();
      let execed = false;
      try {
        for await (const v of maps.vmas({ signal: ac.signal })) current.set(keyOf(v), v);
      } catch (e) {
        // exec replaces the address space the handle reads: follow the process into its new program.
        // (Exit and pid reuse end the watch below; a reused pid is never followed.)
        if (!(e instanceof ProcMapsError && e.code === "ESRCH" && e.reason === "exec")) throw e;
        maps.close();
        maps = ProcMaps.open(pid);
        for await (const v of maps.vmas({ signal: ac.signal })) current.set(keyOf(v), v);
        // One line for the exec, not a "-" for every VMA of the old program and a "+" for every one of the new.
        execed = true;
        // (In JSON the exec event carries the new map, so the stream alone still rebuilds it.)
        if (json) console.log(JSON.stringify({ sample, change: "exec", vmas: [...current.values()] }));
        else console.log(`exec: process ${pid} replaced its program; following it (${current.size} VMAs)`);
      }
      const report = (change: "+" | "-", v: Vma) =>
        console.log(json ? JSON.stringify({ sample, change, vma: v }) : `${change} ${v.toString()}`);
      if (sample === 0 && !json) console.log(`watching ${pid}: ${current.size} VMAs`);
      // (In JSON the first sample lists every VMA as new, so the stream alone rebuilds the map.)
      if (!execed) {
        for (const [k, v] of previous) if (!current.has(k)) report("-", v);
        if (sample > 0 || json) { for (const [k, v] of current) if (!previous.has(k)) report("+", v); }
      }
      previous = current;
      if (opt.rss) {
        const rss = maps.rollup().rss ?? 0;
        if (rss !== previousRss) {
          const delta = rss - (previousRss ?? 0);
          if (json) console.log(JSON.stringify({ sample, change: "rss", rss, delta }));
          else console.log(`rss ${rss / 1024} kB (${delta >= 0 ? "+" : ""}${delta / 1024} kB)`);
          previousRss = rss;
        }
      }
    }
    return 0;
  } catch (e) {
    if (e instanceof ProcMapsError && e.code === "ESRCH") {
      // The process ended while watched: the normal end of a watch.
      console.error(
        e.reason === "reused"
          ? `${
            messagePrefix(PROG)
          }: process ${pid} has exited (its pid now belongs to another process, which is not followed)`
          : `${messagePrefix(PROG)}: process ${pid} has exited`,
      );
      return 0;
    }
    if (ac.signal.aborted) return 0;
    return reportError(PROG, e);
  } finally {
    maps.close();
  }
}

process.exitCode = await main();
