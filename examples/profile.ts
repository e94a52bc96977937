#!/usr/bin/env -S deno run -A
/**
 * profile: a sampling profiler on perf_event_open, in TypeScript (Deno, Bun,
 * Node 26). Samples the threads of a process (or of a command it starts) at
 * -F HZ with user and kernel callchains, names the samples once per batch
 * through procmap, writes pprof / folded stacks / speedscope and prints the
 * top functions.
 *
 *   deno run -A examples/profile.ts [-F HZ] [-d SECONDS] [-o FILE] -p PID
 *   deno run -A examples/profile.ts [-F HZ] [-d SECONDS] [-o FILE] -- CMD [ARGS...]
 *   bun examples/profile.ts ...
 *
 * The logic lives in src/sampler/ (run.ts, output.ts); this file parses the
 * command line.
 */
import process from "node:process";
import { messagePrefix, parseCli, parsePid, usageError } from "./cli.ts";
import { runProfile } from "../src/sampler/run.ts";
import { formatOf, summary, writeProfile } from "../src/sampler/output.ts";
import { SamplerError } from "../src/sampler/sampler.ts";

const PROG = "profile";
const USAGE =
  `usage: profile.ts [-F HZ] [-d SECONDS] [-o FILE] [-e EVENT] [-m PAGES] [--no-kernel] [-n TOP] [--json] (-p PID | -- CMD [ARGS...])

Samples every thread of process PID (following new threads), or of the command
it starts (following its threads and child processes), on perf_event_open.
  -F HZ        samples per second of CPU time, per thread (default 99)
  -d SECONDS   stop after this long (default: when the target ends, or Ctrl-C;
               a command the profiler started is sent SIGTERM then)
  -o FILE      write the profile: *.pb.gz (pprof), *.pb (pprof, not gzipped),
               *.folded (flame-graph stacks), *.speedscope.json
  -e EVENT     cpu-clock (default) or task-clock
  -m PAGES     ring buffer data pages per CPU, a power of two (default 64)
  --no-kernel  user frames only (also what happens, and is said, where the
               kernel refuses kernel frames: perf_event_paranoid >= 2 without
               CAP_PERFMON)
  -n TOP       functions in the summary (default 15)
  --json       the top functions as one JSON object per line:
               {"name","module","self","total"} (self and total in samples)
Prints the top functions by self samples on stdout; progress on stderr when it
is a terminal. Exit status: 0 when a profile was taken (also when the target
ended early: the profile covers it until then), 1 when the target cannot be
sampled (gone, not allowed) or the file cannot be written, 2 for a usage error
or a runtime that cannot profile (Node.js without node:ffi, a CPU other than
x86_64).`;

async function main(): Promise<number> {
  const { values: v, positionals } = parseCli(PROG, USAGE, {
    freq: { type: "string", short: "F" },
    duration: { type: "string", short: "d" },
    output: { type: "string", short: "o" },
    pid: { type: "string", short: "p" },
    event: { type: "string", short: "e" },
    pages: { type: "string", short: "m" },
    "no-kernel": { type: "boolean" },
    top: { type: "string", short: "n" },
    json: { type: "boolean" },
  }, true);
  const number = (name: string, s: string | undefined, fallback: number, integer: boolean) => {
    if (s === undefined) return fallback;
    const n = Number(s);
    if (!/^[0-9.]+$/.test(s) || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
      usageError(PROG, `${name} needs a positive ${integer ? "integer" : "number"}, not ${JSON.stringify(s)}`);
    }
    return n;
  };
  const frequency = number("-F", v.freq, 99, true);
  const duration = v.duration === undefined ? undefined : number("-d", v.duration, 0, false);
  const pages = number("-m", v.pages, 64, true);
  if ((pages & (pages - 1)) !== 0) usageError(PROG, `-m needs a power of two, not ${pages}`);
  const top = number("-n", v.top, 15, true);
  const event = v.event ?? "cpu-clock";
  if (event !== "cpu-clock" && event !== "task-clock") usageError(PROG, `-e takes cpu-clock or task-clock`);
  if ((v.pid === undefined) === (positionals.length === 0)) usageError(PROG, "give either -p PID or -- CMD [ARGS...]");
  const pid = v.pid === undefined ? undefined : parsePid(PROG, v.pid);
  if (pid === "self") usageError(PROG, "-p self would profile the profiler: give another pid");
  if (v.output !== undefined && formatOf(v.output) === undefined) {
    usageError(PROG, `cannot tell the format of ${v.output}: name it *.pb.gz, *.pb, *.folded or *.speedscope.json`);
  }

  const abort = new AbortController();
  process.on("SIGINT", () => abort.abort());
  const tty = process.stderr.isTTY === true;
  let result;
  try {
    result = await runProfile({
      ...(pid !== undefined ? { pid } : { command: positionals }),
      frequency,
      duration,
      event,
      kernel: !v["no-kernel"],
      ringPages: pages,
      signal: abort.signal,
      onStart: (s) =>
        console.error(
          `${messagePrefix(PROG)}: sampling pid ${s.pid} (${s.threads} thread${
            s.threads === 1 ? "" : "s"
          }) at ${frequency} Hz, ` +
            `kernel frames ${s.kernel ? "on" : "off"}`,
        ),
      onProgress: tty
        ? (p) =>
          process.stderr.write(
            `\r${(p.elapsedMs / 1000).toFixed(1)} s: ${p.samples} samples, ${p.threads} threads, ${p.lost} lost  `,
          )
        : undefined,
    });
  } catch (e) {
    if (tty) process.stderr.write("\n");
    if (e instanceof SamplerError) {
      console.error(`${messagePrefix(PROG)}: ${e.message}`);
      return 1;
    }
    console.error(`${messagePrefix(PROG)}: ${(e as Error).message}`);
    return 2;
  }
  if (tty) process.stderr.write("\n");
  for (const note of result.notes) console.error(`${messagePrefix(PROG)}: ${note}`);
  if (result.stats.lost > 0) {
    console.error(
      `${messagePrefix(PROG)}: ${result.stats.lost} records lost (rings full): try a larger -m or a lower -F`,
    );
  }
  if (result.ended === "target-exited") {
    const how = result.exit
      ? ` (${result.exit.signal ? `signal ${result.exit.signal}` : `exit status ${result.exit.code}`})`
      : "";
    console.error(`${messagePrefix(PROG)}: the target ended after ${(result.elapsedMs / 1000).toFixed(1)} s${how}`);
  }
  if (v.output !== undefined) {
    try {
      const what = pid !== undefined ? `pid ${pid}` : positionals.join(" ");
      await writeProfile(result.builder, v.output, [`procmap profile of ${what} at ${frequency} Hz`], result.elapsedMs);
      console.error(`${messagePrefix(PROG)}: wrote ${v.output}`);
    } catch (e) {
      console.error(`${messagePrefix(PROG)}: cannot write ${v.output}: ${(e as Error).message}`);
      return 1;
    }
  }
  if (v.json) {
    // One line per top function, as ProfileBuilder.topFunctions() gives it.
    const { functions } = result.builder.topFunctions({ value: "samples", limit: top });
    for (const f of functions) console.log(JSON.stringify(f));
  } else console.log(summary(result, top));
  return 0;
}

process.exitCode = await main();
