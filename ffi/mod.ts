/**
 * Picks the binding for the running runtime. The only place that asks which
 * runtime this is; everything above `ffi/` is runtime-free.
 * @module
 */
import type { Libc } from "./libc.ts";
import { load as loadDeno } from "./deno.ts";
import { load as loadBun } from "./bun.ts";
import { load as loadNode } from "./node.ts";
import { type PerfCalls, perfEventOpenNumber } from "./perf.ts";
import { load as loadPerfDeno } from "./perf_deno.ts";
import { load as loadPerfBun } from "./perf_bun.ts";
import { load as loadPerfNode } from "./perf_node.ts";
import type { ZlibCalls } from "./zlib.ts";
import { load as loadZlibDeno } from "./zlib_deno.ts";
import { load as loadZlibBun } from "./zlib_bun.ts";

export type { Arch, FileId, Libc } from "./libc.ts";
export type { PerfCalls } from "./perf.ts";
export type { ZlibCalls } from "./zlib.ts";
export { emptyFileId, FfiPermissionError } from "./libc.ts";
export * from "./constants.ts";
export { readEnv } from "./env.ts";

const g = globalThis as { Deno?: unknown; Bun?: unknown };

// Every binding module loads under every runtime (each fetches its runtime's
// FFI only inside load(), with process.getBuiltinModule or the Deno global),
// so the choice is synchronous: no top-level await, and require() works.
// Opening libc waits for the first use (so a missing --allow-ffi surfaces as
// a clear error on open, not at import).
const loader: () => Libc = g.Deno !== undefined ? loadDeno : g.Bun !== undefined ? loadBun : loadNode;

let libc: Libc | undefined;

/**
 * The binding for this runtime, loaded on first use. Throws what loading
 * threw (and tries again next time: a permission may since have been granted).
 */
export function getLibc(): Libc {
  return libc ??= loader();
}

/**
 * Replaces the binding (tests use it to simulate a kernel without
 * PROCMAP_QUERY); returns the previous one. Not part of the public API.
 */
export function setLibcForTesting(next: Libc): Libc {
  const prev = getLibc();
  libc = next;
  return prev;
}

let perf: PerfCalls | undefined;

/**
 * The profiler's calls (perf_event_open, mmap, ioctl, memory views) for this
 * runtime, loaded on first use. Throws an Error saying why where they cannot
 * be had: a CPU other than x86_64, Node.js without node:ffi, Deno without
 * `--allow-ffi`.
 */
export function getPerf(): PerfCalls {
  if (perf) return perf;
  const arch = getLibc().arch;
  const nr = perfEventOpenNumber(arch);
  if (nr === undefined) {
    throw new Error(`the profiler runs on x86_64 only (this CPU is ${arch}): see ffi/perf.ts`);
  }
  const load = g.Deno !== undefined ? loadPerfDeno : g.Bun !== undefined ? loadPerfBun : loadPerfNode;
  return perf = load(nr);
}

let zlib: ZlibCalls | null | undefined;

/**
 * zlib's inflate through this runtime's FFI (`libz.so.1`), loaded on first
 * use: it can stop at a byte count and take its input in pieces (a prefix of
 * a compressed section read and inflated only as far as needed), and needs no
 * `node:zlib` (in Deno, loading it loads the whole Node layer, 25-50 ms of CPU
 * time). Deno and Bun; undefined in Node.js (26.12's `node:ffi` corrupted
 * memory now and then with a z_stream fed from a reused buffer: procmap uses
 * `node:zlib` there), where there is no libz, or in Deno without the FFI
 * permission for it.
 */
export function getZlib(): ZlibCalls | undefined {
  if (zlib === undefined) {
    zlib = null;
    try {
      if (g.Deno !== undefined) zlib = loadZlibDeno(getLibc().addressOf);
      else if (g.Bun !== undefined) zlib = loadZlibBun(getLibc().addressOf);
    } catch {
      zlib = null;
    }
  }
  return zlib ?? undefined;
}
