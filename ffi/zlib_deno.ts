/**
 * Deno binding of {@link ZlibCalls}: `libz.so.1` through `Deno.dlopen`
 * (needs an unscoped `--allow-ffi`, or one naming libz too).
 * @module
 */
import { WINDOW_BITS, Z_STREAM_BYTES, ZLIB_VERSION, type ZlibCalls, zlibOver } from "./zlib.ts";

const symbols = {
  // int inflateInit2_(z_streamp strm, int windowBits, const char *version, int stream_size)
  inflateInit2_: { parameters: ["buffer", "i32", "buffer", "i32"], result: "i32" },
  // int inflate(z_streamp strm, int flush)
  inflate: { parameters: ["buffer", "i32"], result: "i32" },
  // int inflateEnd(z_streamp strm)
  inflateEnd: { parameters: ["buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** Loads the binding (throws what `Deno.dlopen` throws); `addressOf` is the C library binding's. */
export function load(addressOf: (buf: Uint8Array) => bigint): ZlibCalls {
  const z = Deno.dlopen("libz.so.1", symbols).symbols;
  return zlibOver({
    init: (strm) => z.inflateInit2_(strm, WINDOW_BITS, ZLIB_VERSION, Z_STREAM_BYTES),
    inflate: (strm) => z.inflate(strm, 0),
    end: (strm) => z.inflateEnd(strm),
    addressOf,
  });
}
