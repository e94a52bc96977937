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

const LIBZ = "libz.so.1";

/**
 * Loads the binding; `addressOf` is the C library binding's. Throws when
 * the FFI permission does not already cover libz (asked without a prompt:
 * under a `--allow-ffi` scoped to the C library, `Deno.dlopen` would
 * prompt in a terminal), or what `Deno.dlopen` throws.
 */
export function load(addressOf: (buf: Uint8Array) => bigint): ZlibCalls {
  if (Deno.permissions.querySync({ name: "ffi", path: LIBZ }).state !== "granted") {
    throw new Error(`no FFI permission for ${LIBZ}`);
  }
  const z = Deno.dlopen(LIBZ, symbols).symbols;
  return zlibOver({
    init: (strm) => z.inflateInit2_(strm, WINDOW_BITS, ZLIB_VERSION, Z_STREAM_BYTES),
    inflate: (strm) => z.inflate(strm, 0),
    end: (strm) => z.inflateEnd(strm),
    addressOf,
  });
}
