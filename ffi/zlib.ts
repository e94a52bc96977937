/**
 * zlib's inflate through the runtime's FFI (the system's `libz.so.1`), for
 * compressed debug sections where loading `node:zlib` costs more than the
 * inflate: in Deno the first `node:` module loads its whole Node layer
 * (25-50 ms of CPU time in a fresh process). Where it cannot be had (no
 * libz, no FFI permission, another runtime) the caller uses `node:zlib`.
 * @module
 */

/** zlib's inflate, one stream at a time. */
export interface ZlibCalls {
  /**
   * Inflates the zlib stream (or the start of one) in `src` into `out`
   * until `out` is full, the input ends or the stream ends: the bytes
   * written and whether the stream ended (its checksum checked), or a
   * negative zlib error (`Z_DATA_ERROR` -3 for a broken stream,
   * `Z_MEM_ERROR` -4, `Z_VERSION_ERROR` -6).
   */
  inflateInto(src: Uint8Array, out: Uint8Array): { written: number; ended: boolean } | number;
}

/** `sizeof(z_stream)` on LP64 (x86_64, aarch64): its pointers and longs are 8 bytes. */
export const Z_STREAM_BYTES = 112;
/** The version string inflateInit2_ checks (zlib compares its first character: the ABI's major). */
export const ZLIB_VERSION: Uint8Array = new TextEncoder().encode("1.2.11\0");
const Z_OK = 0;
const Z_STREAM_END = 1;
const Z_BUF_ERROR = -5;
/** A zlib header and the default window (windowBits 15). */
export const WINDOW_BITS = 15;

/** The three calls a binding provides, on a `z_stream` held in `strm`. */
export interface RawInflate {
  init(strm: Uint8Array): number;
  inflate(strm: Uint8Array): number;
  end(strm: Uint8Array): number;
  /** The address of a buffer (kept referenced by the caller during the calls). */
  addressOf(buf: Uint8Array): bigint;
}

/** {@link ZlibCalls} over a binding's raw calls: the `z_stream` fields written and read here. */
export function zlibOver(raw: RawInflate): ZlibCalls {
  return {
    inflateInto(src, out) {
      const strm = new Uint8Array(Z_STREAM_BYTES);
      const v = new DataView(strm.buffer);
      let r = raw.init(strm);
      if (r !== Z_OK) return r < 0 ? r : -2;
      try {
        // next_in (0), avail_in (8), next_out (24), avail_out (32); avail_* are 32 bits: sections stay below 2^32.
        if (src.length > 0xffffffff || out.length > 0xffffffff) return -4;
        v.setBigUint64(0, src.length ? raw.addressOf(src) : 0n, true);
        v.setUint32(8, src.length, true);
        v.setBigUint64(24, out.length ? raw.addressOf(out) : 0n, true);
        v.setUint32(32, out.length, true);
        // Z_NO_FLUSH: as much as the input and the output allow; again while it progresses.
        for (let i = 0; i < 64; i++) {
          r = raw.inflate(strm);
          const inLeft = v.getUint32(8, true), outLeft = v.getUint32(32, true);
          if (r === Z_STREAM_END) return { written: out.length - outLeft, ended: true };
          if (r === Z_BUF_ERROR || (r === Z_OK && (inLeft === 0 || outLeft === 0))) {
            return { written: out.length - outLeft, ended: false };
          }
          if (r !== Z_OK) return r < 0 ? r : -3;
        }
        return -3;
      } finally {
        raw.end(strm);
      }
    },
  };
}
