#!/usr/bin/env -S deno run --allow-ffi
/**
 * watch: follows a process and prints the mappings that appear or disappear
 * between samples, as a continuous profiler tracks code being loaded.
 *
 *   deno run --allow-ffi examples/watch.ts <pid> [--interval ms] [--count n] [--json]
 */
import process from "node:process";
import { ProcMaps, ProcMapsError, type Vma } from "../mod.ts";

const USAGE = `usage: watch.ts <pid|self> [--interval <ms>] [--count <n>] [--json]

Samples the process's VMAs every <ms> milliseconds (default 1000), <n> times
(default: until the process exits or Ctrl-C), and prints "+ <vma>" for each
new mapping and "- <vma>" for each one gone. --json prints one JSON object
per change: {"sample":i,"change":"+"|"-","vma":{...}}.`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A VMA is "the same" while its range, permissions, offset and file are. */
const keyOf = (v: Vma) => `${v.start}-${v.end} ${v.perms} ${v.offset} ${v.devMajor}:${v.devMinor} ${v.inode} ${v.name}`;

async function main(): Promise<number> {
  let pid: number | "self" | undefined;
  let interval = 1000, count = Infinity, json = false;
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-h" || arg === "--help") {
      console.log(USAGE);
      return 0;
    } else if (arg === "--interval") interval = Number(argv[++i]);
    else if (arg === "--count") count = Number(argv[++i]);
    else if (arg === "--json") json = true;
    else if (arg === "self") pid = "self";
    else if (/^\d+$/.test(arg)) pid = Number(arg);
    else {
      console.error(`watch: unknown argument ${arg}\n${USAGE}`);
      return 2;
    }
  }
  if (pid === undefined || !(interval >= 0) || !(count >= 1)) {
    console.error(USAGE);
    return 2;
  }
  const ac = new AbortController();
  process.once("SIGINT", () => ac.abort());
  try {
    using maps = ProcMaps.open(pid);
    let previous = new Map<string, Vma>();
    for (let sample = 0; sample < count && !ac.signal.aborted; sample++) {
      if (sample > 0) await sleep(interval);
      const current = new Map<string, Vma>();
      for await (const v of maps.vmas({ signal: ac.signal })) current.set(keyOf(v), v);
      const report = (change: "+" | "-", v: Vma) =>
        console.log(json ? JSON.stringify({ sample, change, vma: v }) : `${change} ${v.toString()}`);
      if (sample === 0 && !json) console.log(`watching ${pid}: ${current.size} VMAs`);
      // (In JSON the first sample lists every VMA as new, so the stream alone rebuilds the map.)
      for (const [k, v] of previous) if (!current.has(k)) report("-", v);
      if (sample > 0 || json) { for (const [k, v] of current) if (!previous.has(k)) report("+", v); }
      previous = current;
    }
    return 0;
  } catch (e) {
    if (e instanceof ProcMapsError && e.code === "ESRCH") {
      console.error(`watch: process ${pid} has exited`);
      return 0;
    }
    if (ac.signal.aborted) return 0;
    if (e instanceof ProcMapsError || e instanceof TypeError || e instanceof RangeError) {
      console.error(`watch: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = await main();
