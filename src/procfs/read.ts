/**
 * Reading procfs text files whole. They report size 0, so read until EOF;
 * each read() of a seq_file returns at most about a page, so the buffer only
 * decides how often we copy, not how many calls the kernel needs.
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import { OPEN_READ } from "../../ffi/constants.ts";
import { ERRNO, type ProcMapsError } from "../errors.ts";

/** What turns a failed call on the handle's process into its error (procfs/process.ts's ProcessRef). */
export interface FailsAs {
  error(errno: number, syscall: string, path: string): ProcMapsError;
}

/** Bytes read and the buffer holding them (`bytes.length` may exceed `length`). */
export interface TextRead {
  bytes: Uint8Array;
  length: number;
}

/**
 * Reads `fd` from offset 0 to EOF. `sizeHint` sizes the first buffer (the
 * size of the previous read of the same file is a good hint); `buffer`,
 * kept from an earlier read, is written in place when it fits the hint
 * (and is not four times too large), which spares a large fresh allocation
 * and its page faults. A text that outgrows its buffer goes on in another
 * as large as all read so far, and the pieces are joined once at the end:
 * doubling one buffer would copy the text again at every step (an smaps
 * text of long names runs to hundreds of MB). Returns -errno on failure.
 */
export function readWhole(libc: Libc, fd: number, sizeHint = 0, buffer?: Uint8Array): TextRead | number {
  // A hint sizes the buffer to the text (a quarter and a page to spare): zeroing
  // a larger fresh buffer costs a small process's read more than its parse.
  const size = sizeHint > 0 ? Math.ceil(sizeHint * 1.25) + 4096 : 65536;
  let bytes = buffer !== undefined && buffer.length >= size && (sizeHint === 0 || buffer.length <= 4 * size)
    ? buffer
    : new Uint8Array(size);
  let length = 0;
  /** Filled buffers, in order, and the bytes they hold. */
  let full: Uint8Array[] | undefined;
  let before = 0;
  for (;;) {
    if (bytes.length - length < 4096) {
      (full ??= []).push(bytes.subarray(0, length));
      before += length;
      bytes = new Uint8Array(Math.max(65536, before));
      length = 0;
    }
    const n = libc.pread(fd, bytes.subarray(length), before + length);
    if (n < 0) return n;
    if (n === 0) break;
    length += n;
  }
  if (full === undefined) return { bytes, length };
  const all = new Uint8Array(before + length);
  let at = 0;
  for (const b of full) {
    all.set(b, at);
    at += b.length;
  }
  all.set(bytes.subarray(0, length), at);
  return { bytes: all, length: all.length };
}

/**
 * A whole small file (procfs or not), or undefined when it cannot be opened
 * or read. With `dirfd`, `path` is relative to that directory (openat).
 */
export function readFile(libc: Libc, path: string, dirfd?: number): TextRead | undefined {
  const fd = dirfd === undefined ? libc.openRead(path) : libc.openAt(dirfd, path, OPEN_READ);
  if (fd < 0) return undefined;
  try {
    const r = readWhole(libc, fd);
    return typeof r === "number" ? undefined : r;
  } finally {
    libc.close(fd);
  }
}

const decoder = new TextDecoder();

/** A whole small text file as a string (mountinfo, smaps), or undefined. */
export function readFileText(libc: Libc, path: string, dirfd?: number): string | undefined {
  const r = readFile(libc, path, dirfd);
  return r && decoder.decode(r.bytes.subarray(0, r.length));
}

/**
 * The whole text of an open maps file, into `buffer` when given (see
 * readWhole). Throws ProcMapsError: the read's errno, or ESRCH for an empty
 * text (a live process always has VMAs).
 */
export function readMaps(
  libc: Libc,
  fd: number,
  proc: FailsAs,
  path: string,
  sizeHint = 0,
  buffer?: Uint8Array,
): TextRead {
  const r = readWhole(libc, fd, sizeHint, buffer);
  if (typeof r === "number") throw proc.error(-r, "read", path);
  if (r.length === 0) throw proc.error(ERRNO.ESRCH, "read", path);
  return r;
}

const probe = new Uint8Array(1);

/**
 * Throws ProcMapsError ESRCH unless the process behind a maps descriptor
 * still has its memory: a process that exits mid-read cuts its text short,
 * and the text still looks whole (the read just ends), so only a text the
 * process outlived is complete. One byte at offset 0 costs the kernel one
 * line. (A text ending with the gate area needs no check: the kernel prints
 * that last, and only while the process has its memory; see
 * MapsTable.endsWithGate.)
 */
export function requireOutlived(libc: Libc, fd: number, proc: FailsAs, path: string): void {
  const n = libc.pread(fd, probe, 0);
  if (n < 0) throw proc.error(-n, "read", path);
  if (n === 0) throw proc.error(ERRNO.ESRCH, "read", path);
}
