/**
 * A whole profiling run: attach to a process (or start a command, held
 * before its exec until the event is open), sample it, name the samples in
 * batches (one `symbolize()` per process and batch, through the ioctl where
 * the runtime has it), until the duration ends, the target ends or the
 * caller aborts; the profile is whatever was sampled by then.
 * @module
 */
import { spawn } from "node:child_process";
import process from "node:process";
import type { Writable } from "node:stream";
import { getLibc, getPerf } from "../../ffi/mod.ts";
import { ProfileBuilder } from "../profile/builder.ts";
import type { Symbolizer } from "../symbolize/symbolizer.ts";
import type { SamplerEvent } from "./attr.ts";
import { Sampler, SamplerError, type SamplerStats } from "./sampler.ts";

/** What to profile, and how. */
export interface RunOptions {
  /** A running process to attach to. */
  pid?: number;
  /** A command to start and profile from its exec (`[file, ...args]`). */
  command?: readonly string[];
  /** Samples per second of CPU time, per thread (default 99). */
  frequency?: number;
  /** Seconds to sample; default until the target ends (or `signal` aborts). */
  duration?: number;
  /** The sampling clock (default `"cpu-clock"`). */
  event?: SamplerEvent;
  /** Sample kernel frames where allowed (default true). */
  kernel?: boolean;
  /** Data pages of each CPU's ring buffer (power of two, default 64). */
  ringPages?: number;
  /** Milliseconds between reads of the rings (default 50). */
  drainMs?: number;
  /**
   * Milliseconds between naming batches (default 250: a process that exits is named from its last batch;
   * a process's first samples are named at once, so that its files are known should it exit soon).
   */
  batchMs?: number;
  /** Ends the run early (e.g. on Ctrl-C). */
  signal?: AbortSignal;
  /** Called once the target is being sampled (for a command: before it is let run). */
  onStart?: (s: { pid: number; threads: number; kernel: boolean }) => void;
  /** Called after each batch. */
  onProgress?: (p: Progress) => void;
  /** The Symbolizer to name addresses with (default: the builder's own). */
  symbolizer?: Symbolizer;
}

/** Where a run is. */
export interface Progress {
  elapsedMs: number;
  samples: number;
  lost: number;
  threads: number;
}

/** How a run ended and what it saw. */
export interface RunResult {
  /** The samples, named. */
  builder: ProfileBuilder;
  stats: SamplerStats;
  /** Whether kernel frames were sampled. */
  kernel: boolean;
  /** Things the user should know (sampler and naming), each once. */
  notes: string[];
  /** Why sampling stopped. */
  ended: "duration" | "target-exited" | "aborted";
  /** The command's exit, when the run started one (and it ended). */
  exit: { code: number | null; signal: string | null } | undefined;
  /** The pid sampled (the command's, when one was started). */
  pid: number;
  /** Milliseconds of sampling. */
  elapsedMs: number;
  /** The period of one sample, in nanoseconds. */
  periodNs: number;
}

/** Waits `ms`, or until `signal` aborts (its listener removed either way: the loop sleeps 20 times a second). */
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });

/**
 * The shell that starts a command: it waits for a line on descriptor 3
 * (written once the event is open on it), closes it and execs the command,
 * so that the event, enabled at exec, sees the command from its first
 * instruction.
 */
const GATE = 'read -r _ <&3; exec 3<&-; exec "$@"';

/**
 * Runs a profile. Throws {@link SamplerError} when the target cannot be
 * sampled at all (gone, not allowed), Error when the runtime cannot (no FFI,
 * not x86_64).
 */
export async function runProfile(opts: RunOptions): Promise<RunResult> {
  const frequency = opts.frequency ?? 99;
  const periodNs = Math.round(1e9 / frequency);
  const perf = getPerf();
  const libc = getLibc();
  const builder = new ProfileBuilder({
    sampleTypes: [{ type: "samples", unit: "count" }, { type: "cpu", unit: "nanoseconds" }],
    periodType: { type: "cpu", unit: "nanoseconds" },
    period: periodNs,
    ...(opts.symbolizer ? { symbolizer: opts.symbolizer } : {}),
  });
  const sampler = new Sampler(perf, libc, {
    frequency,
    event: opts.event,
    kernel: opts.kernel,
    ringPages: opts.ringPages,
    followChildren: opts.command !== undefined,
  });
  let exit: RunResult["exit"];
  let pid: number;
  let exited: Promise<void> | undefined;
  try {
    if (opts.command) {
      if (opts.command.length === 0 || opts.command.some((a) => typeof a !== "string")) {
        throw new TypeError("runProfile: command must be a non-empty array of strings");
      }
      const [file, ...args] = opts.command;
      const child = spawn("/bin/sh", ["-c", GATE, "sh", file, ...args], {
        stdio: ["inherit", "inherit", "inherit", "pipe"],
      });
      exited = new Promise<void>((resolve) => {
        child.once("exit", (code, sig) => {
          exit = { code, signal: sig };
          resolve();
        });
        child.once("error", () => {
          exit = { code: null, signal: null };
          resolve();
        });
      });
      if (child.pid === undefined) throw new SamplerError("ENOENT", "cannot start /bin/sh to run the command");
      pid = child.pid;
      try {
        sampler.follow(pid, true);
      } catch (e) {
        child.kill("SIGKILL");
        throw e;
      }
      opts.onStart?.({ pid, threads: sampler.liveThreads, kernel: sampler.kernel });
      const gate = child.stdio[3] as Writable;
      gate.end("\n");
    } else {
      if (opts.pid === undefined) throw new TypeError("runProfile needs a pid or a command");
      pid = opts.pid;
      sampler.follow(pid);
      opts.onStart?.({ pid, threads: sampler.liveThreads, kernel: sampler.kernel });
    }
  } catch (e) {
    sampler.close();
    builder.close();
    throw e;
  }
  const drainMs = opts.drainMs ?? 50;
  const batchMs = opts.batchMs ?? 250;
  const start = performance.now();
  let lastBatch = start;
  let ended: RunResult["ended"] = "duration";
  let commandDone = false;
  exited?.then(() => (commandDone = true));
  // Processes whose samples were named once: a new one's are named at the next drain, not the next batch, so
  // that the files it maps are known (and name its later samples) even if it exits before that batch.
  const named = new Set<number>();
  let fresh = false;
  const take = () => {
    for (const s of sampler.drain()) {
      if (!named.has(s.pid)) {
        named.add(s.pid);
        fresh = true;
      }
      const comm = sampler.comm(s.tid);
      builder.add({
        pid: s.pid,
        tid: s.tid,
        stack: s.stack,
        kernelFrames: s.kernelFrames,
        values: [1, s.period || periodNs],
        ...(comm !== undefined ? { labels: { comm } } : {}),
      });
    }
  };
  try {
    for (;;) {
      await sleep(drainMs, opts.signal);
      take();
      const now = performance.now();
      if (fresh || now - lastBatch >= batchMs) {
        fresh = false;
        builder.flush();
        lastBatch = now;
        opts.onProgress?.({
          elapsedMs: now - start,
          samples: sampler.stats.samples,
          lost: sampler.stats.lost,
          threads: sampler.liveThreads,
        });
      }
      if (opts.signal?.aborted) {
        ended = "aborted";
        break;
      }
      if (opts.duration !== undefined && now - start >= opts.duration * 1000) break;
      if (commandDone || !sampler.following) {
        ended = "target-exited";
        break;
      }
    }
    take();
    builder.flush();
  } finally {
    sampler.close();
  }
  const elapsedMs = performance.now() - start;
  if (opts.command && exited) {
    // The run started the command: it ends with the run (and its exit status is reported, also when its
    // threads were seen gone before the runtime saw it exit).
    if (ended !== "target-exited") {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // Already gone.
      }
    }
    await exited;
  }
  builder.close();
  return {
    builder,
    stats: sampler.stats,
    kernel: sampler.kernel,
    notes: [...sampler.notes, ...builder.warnings],
    ended,
    exit,
    pid,
    elapsedMs,
    periodNs,
  };
}
