/**
 * The pieces written beside this code, in one place: demangle.ts and xz.ts
 * (merged), and stand-ins for vdso.ts (a minimal reader) and perf_map.ts
 * (none) so that the symbolizer works and is tested before they land. When they are merged,
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

/** The vDSO is a page or two; anything larger is not one. */
const MAX_VDSO_BYTES = 1 << 20;

/**
 * Until vdso.ts: the vDSO's bytes from `/proc/<pid>/mem` (ptrace access, as
 * for the maps), or null.
 */
export function readVdsoImage(libc: Libc, pid: Pid, start: bigint, end: bigint): Uint8Array | null {
  const len = end - start;
  if (len <= 0n || len > BigInt(MAX_VDSO_BYTES) || end > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  const fd = libc.openRead(`/proc/${pid}/mem`);
  if (fd < 0) return null;
  try {
    const buf = new Uint8Array(Number(len));
    return libc.pread(fd, buf, Number(start)) === buf.length ? buf : null;
  } finally {
    libc.close(fd);
  }
}

/** Until perf_map.ts: the JIT symbols of `pid` from its perf map, or undefined when it has none. */
export function perfMapTable(_libc: Libc, _pid: Pid): SymbolTable | undefined {
  return undefined;
}
