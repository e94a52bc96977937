/**
 * Stand-ins for the pieces written beside this code (src/symbolize/
 * demangle.ts, xz.ts, vdso.ts, perf_map.ts), so that the symbolizer works
 * and is tested before they land. When they are merged, replace each stub
 * here by a re-export of the real one (same signatures):
 *   export { demangle, isMangled } from "./demangle.ts";
 *   export { xzDecompress } from "./xz.ts";
 *   export { readVdsoImage } from "./vdso.ts";
 *   perfMapTable: built on perf_map.ts's SymbolTable class.
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import type { Pid } from "../errors.ts";
import type { SymbolTable } from "./types.ts";

/** Until demangle.ts: names stay as they are. */
export function demangle(name: string): string {
  return name;
}

/** Until demangle.ts: the Itanium C++ (`_Z`) and Rust v0 (`_R`) prefixes. */
export function isMangled(name: string): boolean {
  return name.startsWith("_Z") || name.startsWith("_R");
}

/** Until xz.ts: MiniDebugInfo cannot be decompressed. */
export function xzDecompress(_data: Uint8Array, _maxBytes: number): Uint8Array | null {
  return null;
}

/** Until vdso.ts: the vDSO's bytes cannot be read. */
export function readVdsoImage(_libc: Libc, _pid: Pid, _start: bigint, _end: bigint): Uint8Array | null {
  return null;
}

/** Until perf_map.ts: the JIT symbols of `pid` from its perf map, or undefined when it has none. */
export function perfMapTable(_libc: Libc, _pid: Pid): SymbolTable | undefined {
  return undefined;
}
