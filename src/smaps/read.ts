/**
 * The one place smaps text is read from the kernel (so that reading relative
 * to a `/proc/<pid>` directory descriptor can replace the path here alone).
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import { ERRNO, errorFromErrno, ProcMapsError } from "../errors.ts";
import type { Pid } from "../options.ts";
import { readWhole, requireOutlived, type TextRead } from "../procfs/read.ts";

/** Which file: per-VMA figures or the process's sums. */
export type SmapsFile = "smaps" | "smaps_rollup";

/**
 * Reads `/proc/<pid>/<file>` whole, then checks that the process behind
 * `mapsFd` (the handle's maps descriptor) outlived the read: a process that
 * exits or execs mid-read cuts the text short (it still looks whole), and
 * a path opened afresh could name a reused pid; neither can happen while
 * the handle's own process is still there at the end.
 *
 * @throws {ProcMapsError} `EACCES`/`EPERM` (smaps needs ptrace-read access),
 *   `ESRCH` when the process has gone, or the read's errno.
 */
export function readSmapsText(
  libc: Libc,
  pid: Pid,
  mapsFd: number,
  mapsPath: string,
  file: SmapsFile,
  buffer?: Uint8Array,
): TextRead {
  const path = `/proc/${pid}/${file}`;
  const fd = libc.openRead(path);
  if (fd < 0) throw smapsError(-fd, pid, "open", path);
  let r: TextRead | number;
  try {
    r = readWhole(libc, fd, 0, buffer);
  } finally {
    libc.close(fd);
  }
  if (typeof r === "number") throw smapsError(-r, pid, "read", path);
  requireOutlived(libc, mapsFd, pid, mapsPath);
  if (r.length === 0) throw errorFromErrno(ERRNO.ESRCH, pid, "read", path);
  return r;
}

function smapsError(errno: number, pid: Pid, syscall: string, path: string): ProcMapsError {
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
  return errorFromErrno(errno, pid, syscall, path);
}
