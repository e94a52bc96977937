/**
 * {@link ReadAt} over a file descriptor or over bytes in memory, so one ELF
 * reader serves files, debug files and images read from a process (the
 * vDSO, MiniDebugInfo).
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import type { ReadAt } from "./segments.ts";

/** EINTR, EAGAIN, ENOMEM, ENFILE, EMFILE: failures worth trying again, never cached. */
export const TRANSIENT_ERRNOS: ReadonlySet<number> = new Set([4, 11, 12, 23, 24]);

/** A ReadAt on a descriptor that remembers whether a read failed transiently. */
export interface FdReader {
  read: ReadAt;
  /** Set when a pread failed with a transient errno. */
  transient: boolean;
}

/** Reads through `pread`; each read returns a fresh buffer (fewer bytes at end of file). */
export function fdReader(libc: Libc, fd: number): FdReader {
  const r: FdReader = {
    transient: false,
    read: (offset, len) => {
      const buf = new Uint8Array(len);
      let got = 0;
      // pread may return fewer bytes than asked before the end of file (large reads): continue.
      while (got < len) {
        const n = libc.pread(fd, got === 0 ? buf : buf.subarray(got), offset + got);
        if (n < 0) {
          if (TRANSIENT_ERRNOS.has(-n)) r.transient = true;
          return null;
        }
        if (n === 0) break;
        got += n;
      }
      return buf.subarray(0, got);
    },
  };
  return r;
}

/** Reads from bytes in memory. */
export function memoryReader(bytes: Uint8Array): ReadAt {
  return (offset, len) => (offset >= bytes.length ? new Uint8Array(0) : bytes.subarray(offset, offset + len));
}
