/**
 * Bun binding of {@link ZlibCalls}: `libz.so.1` through `bun:ffi`, fetched
 * with `process.getBuiltinModule`.
 * @module
 */
import { WINDOW_BITS, Z_STREAM_BYTES, ZLIB_VERSION, type ZlibCalls, zlibOver } from "./zlib.ts";

/** The slice of `bun:ffi` used here. */
interface BunFfi {
  dlopen(
    path: string,
    symbols: Record<string, { args: readonly string[]; returns: string }>,
  ): { symbols: Record<string, (...args: unknown[]) => number | bigint | null> };
}

const symbols = {
  // int inflateInit2_(z_streamp strm, int windowBits, const char *version, int stream_size)
  inflateInit2_: { args: ["ptr", "i32", "ptr", "i32"], returns: "i32" },
  // int inflate(z_streamp strm, int flush)
  inflate: { args: ["ptr", "i32"], returns: "i32" },
  // int inflateEnd(z_streamp strm)
  inflateEnd: { args: ["ptr"], returns: "i32" },
} as const;

/** Loads the binding; throws where libz cannot be opened. */
export function load(addressOf: (buf: Uint8Array) => bigint): ZlibCalls {
  const ffi = process.getBuiltinModule("bun:ffi") as BunFfi;
  const z = ffi.dlopen("libz.so.1", symbols).symbols;
  const n = (r: number | bigint | null) => Number(r);
  return zlibOver({
    init: (strm) => n(z.inflateInit2_(strm, WINDOW_BITS, ZLIB_VERSION, Z_STREAM_BYTES)),
    inflate: (strm) => n(z.inflate(strm, 0)),
    end: (strm) => n(z.inflateEnd(strm)),
    addressOf,
  });
}
