/**
 * The backend contract: what ProcMaps and resolve() need from a source of
 * VMAs (the ioctl or the maps text); the Request (request.ts) tells it what
 * to fetch.
 * @module
 */
import type { Vma } from "./vma.ts";
import type { VmaTable } from "./table/vma_table.ts";
import type { BackendKind } from "./options.ts";
import type { Request } from "./request.ts";

/** Steps through VMAs: each call returns the next one, or null at the end. */
export interface Cursor {
  next(): Vma | null;
  /** Ends the walk early (a `break`): what it holds may be reused. */
  close?(): void;
}

/**
 * Finds VMAs for addresses given in ascending order (resolve()'s loop).
 * `seek(hi, lo)` moves to the first VMA ending above the address `hi:lo`
 * (its 32-bit halves; covering it, or the next one) and returns false when
 * there is none. The current VMA's bounds are kept as halves too, so the
 * loop compares numbers, not bigints, per address, and the VMA itself is
 * made only when an address lands in it.
 */
export interface Seeker {
  seek(hi: number, lo: number): boolean;
  /** The current VMA's start and end as 32-bit halves (valid after a successful seek). */
  readonly startHi: number;
  readonly startLo: number;
  readonly endHi: number;
  readonly endLo: number;
  /** The current VMA, with its name. */
  current(): Vma;
  /** Done with it: what it holds may be reused. */
  close?(): void;
}

/**
 * Where the VMAs of a process lie, as of some earlier moment: what the
 * planner counts a batch's queries against (a parsed text is one).
 */
export interface VmaIndex {
  /** Number of VMAs. */
  readonly count: number;
  /** Index of the first VMA whose end lies above the address; `count` when none. */
  firstEndingAbove(addrHi: number, addrLo: number): number;
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
  /**
   * The VMAs a cursor over the same arguments would return, below `to`
   * (all when undefined), as a table; `signal` is checked as it goes.
   */
  table(from: bigint, to: bigint | undefined, request: Request, signal: AbortSignal | undefined): VmaTable;
  /**
   * A seeker for one batch of ascending addresses. The text backend reads a
   * fresh snapshot for it; the ioctl backend queries live.
   */
  seeker(): Seeker;
  /**
   * The build ID of the file behind `vma` (a VMA this backend returned),
   * as the kernel reports it: undefined when the file has none or it is
   * not the same file any more.
   */
  buildIdOf(vma: Vma): string | undefined;
  /** The last snapshot's index, if this backend keeps one (the text backend). */
  lastIndex(): VmaIndex | undefined;
  /** Forgets any snapshot, so the next query reads the process afresh. */
  refresh(): void;
  /** Releases memory held for the handle (the descriptor is closed by the caller). */
  dispose(): void;
}
