/**
 * The C reference inside a suite's own process: bench/ref.c built as
 * bench/out/libref.so (by bench/run.mjs) and called through the runtime's
 * FFI, one call per batch. Timed by the same tinybench loop as the JS tasks
 * and interleaved with them, so host drift (this machine's C ioctl moves by
 * tens of percent from one second to the next) falls on both sides alike.
 *
 * Benchmark harness only: the library's FFI layer stays in ffi/; this file
 * opens a different library and is never shipped.
 * @module
 */
import process from "node:process";

/** ref.c's modes, by their index in its `modes[]` table. */
export const REF_MODE = {
  "point-noname": 0,
  "point-name": 1,
  "point-buildid": 2,
  "walk-ioctl": 3,
  "walk-text": 4,
  "parse": 5,
} as const;
/** A mode of bench/ref.c. */
export type RefMode = keyof typeof REF_MODE;

/** `long ref_batch(int mode, int fd, uint64_t data, long n)`. */
export type RefBatch = (mode: number, fd: number, data: bigint, n: number) => number;

interface BunFfi {
  dlopen(path: string, symbols: Record<string, { args: string[]; returns: string }>): {
    symbols: { ref_batch: (mode: number, fd: number, data: bigint, n: number) => number | bigint };
  };
}
interface NodeFfi {
  dlopen(path: string, symbols: Record<string, { return: string; arguments: string[] }>): {
    functions: { ref_batch: (mode: number, fd: number, data: bigint, n: bigint) => number | bigint };
  };
}

/** Opens bench/out/libref.so with this runtime's FFI. */
export function loadRef(path: string): RefBatch {
  if ((globalThis as { Deno?: unknown }).Deno !== undefined) {
    const f = Deno.dlopen(path, { ref_batch: { parameters: ["i32", "i32", "u64", "i64"], result: "i64" } })
      .symbols.ref_batch;
    return (mode, fd, data, n) => Number(f(mode, fd, data, BigInt(n)));
  }
  if (process.versions.bun) {
    const ffi = process.getBuiltinModule("bun:ffi") as BunFfi;
    const f = ffi.dlopen(path, { ref_batch: { args: ["i32", "i32", "u64", "i64"], returns: "i64" } }).symbols
      .ref_batch;
    return (mode, fd, data, n) => Number(f(mode, fd, data, n));
  }
  const ffi = process.getBuiltinModule("node:ffi") as NodeFfi;
  const f = ffi.dlopen(path, { ref_batch: { return: "int64", arguments: ["int32", "int32", "uint64", "int64"] } })
    .functions.ref_batch;
  return (mode, fd, data, n) => Number(f(mode, fd, data, BigInt(n)));
}
