/**
 * Picks the binding for the running runtime. The only place that asks which
 * runtime this is; everything above `ffi/` is runtime-free.
 * @module
 */
import type { Libc } from "./libc.ts";
import { load as loadDeno } from "./deno.ts";
import { load as loadBun } from "./bun.ts";
import { load as loadNode } from "./node.ts";

export type { Arch, FileId, Libc } from "./libc.ts";
export { emptyFileId, FfiPermissionError } from "./libc.ts";
export * from "./constants.ts";

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
