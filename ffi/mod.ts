/**
 * Picks the binding for the running runtime. The only place that asks which
 * runtime this is; everything above `ffi/` is runtime-free.
 * @module
 */
import type { Libc } from "./libc.ts";

export type { Arch, FileId, Libc } from "./libc.ts";
export { FfiPermissionError } from "./libc.ts";

type Loader = () => Libc;

const g = globalThis as { Deno?: unknown; Bun?: unknown };

// Each binding is imported dynamically: `bun:ffi` cannot even be parsed as an
// import by Deno, and Node has neither. Loading the module costs nothing;
// opening libc waits for the first use (so a missing --allow-ffi surfaces as a
// clear error on open, not at import).
const loader: Loader = g.Deno !== undefined
  ? (await import("./deno.ts")).load
  : g.Bun !== undefined
  ? (await import("./bun.ts")).load
  : (await import("./node.ts")).load;

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
