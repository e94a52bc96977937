/**
 * The one error type procmap throws for system-level failures, and the
 * table of the errno values it names.
 * @module
 */
import type { Pid } from "./options.ts";

/**
 * Linux errno values procmap reacts to or reports (generic numbering: x86_64,
 * aarch64, riscv64): the one table {@link ProcMapsError.errno} is derived from.
 */
export const ERRNO: Readonly<Record<ProcMapsErrorCode, number>> = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  ETXTBSY: 26,
  ENOSPC: 28,
  EROFS: 30,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ELOOP: 40,
  EBADMSG: 74,
  EOVERFLOW: 75,
  EOPNOTSUPP: 95,
  EXDEV: 18,
};

/**
 * What a {@link ProcMapsError} is about, as an errno name. Callers can rely on:
 * - `"ESRCH"`: the process does not exist or has exited (also when `open`
 *   itself answered `ENOENT` for a pid that is not there);
 * - `"EACCES"` / `"EPERM"`: the caller may not read this process's memory map
 *   (or, under Deno, FFI is not allowed);
 * - `"ENOTTY"`: no PROCMAP_QUERY here (Linux < 6.11, or a runtime without FFI);
 * - `"EOPNOTSUPP"`: the ioctl's request number is not known for this CPU;
 * - `"EBADMSG"`: text that is not a valid maps line (the message names it);
 * - `"ENAMETOOLONG"`: a name longer than PATH_MAX changed while it was read;
 * - `"EMFILE"` / `"ENFILE"` / `"ENOMEM"`: a temporary shortage of descriptors
 *   or memory; nothing was cached, so the same call can succeed later;
 * - `"ENOSYS"`: not Linux, or the C library could not be loaded;
 * - `"EBADF"`: the handle was closed.
 * Other codes appear only for failures procmap does not expect (an errno
 * outside this table is reported as `"EIO"`, its own name in the message).
 */
export type ProcMapsErrorCode =
  | "EPERM"
  | "ENOENT"
  | "ESRCH"
  | "EINTR"
  | "EIO"
  | "ENXIO"
  | "E2BIG"
  | "EBADF"
  | "EAGAIN"
  | "ENOMEM"
  | "EACCES"
  | "EFAULT"
  | "ENODEV"
  | "ENOTDIR"
  | "EISDIR"
  | "EINVAL"
  | "ENFILE"
  | "EMFILE"
  | "ENOTTY"
  | "ETXTBSY"
  | "ENOSPC"
  | "EROFS"
  | "ENAMETOOLONG"
  | "ENOSYS"
  | "ELOOP"
  | "EBADMSG"
  | "EOVERFLOW"
  | "EOPNOTSUPP"
  | "EXDEV";

/**
 * Why a handle's process can no longer be read (set on every `ESRCH`):
 * - `"exited"`: it has exited (a zombie awaiting its parent, or reaped), or
 *   the pid never existed;
 * - `"exec"`: it is alive but replaced its program (execve): the handle
 *   refers to the old address space; a new handle sees the new program;
 * - `"reused"`: it has exited and another process now has its pid (told
 *   apart by the start time in `/proc/<pid>/stat`, which survives exec but
 *   not reuse).
 */
export type ProcessGoneReason = "exited" | "exec" | "reused";

/** What {@link ProcMapsError}'s constructor takes besides the code. */
export interface ProcMapsErrorOptions {
  /** The process the handle reads. */
  pid: Pid;
  /** The system call or step that failed (`"open"`, `"ioctl(PROCMAP_QUERY)"`, `"read"`, `"parse"`, ...). */
  syscall: string;
  /** What happened and what to do about it. */
  message: string;
  /** The underlying error, if any. */
  cause?: unknown;
  /**
   * The errno the system call returned, when it differs from `code`'s (an
   * `open` that answered ENOENT reported as ESRCH); 0 when no system call
   * failed (a parse error). Default: `code`'s errno.
   */
  errno?: number;
  /** Why the process is gone (`ESRCH` only); see {@link ProcessGoneReason}. */
  reason?: ProcessGoneReason;
}

/**
 * A system-level failure: the process is gone, permission is missing, the
 * kernel or runtime lacks what was asked for, or the maps text is malformed.
 * See {@link ProcMapsErrorCode} for what each `code` means.
 */
export class ProcMapsError extends Error {
  /** errno name, e.g. `"ESRCH"`. */
  readonly code: ProcMapsErrorCode;
  /** errno value of the failed call (0 when the error did not come from a system call). */
  readonly errno: number;
  /** The process the handle reads. */
  readonly pid: Pid;
  /** The system call or step that failed (`"open"`, `"ioctl(PROCMAP_QUERY)"`, `"read"`, `"parse"`, ...). */
  readonly syscall: string;
  /**
   * For `ESRCH`: whether the process exited, replaced its program (exec) or
   * its pid now names another process. Undefined for other codes.
   */
  readonly reason: ProcessGoneReason | undefined;

  /** Makes an error; `errno` defaults to `code`'s value. */
  constructor(code: ProcMapsErrorCode, options: ProcMapsErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ProcMapsError";
    this.code = code;
    this.errno = options.errno ?? ERRNO[code];
    this.pid = options.pid;
    this.syscall = options.syscall;
    this.reason = options.reason ?? (code === "ESRCH" ? "exited" : undefined);
  }
}

const NAME_OF = new Map<number, ProcMapsErrorCode>(
  Object.entries(ERRNO).map(([name, value]) => [value, name as ProcMapsErrorCode]),
);

/** The symbolic name of an errno value, e.g. `"ENOENT"`. */
export function errnoName(errno: number): string {
  const known = NAME_OF.get(errno);
  if (known) return known;
  try {
    // node:util only for an errno procmap does not know (loading it costs Bun 4-5 ms at import).
    const util = (globalThis as { process?: { getBuiltinModule?(id: string): unknown } }).process
      ?.getBuiltinModule?.("node:util") as { getSystemErrorName(e: number): string } | undefined;
    return util ? util.getSystemErrorName(-errno) : `errno ${errno}`;
  } catch {
    return `errno ${errno}`;
  }
}

/** Errors that say nothing about the file or process, only about this moment. */
export function isTransient(errno: number): boolean {
  return errno === ERRNO.EMFILE || errno === ERRNO.ENFILE || errno === ERRNO.ENOMEM ||
    errno === ERRNO.EINTR || errno === ERRNO.EAGAIN;
}

function describe(pid: Pid): string {
  return pid === "self" ? "this process" : `process ${pid}`;
}

/**
 * Turns a failed system call into a ProcMapsError whose message says what to
 * do about it.
 */
export function errorFromErrno(errno: number, pid: Pid, syscall: string, path: string): ProcMapsError {
  const who = describe(pid);
  const name = errnoName(errno);
  const at = { pid, syscall, errno };
  switch (errno) {
    case ERRNO.ENOENT:
      if (syscall === "open") {
        return new ProcMapsError("ESRCH", {
          ...at,
          message: `${who} does not exist (open ${path}: ENOENT); check the pid, the process may have exited`,
        });
      }
      break;
    case ERRNO.ESRCH:
      return new ProcMapsError("ESRCH", {
        ...at,
        message: `${who} has exited (${syscall} ${path}: ESRCH); open a handle on a live process`,
      });
    case ERRNO.EACCES:
    case ERRNO.EPERM:
      return new ProcMapsError(name as ProcMapsErrorCode, {
        ...at,
        message: `no permission to read the memory map of ${who} (${syscall} ${path}: ${name}); ` +
          `run as the process's user or with CAP_SYS_PTRACE (see kernel.yama.ptrace_scope)`,
      });
    case ERRNO.ENOTTY:
      return new ProcMapsError("ENOTTY", {
        ...at,
        message: `this kernel has no PROCMAP_QUERY ioctl (${syscall} ${path}: ENOTTY); it needs Linux 6.11 or later, ` +
          `use backend "text" or "auto"`,
      });
    case ERRNO.EMFILE:
    case ERRNO.ENFILE:
    case ERRNO.ENOMEM:
      return new ProcMapsError(name as ProcMapsErrorCode, {
        ...at,
        message: `${syscall} ${path} failed for ${who}: ${name} (out of ${
          errno === ERRNO.ENOMEM ? "memory" : "file descriptors"
        }); nothing was cached, so retry once some are free`,
      });
  }
  // An errno procmap has no name for in its table keeps its system name in the message.
  const code: ProcMapsErrorCode = NAME_OF.get(errno) ?? "EIO";
  return new ProcMapsError(code, { ...at, message: `${syscall} ${path} failed for ${who}: ${name}` });
}
