/**
 * The one place smaps text is read from the kernel: relative to the
 * handle's `/proc/<pid>` directory, checked against the handle's maps.
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import { ERRNO, ProcMapsError } from "../errors.ts";
import { readWhole, type TextRead } from "../procfs/read.ts";
import type { ProcessRef } from "../procfs/process.ts";

/** Which file: per-VMA figures or the process's sums. */
export type SmapsFile = "smaps" | "smaps_rollup";

/**
 * Reads `<file>` of the handle's `/proc/<pid>` directory whole (into
 * `buffer`, or a new one of about `sizeHint` bytes), then checks
 * that the handle's address space outlived the read: a process that exits
 * or execs mid-read cuts the text short (it still looks whole).
 *
 * @throws {ProcMapsError} `EACCES`/`EPERM` (smaps needs ptrace-read access),
 *   `ESRCH` when the process has gone, or the read's errno.
 */
export function readSmapsText(
  libc: Libc,
  proc: ProcessRef,
  file: SmapsFile,
  buffer?: Uint8Array,
  sizeHint = 0,
): TextRead {
  const pid = proc.pid;
  const path = `/proc/${pid}/${file}`;
  // Relative to the handle's /proc/<pid> directory: never another process's smaps.
  const fd = proc.openAt(file);
  if (fd < 0) throw smapsError(-fd, proc, "open", path);
  let r: TextRead | number;
  try {
    r = readWhole(libc, fd, sizeHint, buffer);
  } finally {
    libc.close(fd);
  }
  if (typeof r === "number") throw smapsError(-r, proc, "read", path);
  proc.requireAlive();
  if (r.length === 0) throw proc.error(ERRNO.ESRCH, "read", path);
  return r;
}

function smapsError(errno: number, proc: ProcessRef, syscall: string, path: string): ProcMapsError {
  const pid = proc.pid;
  if (errno === ERRNO.EACCES || errno === ERRNO.EPERM) {
    const name = errno === ERRNO.EACCES ? "EACCES" : "EPERM";
    const who = pid === "self" ? "this process" : `process ${pid}`;
    return new ProcMapsError(name, {
      pid,
      syscall,
      errno,
      message:
        `no permission to read the memory figures of ${who} (${syscall} ${path}: ${name}): smaps needs ptrace-read ` +
        `access (PTRACE_MODE_READ), checked when it is opened, unlike the maps this handle opened earlier; ` +
        `run as the process's user (with the same or fewer privileges) or with CAP_SYS_PTRACE ` +
        `(see kernel.yama.ptrace_scope)`,
    });
  }
  return proc.error(errno, syscall, path);
}
