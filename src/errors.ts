/**
 * The one error type procmap throws for system-level failures.
 * @module
 */
import { getSystemErrorName } from "node:util";

/** Linux errno values procmap reacts to (generic numbering: x86_64, aarch64, riscv64). */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EBADF: 9,
  EACCES: 13,
  ENOTTY: 25,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  EOPNOTSUPP: 95,
} as const;

/** The symbolic name of an errno value, e.g. `"ENOENT"`. */
export function errnoName(errno: number): string {
  try {
    return getSystemErrorName(-errno);
  } catch {
    return `errno ${errno}`;
  }
}

/** Which process a handle reads. */
export type Pid = number | "self";

/**
 * A system-level failure: the process is gone, permission is missing, the
 * kernel or runtime lacks what was asked for, or the maps text is malformed.
 *
 * `code` is an errno name. Callers can rely on:
 * - `"ESRCH"`: the process does not exist or has exited (also when `open`
 *   itself answered `ENOENT` for a pid that is not there);
 * - `"EACCES"` / `"EPERM"`: the caller may not read this process's memory map;
 * - `"ENOTTY"`: no PROCMAP_QUERY here (Linux < 6.11, or Node.js without FFI);
 * - `"EOPNOTSUPP"`: the ioctl's request number is not known for this CPU;
 * - `"EBADMSG"`: text that is not a valid maps line (the message names it);
 * - `"ENAMETOOLONG"`: a name longer than PATH_MAX changed while it was read;
 * - `"ENOSYS"`: not Linux, or the C library could not be loaded;
 * - `"EBADF"`: the handle was closed.
 */
export class ProcMapsError extends Error {
  /** errno name, e.g. `"ESRCH"`. */
  readonly code: string;
  /** errno value (0 when the error did not come from a system call). */
  readonly errno: number;
  /** The process the handle reads. */
  readonly pid: Pid;
  /** The system call or step that failed (`"open"`, `"ioctl"`, `"read"`, `"parse"`, ...). */
  readonly syscall: string;

  /** An error `code` (errno name) with its `errno`, for `pid`, from `syscall`; `options.cause` as for Error. */
  constructor(code: string, errno: number, pid: Pid, syscall: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProcMapsError";
    this.code = code;
    this.errno = errno;
    this.pid = pid;
    this.syscall = syscall;
  }
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
  switch (errno) {
    case ERRNO.ENOENT:
      if (syscall === "open") {
        return new ProcMapsError(
          "ESRCH",
          errno,
          pid,
          syscall,
          `${who} does not exist (open ${path}: ENOENT); check the pid, the process may have exited`,
        );
      }
      break;
    case ERRNO.ESRCH:
      return new ProcMapsError(
        "ESRCH",
        errno,
        pid,
        syscall,
        `${who} has exited (${syscall} ${path}: ESRCH); open a handle on a live process`,
      );
    case ERRNO.EACCES:
    case ERRNO.EPERM:
      return new ProcMapsError(
        name,
        errno,
        pid,
        syscall,
        `no permission to read the memory map of ${who} (${syscall} ${path}: ${name}); ` +
          `run as the process's user or with CAP_SYS_PTRACE (see kernel.yama.ptrace_scope)`,
      );
    case ERRNO.ENOTTY:
      return new ProcMapsError(
        "ENOTTY",
        errno,
        pid,
        syscall,
        `this kernel has no PROCMAP_QUERY ioctl (${syscall} ${path}: ENOTTY); it needs Linux 6.11 or later, ` +
          `use backend "text" or "auto"`,
      );
  }
  return new ProcMapsError(name, errno, pid, syscall, `${syscall} ${path} failed for ${who}: ${name}`);
}
