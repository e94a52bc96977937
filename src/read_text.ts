/**
 * Reading procfs text files whole. They report size 0, so read until EOF;
 * each read() of a seq_file returns at most about a page, so the buffer only
 * decides how often we copy, not how many calls the kernel needs.
 * @module
 */
import type { Libc } from "../ffi/mod.ts";

/** Bytes read and the buffer holding them (`bytes.length` may exceed `length`). */
export interface TextRead {
  bytes: Uint8Array;
  length: number;
}

/**
 * Reads `fd` from offset 0 to EOF. `sizeHint` sizes the first buffer (the
 * size of the previous read of the same file is a good hint). Returns -errno
 * on failure.
 */
export function readWhole(libc: Libc, fd: number, sizeHint = 0): TextRead | number {
  let bytes = new Uint8Array(Math.max(65536, Math.ceil(sizeHint * 1.25) + 4096));
  let length = 0;
  for (;;) {
    if (bytes.length - length < 4096) {
      const grown = new Uint8Array(bytes.length * 2);
      grown.set(bytes.subarray(0, length));
      bytes = grown;
    }
    const n = libc.pread(fd, bytes.subarray(length), length);
    if (n < 0) return n;
    if (n === 0) return { bytes, length };
    length += n;
  }
}

const probe = new Uint8Array(1);

/**
 * True when the process behind a maps descriptor still has its memory: a
 * process that exits mid-read cuts its text short, and the text still looks
 * whole (the read just ends), so only a text the process outlived is
 * complete. One byte at offset 0 costs the kernel one line. Returns -errno
 * when the read fails.
 */
export function stillMapped(libc: Libc, fd: number): boolean | number {
  const n = libc.pread(fd, probe, 0);
  return n < 0 ? n : n > 0;
}
