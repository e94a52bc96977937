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
  /**
   * The same with the input in pieces: `next()` gives the stream's next
   * bytes (valid until it is called again), undefined at the end of the
   * input. A reader of a file reuses one small buffer for them, so a prefix
   * costs no copy of the compressed section and reads only what it inflates.
   */
  inflateFrom(next: () => Uint8Array | undefined, out: Uint8Array): { written: number; ended: boolean } | number;
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
  const inflateFrom = (next: () => Uint8Array | undefined, out: Uint8Array) => {
    if (out.length > 0xffffffff) return -4;
    const strm = new Uint8Array(Z_STREAM_BYTES);
    const v = new DataView(strm.buffer);
    let r = raw.init(strm);
    if (r !== Z_OK) return r < 0 ? r : -2;
    try {
      // next_in (0), avail_in (8), next_out (24), avail_out (32); avail_* are 32 bits: sections stay below 2^32.
      v.setBigUint64(24, out.length ? raw.addressOf(out) : 0n, true);
      v.setUint32(32, out.length, true);
      // The piece being inflated, referenced here while zlib reads it.
      let src: Uint8Array | undefined;
      let inputEnded = false;
      for (;;) {
        if (v.getUint32(8, true) === 0 && !inputEnded) {
          src = next();
          // An empty piece ends the input as none does (so that a source giving only those cannot loop).
          if (src === undefined || src.length === 0) inputEnded = true;
          else {
            if (src.length > 0xffffffff) return -4;
            v.setBigUint64(0, raw.addressOf(src), true);
            v.setUint32(8, src.length, true);
          }
        }
        const inBefore = v.getUint32(8, true), outBefore = v.getUint32(32, true);
        // Z_NO_FLUSH: as much as the input and the output allow.
        r = raw.inflate(strm);
        const inLeft = v.getUint32(8, true), outLeft = v.getUint32(32, true);
        if (r === Z_STREAM_END) return { written: out.length - outLeft, ended: true };
        if (r !== Z_OK && r !== Z_BUF_ERROR) return r < 0 ? r : -3;
        // Output full, or no more input to give: as far as it went. No progress with input left: stop too
        // (zlib says Z_BUF_ERROR then; a bound on the loop either way).
        if (outLeft === 0 || (inLeft === 0 && inputEnded)) return { written: out.length - outLeft, ended: false };
        if (inLeft === inBefore && outLeft === outBefore && inLeft > 0) {
          return { written: out.length - outLeft, ended: false };
        }
      }
    } finally {
      raw.end(strm);
    }
  };
  return {
    inflateFrom,
    inflateInto(src, out) {
      let given = false;
      return inflateFrom(() => {
        if (given) return undefined;
        given = true;
        return src;
      }, out);
    },
  };
}
