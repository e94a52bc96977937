/**
 * The pieces written beside this code, in one place: demangle.ts and xz.ts
 * (merged), and stand-ins for vdso.ts and perf_map.ts so that the
 * symbolizer works and is tested before they land. When they are merged,
 * replace each stub by the real one (same signatures):
 *   export { readVdsoImage } from "./vdso.ts";
 *   perfMapTable: built on perf_map.ts's SymbolTable class (located through
 *   /proc/<pid>/root/tmp/perf-<NSpid>.map).
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import type { Pid } from "../errors.ts";
import type { SymbolTable } from "./types.ts";

export { demangle, isMangled } from "./demangle.ts";
export { xzDecompress } from "./xz.ts";

/** Until vdso.ts: the vDSO's bytes cannot be read. */
export function readVdsoImage(_libc: Libc, _pid: Pid, _start: bigint, _end: bigint): Uint8Array | null {
  return null;
}

/** Until perf_map.ts: the JIT symbols of `pid` from its perf map, or undefined when it has none. */
export function perfMapTable(_libc: Libc, _pid: Pid): SymbolTable | undefined {
  return undefined;
}
