/**
 * The process a handle reads, pinned: a descriptor on its `/proc/<pid>`
 * directory, taken when the handle opens and kept until it closes. Every
 * helper file (`maps`, `map_files/`, `root/`, `mountinfo`, `stat`, `smaps`)
 * is opened relative to it, so it names the process the handle opened even
 * after the pid is reused: lookups in the directory of a reaped process
 * fail (ENOENT) instead of reaching the new one.
 *
 * It also says why a process can no longer be read (exit, exec or pid
 * reuse), from `stat` read through the directory (still the old process,
 * or nothing once it is reaped) and by path (whoever has the pid now): the
 * start time (field 22) survives exec, not reuse.
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import { AT_FDCWD, O_DIRECTORY, O_PATH, OPEN_READ } from "../../ffi/constants.ts";
import { ERRNO, errorFromErrno, type ProcessGoneReason, ProcMapsError } from "../errors.ts";
import type { Pid } from "../options.ts";
import { readFileText, readWhole } from "./read.ts";

/** `PF_KTHREAD` in the flags of `/proc/<pid>/stat` (include/linux/sched.h). */
const PF_KTHREAD = 0x00200000;
/** `PF_EXITING`: the task is in do_exit() (its memory may already be gone). */
const PF_EXITING = 0x00000004;

/** What procmap reads from `/proc/<pid>/stat`. */
export interface ProcStat {
  /** State letter (field 3): `R`, `S`, `D`, `Z` (zombie), `X` (dead), ... */
  state: string;
  /** Task flags (field 9, `PF_*`). */
  flags: number;
  /** Start time in clock ticks after boot (field 22), as its decimal text. */
  startTime: string;
  /** Virtual memory size in bytes (field 23): 0 without an address space. */
  vsize: string;
}

/**
 * Parses `/proc/<pid>/stat`. The command name (field 2) is in parentheses
 * and may itself contain spaces and parentheses, so fields are counted
 * from the last `)`. Undefined for text of another shape.
 */
export function parseStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  // Fields from 3 on.
  const f = text.slice(close + 2).split(" ");
  if (f.length < 21) return undefined;
  const flags = Number(f[6]);
  if (!/^[A-Za-z]$/.test(f[0]) || !Number.isSafeInteger(flags) || !/^\d+$/.test(f[19])) return undefined;
  return { state: f[0], flags, startTime: f[19], vsize: f[20] };
}

const decoder = new TextDecoder();

/** `stat` of the directory `dirfd` names (or, with AT_FDCWD, of `path`), or -errno. */
function readStat(libc: Libc, dirfd: number, path: string): ProcStat | number {
  const fd = libc.openAt(dirfd, path, OPEN_READ);
  if (fd < 0) return fd;
  try {
    const r = readWhole(libc, fd, 512);
    if (typeof r === "number") return r;
    return parseStat(decoder.decode(r.bytes.subarray(0, r.length))) ?? -ERRNO.EIO;
  } finally {
    libc.close(fd);
  }
}

const probe = new Uint8Array(1);

/**
 * Clock ticks per second of `stat`'s times (USER_HZ): 100 on every
 * architecture procmap drives (alpha alone has 1024).
 */
const USER_HZ = 100n;

/** The boot time in whole seconds since the epoch (`btime` of /proc/stat), or undefined. */
function bootTimeSeconds(libc: Libc): bigint | undefined {
  const m = /^btime (\d+)$/m.exec(readFileText(libc, "/proc/stat") ?? "");
  return m ? BigInt(m[1]) : undefined;
}

/** One process, pinned by its `/proc/<pid>` directory; see the module docs. */
export class ProcessRef {
  readonly pid: Pid;
  readonly #libc: Libc;
  /** O_PATH descriptor of `/proc/<pid>`; -1 once closed. */
  #dirfd: number;
  /** The handle's maps descriptor (set once it is open). */
  mapsFd = -1;
  /** Start time at open; undefined if stat could not be read. */
  readonly startTime: string | undefined;
  /** True for a kernel thread: no user address space at all. */
  readonly kernelThread: boolean;

  private constructor(libc: Libc, pid: Pid, dirfd: number, stat: ProcStat | undefined) {
    this.#libc = libc;
    this.pid = pid;
    this.#dirfd = dirfd;
    this.startTime = stat?.startTime;
    this.kernelThread = stat !== undefined && (stat.flags & PF_KTHREAD) !== 0;
  }

  /**
   * Opens `/proc/<pid>` (O_PATH: nothing is read through it) and reads its
   * `stat`. Throws ProcMapsError as open() documents.
   */
  static open(libc: Libc, pid: Pid): ProcessRef {
    const path = `/proc/${pid}`;
    const dirfd = libc.openAt(AT_FDCWD, path, O_PATH | O_DIRECTORY);
    if (dirfd < 0) throw errorFromErrno(-dirfd, pid, "open", path);
    const stat = readStat(libc, dirfd, "stat");
    return new ProcessRef(libc, pid, dirfd, typeof stat === "number" ? undefined : stat);
  }

  /** The directory descriptor, for openat-style calls; throws EBADF once closed. */
  get dirfd(): number {
    if (this.#dirfd < 0) {
      throw new ProcMapsError("EBADF", { pid: this.pid, syscall: "use", message: "the handle is closed" });
    }
    return this.#dirfd;
  }

  /** `openat(/proc/<pid>, name, flags)`: a descriptor or -errno. */
  openAt(name: string | Uint8Array, flags: number = OPEN_READ): number {
    return this.#libc.openAt(this.dirfd, name, flags);
  }

  /**
   * When the process started, in nanoseconds since the epoch: boot time
   * plus `stat`'s start time, or undefined when either is unknown. The boot
   * time comes in whole seconds (cut, not rounded), so this is no later
   * than the true start and at most a second earlier (a step of the
   * system clock since boot moves it too).
   */
  startedAtNs(): bigint | undefined {
    if (this.startTime === undefined) return undefined;
    const boot = bootTimeSeconds(this.#libc);
    if (boot === undefined) return undefined;
    return (boot * USER_HZ + BigInt(this.startTime)) * (1_000_000_000n / USER_HZ);
  }

  /** Closes the directory descriptor. Idempotent. */
  close(): void {
    if (this.#dirfd >= 0) this.#libc.close(this.#dirfd);
    this.#dirfd = -1;
  }

  /**
   * Throws ESRCH (with its reason) unless the maps descriptor still reads
   * the address space it was opened on: a read of its first byte returns
   * nothing once that memory is gone (exit or exec). Called after every
   * read of a helper file, so that what was read is known to belong to the
   * process as the handle saw it, not to whoever has its pid now.
   */
  requireAlive(): void {
    if (this.mapsFd < 0) return;
    const n = this.#libc.pread(this.mapsFd, probe, 0);
    if (n < 0) throw this.error(-n, "read", `/proc/${this.pid}/maps`);
    if (n === 0) throw this.error(ERRNO.ESRCH, "read", `/proc/${this.pid}/maps`);
  }

  /** Why the process cannot be read any more (read when it happens; only on error paths). */
  goneReason(): { reason: ProcessGoneReason; zombie: boolean } {
    const own = this.#dirfd < 0 ? -ERRNO.EBADF : readStat(this.#libc, this.#dirfd, "stat");
    if (typeof own === "number") {
      // Reaped (the directory pins the process, so lookups in it fail only
      // once it is gone). Does someone else have the pid now? Any process
      // there is another one; its start time says so too, unless both
      // started within one clock tick.
      const now = readStat(this.#libc, AT_FDCWD, `/proc/${this.pid}/stat`);
      const gone = own === -ERRNO.ENOENT || own === -ERRNO.ESRCH;
      const reused = typeof now !== "number" && (gone || now.startTime !== this.startTime);
      return { reason: reused ? "reused" : "exited", zombie: false };
    }
    if (own.state === "Z" || own.state === "X") return { reason: "exited", zombie: own.state === "Z" };
    // Alive and the same process (the directory pins it), yet its memory is
    // gone: it exec'd, unless it is exiting (memory is released before the
    // zombie state).
    if ((own.flags & PF_EXITING) !== 0 || own.vsize === "0") return { reason: "exited", zombie: false };
    return { reason: "exec", zombie: false };
  }

  /**
   * The ProcMapsError for a failed call on this process: for ESRCH, with
   * the reason and a message saying what happened and what to do.
   */
  error(errno: number, syscall: string, path: string): ProcMapsError {
    if (errno !== ERRNO.ESRCH) return errorFromErrno(errno, this.pid, syscall, path);
    const { reason, zombie } = this.goneReason();
    const who = this.pid === "self" ? "this process" : `process ${this.pid}`;
    const at = `(${syscall} ${path}: ESRCH)`;
    const message = reason === "exec"
      ? `${who} replaced its program (exec) ${at}; this handle reads the old address space, ` +
        `which is gone: open a new handle to see the new program`
      : reason === "reused"
      ? `${who} has exited and its pid now belongs to another process ${at}; ` +
        `this handle never reads the new one: open a new handle if that is the process you want`
      : zombie
      ? `${who} has exited and awaits its parent (a zombie: no memory left) ${at}; open a handle on a live process`
      : `${who} has exited ${at}; open a handle on a live process`;
    return new ProcMapsError("ESRCH", { pid: this.pid, syscall, errno, message, reason });
  }
}
