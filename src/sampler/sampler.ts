/**
 * The sampler: one `perf_event_open` event per thread of the processes it
 * follows (each with its own ring buffer), new threads picked up from the
 * fork records of the threads already followed and from a scan of
 * `/proc/<pid>/task` at each drain, ended threads drained one last time and
 * closed. Everything here is runtime-free: the system calls come from
 * `ffi/`'s {@link PerfCalls}.
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import type { Libc, PerfCalls } from "../../ffi/mod.ts";
import { errnoName } from "../errors.ts";
import { encodeAttr, FLAG_FD_CLOEXEC, IOC_DISABLE, IOC_ENABLE, RECORD_SAMPLE, type SamplerEvent } from "./attr.ts";
import { Ring } from "./ring.ts";
import { decodeEvent, decodeSample, type RawSample } from "./records.ts";

/** Options of a {@link Sampler}. */
export interface SamplerOptions {
  /** Samples per second per thread (of CPU time). */
  frequency: number;
  /** The clock the samples are taken on (default `"cpu-clock"`, perf's fallback where there is no PMU). */
  event?: SamplerEvent;
  /** Ask for kernel frames (default true; refused without privilege, then left out and said). */
  kernel?: boolean;
  /** Data pages of each thread's ring (a power of two; default 16, i.e. 64 KiB). */
  ringPages?: number;
  /** Also follow processes the followed ones fork (default false, as `perf record -p`). */
  followChildren?: boolean;
}

/** What a sampler has counted. */
export interface SamplerStats {
  samples: number;
  /** Records the kernel could not write because a ring was full (PERF_RECORD_LOST). */
  lost: number;
  /** Times the kernel throttled an event (too many samples for `perf_event_max_sample_rate`). */
  throttled: number;
  /** Threads followed so far, and ended. */
  threads: number;
  threadsEnded: number;
  /** Threads that ended before an event could be opened on them. */
  threadsMissed: number;
}

interface Thread {
  pid: number;
  tid: number;
  fd: number;
  ring: Ring;
  ended: boolean;
}

const ESRCH = 3;
const EACCES = 13;
const EPERM = 1;

/** Why an event could not be opened, for people. */
export class SamplerError extends Error {
  /** errno name (`EACCES`, `EPERM`, `ESRCH`, ...). */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "SamplerError";
    this.code = code;
  }
}

function paranoid(): string {
  try {
    return readFileSync("/proc/sys/kernel/perf_event_paranoid", "utf8").trim();
  } catch {
    return "?";
  }
}

/** Samples the threads of some processes. */
export class Sampler implements Disposable {
  readonly #perf: PerfCalls;
  readonly #libc: Libc;
  readonly #frequency: number;
  readonly #event: SamplerEvent;
  #ringPages: number;
  readonly #followChildren: boolean;
  /** Whether kernel frames are sampled; false once the kernel refused them. */
  #kernel: boolean;
  readonly #threads = new Map<number, Thread>();
  readonly #processes = new Set<number>();
  /** Threads whose event was closed: never opened again (a zombie leader stays listed in /proc). */
  readonly #ended = new Set<number>();
  readonly #comms = new Map<number, string>();
  readonly #notes: string[] = [];
  #samples: RawSample[] = [];
  readonly stats: SamplerStats = { samples: 0, lost: 0, throttled: 0, threads: 0, threadsEnded: 0, threadsMissed: 0 };

  constructor(perf: PerfCalls, libc: Libc, opts: SamplerOptions) {
    this.#perf = perf;
    this.#libc = libc;
    this.#frequency = opts.frequency;
    this.#event = opts.event ?? "cpu-clock";
    this.#kernel = opts.kernel ?? true;
    this.#ringPages = opts.ringPages ?? 16;
    this.#followChildren = opts.followChildren ?? false;
  }

  /** True while kernel frames are being sampled. */
  get kernel(): boolean {
    return this.#kernel;
  }

  /** Things said once (kernel frames refused, smaller rings), in order. */
  get notes(): readonly string[] {
    return this.#notes;
  }

  /** Threads with an open event now. */
  get liveThreads(): number {
    let n = 0;
    for (const t of this.#threads.values()) if (!t.ended) n++;
    return n;
  }

  /** The name of a thread (its comm), as last seen. */
  comm(tid: number): string | undefined {
    return this.#comms.get(tid);
  }

  /**
   * Follows process `pid`: an event on each of its threads (`enableOnExec`:
   * its single thread, disabled until it execs, for a command about to be
   * started). Throws {@link SamplerError} when no thread can be followed.
   */
  follow(pid: number, enableOnExec = false): void {
    this.#processes.add(pid);
    const tids = enableOnExec ? [pid] : this.#tasks(pid);
    if (tids.length === 0) throw new SamplerError("ESRCH", `process ${pid} does not exist (or has no threads left)`);
    let opened = 0;
    let firstError: SamplerError | undefined;
    for (const tid of tids) {
      try {
        if (this.#open(pid, tid, enableOnExec)) opened++;
      } catch (e) {
        if (!(e instanceof SamplerError)) throw e;
        firstError ??= e;
      }
    }
    if (opened === 0) throw firstError ?? new SamplerError("ESRCH", `process ${pid} has exited`);
  }

  #tasks(pid: number): number[] {
    try {
      return readdirSync(`/proc/${pid}/task`).map(Number).filter((t) => Number.isInteger(t) && t > 0);
    } catch {
      return [];
    }
  }

  #readComm(tid: number, pid: number): void {
    try {
      this.#comms.set(tid, readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").replace(/\n$/, ""));
    } catch {
      // Gone already: its COMM records may still name it.
    }
  }

  /** Opens the event of one thread; false when the thread is gone. Throws SamplerError when refused. */
  #open(pid: number, tid: number, enableOnExec: boolean): boolean {
    if (this.#threads.has(tid)) return true;
    if (this.#ended.has(tid)) return false;
    let fd = this.#perf.perfEventOpen(
      encodeAttr({ event: this.#event, frequency: this.#frequency, excludeKernel: !this.#kernel, enableOnExec }),
      tid,
      -1,
      -1,
      FLAG_FD_CLOEXEC,
    );
    if ((fd === -EACCES || fd === -EPERM) && this.#kernel) {
      // perf_event_paranoid >= 2 without CAP_PERFMON: user frames only.
      const retry = this.#perf.perfEventOpen(
        encodeAttr({ event: this.#event, frequency: this.#frequency, excludeKernel: true, enableOnExec }),
        tid,
        -1,
        -1,
        FLAG_FD_CLOEXEC,
      );
      if (retry >= 0) {
        this.#kernel = false;
        this.#notes.push(
          `kernel frames are not sampled: kernel.perf_event_paranoid is ${paranoid()} and this process lacks ` +
            `CAP_PERFMON (run as root, or set the sysctl to 1 or lower)`,
        );
      }
      fd = retry;
    }
    if (fd === -ESRCH) {
      this.stats.threadsMissed++;
      this.#ended.add(tid);
      return false;
    }
    if (fd < 0) {
      const code = errnoName(-fd);
      const why = code === "EACCES" || code === "EPERM"
        ? ` (not allowed to trace it: another user's or a non-dumpable process needs root or CAP_PERFMON with ` +
          `ptrace access; kernel.perf_event_paranoid is ${paranoid()})`
        : code === "ENOENT" || code === "EOPNOTSUPP"
        ? " (this kernel has no such software event)"
        : "";
      throw new SamplerError(code, `perf_event_open on thread ${tid} of process ${pid}: ${code}${why}`);
    }
    let ring = Ring.map(this.#perf, fd, this.#ringPages);
    while (typeof ring === "number" && ring === -EPERM && this.#ringPages > 1) {
      // The locked-memory allowance (perf_event_mlock_kb) is used up: smaller rings for this and later threads.
      this.#ringPages >>= 1;
      this.#notes.push(`ring buffers shrunk to ${this.#ringPages} pages per thread (perf_event_mlock_kb reached)`);
      ring = Ring.map(this.#perf, fd, this.#ringPages);
    }
    if (typeof ring === "number") {
      this.#libc.close(fd);
      throw new SamplerError(errnoName(-ring), `mmap of the ring buffer of thread ${tid}: ${errnoName(-ring)}`);
    }
    this.#threads.set(tid, { pid, tid, fd, ring, ended: false });
    this.stats.threads++;
    this.#readComm(tid, pid);
    if (!enableOnExec) this.#perf.ioctlInt(fd, IOC_ENABLE, 0);
    return true;
  }

  /**
   * Reads every ring; follows threads announced by fork records and found
   * in `/proc/<pid>/task`; closes threads that ended. Returns the samples
   * read since the last call.
   */
  drain(scan = true): RawSample[] {
    const forks: { pid: number; tid: number }[] = [];
    for (const t of this.#threads.values()) if (!t.ended) this.#read(t, forks);
    for (const f of forks) {
      this.#processes.add(f.pid);
      try {
        this.#open(f.pid, f.tid, false);
      } catch (e) {
        if (!(e instanceof SamplerError)) throw e;
        this.#notes.push(e.message);
      }
    }
    if (scan) this.#scan();
    for (const [tid, t] of this.#threads) {
      if (!t.ended) continue;
      this.#close(t);
      this.#threads.delete(tid);
      this.#ended.add(tid);
      this.stats.threadsEnded++;
    }
    const out = this.#samples;
    this.#samples = [];
    return out;
  }

  /** Reads the ring of `t`: samples kept, counts counted, forks to follow pushed on `forks`. */
  #read(t: Thread, forks: { pid: number; tid: number }[]): void {
    t.ring.read((type, misc, view, at, size) => {
      if (type === RECORD_SAMPLE) {
        const s = decodeSample(view, at, size);
        if (s) {
          this.#samples.push(s);
          this.stats.samples++;
        }
        return;
      }
      const e = decodeEvent(type, misc, view, at, size);
      if (!e) return;
      switch (e.kind) {
        case "lost":
          this.stats.lost += e.lost;
          break;
        case "throttle":
          if (e.on) this.stats.throttled++;
          break;
        case "comm":
          this.#comms.set(e.tid, e.comm);
          break;
        case "fork":
          if (e.pid === e.ppid ? this.#processes.has(e.pid) : this.#followChildren) forks.push(e);
          break;
        case "exit":
          if (e.tid === t.tid) t.ended = true;
          break;
      }
    });
  }

  /** Opens events on threads that appeared, marks those gone as ended (their rings are read once more). */
  #scan(): void {
    const alive = new Set<number>();
    for (const pid of this.#processes) {
      const tids = this.#tasks(pid).filter((t) => !this.#ended.has(t));
      if (tids.length === 0) this.#processes.delete(pid);
      for (const tid of tids) {
        alive.add(tid);
        if (!this.#threads.has(tid)) {
          try {
            this.#open(pid, tid, false);
          } catch (e) {
            if (!(e instanceof SamplerError)) throw e;
            this.#notes.push(e.message);
          }
        }
      }
    }
    for (const t of this.#threads.values()) {
      if (!t.ended && !alive.has(t.tid)) {
        this.#read(t, []);
        t.ended = true;
      }
    }
  }

  /** True while some followed process still has threads. */
  get following(): boolean {
    return this.#processes.size > 0;
  }

  #close(t: Thread): void {
    this.#perf.ioctlInt(t.fd, IOC_DISABLE, 0);
    t.ring.close();
    this.#libc.close(t.fd);
  }

  /** Stops sampling: every event disabled and closed, every ring unmapped. Idempotent. */
  close(): void {
    for (const t of this.#threads.values()) this.#close(t);
    this.#threads.clear();
    this.#processes.clear();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
