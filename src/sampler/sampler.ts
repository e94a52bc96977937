/**
 * The sampler: on each online CPU, one `perf_event_open` event per thread it
 * was asked to follow, inherited (the kernel gives the threads and
 * processes those threads start the event too, from their first
 * instruction), all of a CPU's events writing into one ring buffer. New
 * threads are therefore sampled however long the reader is busy elsewhere
 * (naming a batch): their fork records only count them, nothing has to be
 * opened in time. Threads of a followed process that no followed thread
 * started (those of a process attached to that appear while it is attached)
 * are found by a scan of `/proc/<pid>/task` at each drain. Everything here is
 * runtime-free: the system calls come from `ffi/`'s {@link PerfCalls}.
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import type { Libc, PerfCalls } from "../../ffi/mod.ts";
import { errnoName } from "../errors.ts";
import {
  encodeAttr,
  FLAG_FD_CLOEXEC,
  IOC_DISABLE,
  IOC_ENABLE,
  IOC_SET_OUTPUT,
  RECORD_SAMPLE,
  type SamplerEvent,
} from "./attr.ts";
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
  /** Data pages of each CPU's ring (a power of two; default 64, i.e. 256 KiB). */
  ringPages?: number;
  /** Also follow processes the followed ones fork (default false, as `perf record -p`). */
  followChildren?: boolean;
  /** The CPUs to open events on (default: the online ones). */
  cpus?: readonly number[];
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

/** A live thread of a followed process, opened on or inherited. */
interface Thread {
  pid: number;
  tid: number;
}

/** The ring of one CPU: the first event opened there maps it, the others write into it. */
interface CpuRing {
  cpu: number;
  fd: number;
  ring: Ring;
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

/** The online CPUs (`/sys/devices/system/cpu/online`: "0-3,5"), or undefined when it cannot be read. */
export function onlineCpus(text?: string): number[] | undefined {
  let t = text;
  if (t === undefined) {
    try {
      t = readFileSync("/sys/devices/system/cpu/online", "utf8");
    } catch {
      return undefined;
    }
  }
  const out: number[] = [];
  for (const part of t.trim().split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi - lo > 65535) return undefined;
    for (let c = lo; c <= hi; c++) out.push(c);
  }
  return out.length > 0 ? out : undefined;
}

/** Samples the threads of some processes. */
export class Sampler implements Disposable {
  readonly #perf: PerfCalls;
  readonly #libc: Libc;
  readonly #frequency: number;
  readonly #event: SamplerEvent;
  #ringPages: number;
  readonly #followChildren: boolean;
  readonly #cpus: number[];
  /** Whether kernel frames are sampled; false once the kernel refused them. */
  #kernel: boolean;
  /** The live threads of the followed processes, by tid (ended ones are only counted). */
  readonly #threads = new Map<number, Thread>();
  /** Threads with events of their own (the rest inherited theirs). */
  readonly #opened = new Set<number>();
  /** Every event descriptor, kept open until close(): closing an event ends the events its threads passed on. */
  readonly #fds: number[] = [];
  readonly #rings = new Map<number, CpuRing>();
  readonly #processes = new Set<number>();
  /** Processes attached to (not started under the events): threads that no followed thread started may appear. */
  readonly #attached = new Set<number>();
  /**
   * Threads that exited, or could not be opened, while /proc still lists them (a zombie leader): never opened
   * again. Forgotten once /proc stops listing them.
   */
  readonly #ended = new Set<number>();
  /** Threads a scan found that no fork record announced: opened if the next scan still finds them unannounced. */
  #unannounced = new Set<number>();
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
    this.#ringPages = opts.ringPages ?? 64;
    this.#followChildren = opts.followChildren ?? false;
    this.#cpus = opts.cpus ? [...opts.cpus] : onlineCpus() ?? [0];
  }

  /** True while kernel frames are being sampled. */
  get kernel(): boolean {
    return this.#kernel;
  }

  /** Things said once (kernel frames refused, smaller rings), in order. */
  get notes(): readonly string[] {
    return this.#notes;
  }

  /** Threads seen and not ended. */
  get liveThreads(): number {
    return this.#threads.size;
  }

  /** The name of a thread (its comm), as last seen. */
  comm(tid: number): string | undefined {
    return this.#comms.get(tid);
  }

  /**
   * Follows process `pid`: events on each of its threads (`enableOnExec`:
   * on its single thread, disabled until it execs, for a command about to be
   * started). Throws {@link SamplerError} when no thread can be followed.
   */
  follow(pid: number, enableOnExec = false): void {
    this.#processes.add(pid);
    if (!enableOnExec) this.#attached.add(pid);
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

  /** A thread seen (opened on, or announced by a fork record). */
  #see(pid: number, tid: number): void {
    if (this.#threads.has(tid)) return;
    this.#threads.set(tid, { pid, tid });
    this.stats.threads++;
  }

  /** A thread ended (its exit record, or /proc no longer lists it). */
  #end(tid: number): void {
    if (this.#threads.delete(tid)) this.stats.threadsEnded++;
  }

  #perfOpen(tid: number, cpu: number, enableOnExec: boolean, excludeKernel: boolean): number {
    const attr = encodeAttr({
      event: this.#event,
      frequency: this.#frequency,
      excludeKernel,
      enableOnExec,
      inherit: true,
    });
    return this.#perf.perfEventOpen(attr, tid, cpu, -1, FLAG_FD_CLOEXEC);
  }

  /** Opens the events of one thread, one per CPU; false when the thread is gone. Throws SamplerError when refused. */
  #open(pid: number, tid: number, enableOnExec: boolean): boolean {
    if (this.#opened.has(tid)) return true;
    if (this.#ended.has(tid)) return false;
    const fds: number[] = [];
    try {
      for (const cpu of this.#cpus) {
        const fd = this.#openOn(pid, tid, cpu, enableOnExec);
        if (fd === undefined) {
          this.#discard(fds);
          this.stats.threadsMissed++;
          this.#ended.add(tid);
          return false;
        }
        fds.push(fd);
      }
    } catch (e) {
      this.#discard(fds);
      throw e;
    }
    for (const fd of fds) {
      this.#fds.push(fd);
      if (!enableOnExec) this.#perf.ioctlInt(fd, IOC_ENABLE, 0);
    }
    this.#opened.add(tid);
    this.#see(pid, tid);
    this.#readComm(tid, pid);
    return true;
  }

  /** Closes events of a thread that could not be opened on every CPU (and the rings they had mapped). */
  #discard(fds: number[]): void {
    for (const [cpu, r] of this.#rings) {
      if (!fds.includes(r.fd)) continue;
      r.ring.close();
      this.#rings.delete(cpu);
    }
    for (const fd of fds) this.#libc.close(fd);
  }

  /** The event of one thread on one CPU, its records routed to that CPU's ring; undefined when the thread is gone. */
  #openOn(pid: number, tid: number, cpu: number, enableOnExec: boolean): number | undefined {
    let fd = this.#perfOpen(tid, cpu, enableOnExec, !this.#kernel);
    if ((fd === -EACCES || fd === -EPERM) && this.#kernel) {
      // perf_event_paranoid >= 2 without CAP_PERFMON: user frames only.
      const retry = this.#perfOpen(tid, cpu, enableOnExec, true);
      if (retry >= 0) {
        this.#kernel = false;
        this.#notes.push(
          `kernel frames are not sampled: kernel.perf_event_paranoid is ${paranoid()} and this process lacks ` +
            `CAP_PERFMON (run as root, or set the sysctl to 1 or lower)`,
        );
      }
      fd = retry;
    }
    if (fd === -ESRCH) return undefined;
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
    const own = this.#rings.get(cpu);
    if (own) {
      const r = this.#perf.ioctlInt(fd, IOC_SET_OUTPUT, own.fd);
      if (r < 0) {
        this.#libc.close(fd);
        throw new SamplerError(errnoName(-r), `routing thread ${tid}'s records to CPU ${cpu}'s ring: ${errnoName(-r)}`);
      }
      return fd;
    }
    let ring = Ring.map(this.#perf, fd, this.#ringPages);
    while (typeof ring === "number" && ring === -EPERM && this.#ringPages > 1) {
      // The locked-memory allowance (perf_event_mlock_kb) is used up: smaller rings for this and later CPUs.
      this.#ringPages >>= 1;
      this.#notes.push(`ring buffers shrunk to ${this.#ringPages} pages per CPU (perf_event_mlock_kb reached)`);
      ring = Ring.map(this.#perf, fd, this.#ringPages);
    }
    if (typeof ring === "number") {
      this.#libc.close(fd);
      throw new SamplerError(errnoName(-ring), `mmap of the ring buffer of CPU ${cpu}: ${errnoName(-ring)}`);
    }
    this.#rings.set(cpu, { cpu, fd, ring });
    return fd;
  }

  /**
   * Reads every ring; counts the threads fork records announce (they have
   * the events already) and follows the processes they start when asked;
   * follows threads found in `/proc/<pid>/task` that no followed thread
   * started. Returns the samples of followed processes read since the last
   * call.
   */
  drain(scan = true): RawSample[] {
    for (const r of this.#rings.values()) this.#read(r.ring);
    if (scan) this.#scan();
    const out = this.#samples;
    this.#samples = [];
    return out;
  }

  /** Reads one CPU's ring: samples of followed processes kept, counts counted, threads and processes seen. */
  #read(ring: Ring): void {
    ring.read((type, misc, view, at, size) => {
      if (type === RECORD_SAMPLE) {
        const s = decodeSample(view, at, size);
        // Processes a followed one started have the events too; without followChildren they are not profiled.
        if (s && this.#processes.has(s.pid)) {
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
        case "fork": {
          if (e.pid !== e.ppid) {
            if (!this.#followChildren || !this.#processes.has(e.ppid)) break;
            this.#processes.add(e.pid);
          } else if (!this.#processes.has(e.pid)) break;
          // It runs under the name it was started with until a COMM record says otherwise.
          const comm = this.#comms.get(e.ptid);
          if (comm !== undefined && !this.#comms.has(e.tid)) this.#comms.set(e.tid, comm);
          if (this.#ended.has(e.tid)) {
            // Its exit was read first (rings are read one after the other).
            this.stats.threads++;
            this.stats.threadsEnded++;
          } else this.#see(e.pid, e.tid);
          break;
        }
        case "exit":
          if (this.#processes.has(e.pid)) this.#ended.add(e.tid);
          this.#end(e.tid);
          break;
      }
    });
  }

  /**
   * Opens events on threads of followed processes that no fork record
   * announced (started by a thread without events: of a process attached
   * to, while it was being attached to) once two scans in a row found them,
   * since the fork record of a thread may be written just after /proc lists
   * it; marks threads that are gone as ended; forgets processes that are.
   */
  #scan(): void {
    const alive = new Set<number>();
    const listed = new Set<number>();
    const unannounced = new Set<number>();
    for (const pid of this.#processes) {
      const all = this.#tasks(pid);
      for (const t of all) listed.add(t);
      const tids = all.filter((t) => !this.#ended.has(t));
      if (tids.length === 0) {
        this.#processes.delete(pid);
        this.#attached.delete(pid);
      }
      for (const tid of tids) {
        alive.add(tid);
        // In a process started under the events every thread has them (a zombie leader stays listed).
        if (this.#threads.has(tid) || !this.#attached.has(pid)) continue;
        if (!this.#unannounced.has(tid)) {
          unannounced.add(tid);
          continue;
        }
        try {
          this.#open(pid, tid, false);
        } catch (e) {
          if (!(e instanceof SamplerError)) throw e;
          this.#notes.push(e.message);
        }
      }
    }
    this.#unannounced = unannounced;
    for (const tid of [...this.#threads.keys()]) if (!alive.has(tid)) this.#end(tid);
    for (const tid of this.#ended) if (!listed.has(tid)) this.#ended.delete(tid);
  }

  /** True while some followed process still has threads. */
  get following(): boolean {
    return this.#processes.size > 0;
  }

  /** Stops sampling: every event disabled and closed, every ring unmapped. Idempotent. */
  close(): void {
    for (const fd of this.#fds) this.#perf.ioctlInt(fd, IOC_DISABLE, 0);
    for (const r of this.#rings.values()) r.ring.close();
    for (const fd of this.#fds) this.#libc.close(fd);
    this.#fds.length = 0;
    this.#rings.clear();
    this.#threads.clear();
    this.#opened.clear();
    this.#processes.clear();
    this.#attached.clear();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
