/**
 * What ProcMaps needs from a source of VMAs (the ioctl or the maps text).
 * @module
 */
import type { Request } from "./options.ts";
import type { Vma } from "./vma.ts";

/** Which source a handle reads: the PROCMAP_QUERY ioctl or the maps text. */
export type BackendKind = "ioctl" | "text";

/** Steps through VMAs: each call returns the next one, or null at the end. */
export interface Cursor {
  next(): Vma | null;
}

/** A source of VMAs for one open maps file. */
export interface Backend {
  readonly kind: BackendKind;
  /** The VMA PROCMAP_QUERY semantics give for `addr`, or null (ENOENT). */
  query(addr: bigint, request: Request): Vma | null;
  /**
   * A cursor over the VMAs matching the request's filters that end above
   * `from`, in address order.
   */
  cursor(from: bigint, request: Request): Cursor;
  /** Forgets any snapshot, so the next query reads the process afresh. */
  refresh(): void;
  /** Releases memory held for the handle (the descriptor is closed by the caller). */
  dispose(): void;
}
