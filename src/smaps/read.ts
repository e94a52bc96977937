/**
 * The one place smaps text is read from the kernel: relative to the
 * handle's `/proc/<pid>` directory, checked against the handle's maps.
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import { ERRNO, ProcMapsError } from "../errors.ts";
import { readWhole, type TextRead } from "../procfs/read.ts";
import type { ProcessRef } from "../procfs/process.ts";
import { lastRecordStart, type SmapsParser } from "./parser.ts";

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

/** Bytes of smaps read at a time (a piece grows only for a record larger than this). */
const PIECE = 1 << 20;

/**
 * Reads the handle's smaps in pieces into one buffer (`buffer` when it is
 * large enough, else a new one of a MiB, grown only for a record larger than
 * it), feeding `parser` whole records as they come, so that a large text is
 * never held whole; then checks, as {@link readSmapsText} does, that the
 * process outlived the read before the last piece is parsed. Returns the
 * buffer and the text's length.
 *
 * @throws {ProcMapsError} as readSmapsText, and `EBADMSG` for a malformed line.
 */
export function streamSmaps(
  libc: Libc,
  proc: ProcessRef,
  parser: SmapsParser,
  buffer?: Uint8Array,
): { buffer: Uint8Array; length: number } {
  const path = `/proc/${proc.pid}/smaps`;
  const fd = proc.openAt("smaps");
  if (fd < 0) throw smapsError(-fd, proc, "open", path);
  let buf = buffer !== undefined && buffer.length >= PIECE ? buffer : new Uint8Array(PIECE);
  let filled = 0, offset = 0;
  try {
    for (;;) {
      if (buf.length - filled < 4096) {
        const cut = lastRecordStart(buf, filled);
        if (cut > 0) {
          parser.feed(buf, cut, offset);
          buf.copyWithin(0, cut, filled);
          offset += cut;
          filled -= cut;
        } else {
          const grown = new Uint8Array(buf.length * 2);
          grown.set(buf.subarray(0, filled));
          buf = grown;
        }
        continue;
      }
      const n = libc.pread(fd, buf.subarray(filled), offset + filled);
      if (n < 0) throw smapsError(-n, proc, "read", path);
      if (n === 0) break;
      filled += n;
    }
  } finally {
    libc.close(fd);
  }
  proc.requireAlive();
  if (offset + filled === 0) throw proc.error(ERRNO.ESRCH, "read", path);
  parser.feed(buf, filled, offset);
  return { buffer: buf, length: offset + filled };
}

/**
 * The number of the line at offset `at` of the handle's smaps text, read
 * again (error messages only: a streamed text is not kept).
 */
export function smapsLineAt(libc: Libc, proc: ProcessRef, at: number): number {
  const fd = proc.openAt("smaps");
  if (fd < 0) return 0;
  const buf = new Uint8Array(PIECE);
  let line = 1;
  try {
    for (let read = 0; read < at;) {
      const n = libc.pread(fd, buf.subarray(0, Math.min(buf.length, at - read)), read);
      if (n <= 0) break;
      for (let i = 0; i < n; i++) if (buf[i] === 0x0a) line++;
      read += n;
    }
  } finally {
    libc.close(fd);
  }
  return line;
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
