/**
 * resolve()'s results as columns ({@link ResolvedTable}): one row per
 * distinct address, typed arrays filled once the batch is located
 * (fill.ts: no bigint made), and the object form (`resolve()`) as views of
 * its rows.
 * @module
 */
import type { VmaTable } from "../table/vma_table.ts";
import { TableBuilder } from "../table/builder.ts";
import { Columns } from "../util/columns.ts";
import { nativeLittleEndian } from "../util/bytes.ts";
import { releaseBatch } from "./batch.ts";
import { fillRows, type Finished } from "./fill.ts";
import { resolvedObjects } from "./objects.ts";
import { locateBatch, type LocatedBatch, type ResolveSources, resultOf } from "./resolve.ts";
import {
  MAPPING_KINDS,
  type MappingKind,
  RESOLVE_REASONS,
  type Resolved,
  type ResolvePlan,
  type ResolveReason,
} from "./types.ts";

/** A DataView over a u64 column's bytes. */
function viewOf(column: BigUint64Array): DataView {
  return new DataView(column.buffer, column.byteOffset, column.byteLength);
}

/** Element `r` of a u64 column, through its DataView (native byte order). */
function u64At(view: DataView, r: number): bigint {
  return view.getBigUint64(8 * r, nativeLittleEndian);
}

/**
 * Makes a table's rows into {@link Resolved} objects: the columns and what
 * is known per VMA read once into fields (made with the first view).
 */
class RowReader {
  readonly #vma: Int32Array;
  readonly #reason: Uint8Array;
  readonly #finished: readonly Finished[];
  readonly #wide: Map<number, [bigint, bigint | undefined]> | undefined;
  readonly #list: unknown[] | undefined;
  readonly #first: Uint32Array;
  /** The u64 columns through DataViews: JavaScriptCore makes a bigint from getBigUint64 several times faster. */
  readonly #addr: DataView;
  readonly #offset: DataView;
  readonly #elf: DataView;
  /** Per VMA, whether its ELF addresses equal its file offsets. */
  readonly #shiftZero: boolean[];

  constructor(
    t: ResolvedTable,
    finished: readonly Finished[],
    wide: Map<number, [bigint, bigint | undefined]>,
    list: unknown[] | undefined,
    first: Uint32Array,
  ) {
    this.#vma = t.vma;
    this.#reason = t.reason;
    this.#finished = finished;
    this.#wide = wide.size !== 0 ? wide : undefined;
    this.#list = list;
    this.#first = first;
    this.#addr = viewOf(t.addr);
    this.#offset = viewOf(t.fileOffset);
    this.#elf = viewOf(t.elfAddr);
    this.#shiftZero = finished.map((f) => f.segments?.[0]?.shift === 0n);
  }

  /** Row `r` as a {@link Resolved}, or null where nothing is mapped. */
  at(r: number): Resolved | null {
    const e = this.#vma[r];
    if (e < 0) return null;
    const f = this.#finished[e];
    const code = this.#reason[r];
    let fileOffset: bigint | undefined;
    let elfAddr: bigint | undefined;
    if (f.delta !== undefined) {
      const wide = this.#wide?.get(r);
      if (wide) [fileOffset, elfAddr] = wide;
      else {
        fileOffset = u64At(this.#offset, r);
        // Libraries map their code at file offset = ELF address: one bigint serves both.
        if (code === 0) elfAddr = this.#shiftZero[e] ? fileOffset : u64At(this.#elf, r);
      }
    }
    // The caller's own bigint where it gave one (results hold the caller's values).
    const v = this.#list?.[this.#first[r]];
    return resultOf(f, typeof v === "bigint" ? v : u64At(this.#addr, r), fileOffset, elfAddr, code);
  }
}

/**
 * The results of a batch as columns, one row per distinct address of the
 * batch in order of first appearance, with {@link index} giving each input
 * position's row: what {@link ProcMaps.resolveTable} returns. For profilers
 * with 10^5-10^6 addresses a second: the columns are filled without a
 * bigint or an object per address, and the VMAs the batch lands in are one
 * {@link VmaTable} ({@link vmas}, with names and build IDs), so a row's
 * mapping is `vmas.name(vma[r])`, `vmas.buildId(vma[r])`, `vmas.start[vma[r]]`.
 * `at(i)` gives input position `i` as the {@link Resolved} object
 * {@link ProcMaps.resolve} returns (made on first use; equal addresses
 * share one).
 *
 * A row's `fileOffset` holds a value where the kind is `"file"`,
 * `"deleted"` or `"memory-file"`, its `elfAddr` where moreover `reason` is 0;
 * elsewhere they hold 0 ({@link fileOffsetAt} and {@link elfAddrAt} say
 * `undefined` there).
 *
 * @example
 * ```ts
 * using maps = ProcMaps.open(pid);
 * const t = maps.resolveTable(samples); // a BigUint64Array, or any iterable of bigints
 * for (let r = 0; r < t.length; r++) {
 *   const v = t.vma[r]; // -1: nothing mapped there
 *   if (v >= 0 && t.reason[r] === 0) console.log(t.vmas.name(v), t.vmas.buildId(v), t.elfAddr[r]);
 * }
 * const sampleRow = t.index[0]; // the row of the first input address
 * ```
 */
export class ResolvedTable {
  /** Number of rows: the batch's distinct addresses. */
  readonly length: number;
  /** Each row's address (the distinct addresses, in order of first appearance). */
  readonly addr: BigUint64Array;
  /** Each row's VMA: its row in {@link vmas}, or -1 where nothing is mapped. */
  readonly vma: Int32Array;
  /** Each row's file offset (`addr - vma.start + vma.offset`); 0 where there is none. */
  readonly fileOffset: BigUint64Array;
  /** Each row's ELF virtual address (through the file's PT_LOAD headers); 0 where there is none. */
  readonly elfAddr: BigUint64Array;
  /** Each row's {@link MappingKind}, as its index in `MAPPING_KINDS` (0: nothing mapped). */
  readonly kind: Uint8Array;
  /** Why a row has no file offset or ELF address, as its index in `RESOLVE_REASONS` (0: both are set). */
  readonly reason: Uint8Array;
  /** For each input position, its row. */
  readonly index: Uint32Array;
  /** How the batch was located, and what the planner measured. */
  readonly plan: ResolvePlan;
  readonly #finished: Finished[];
  /** The caller's values (an iterable's), and per row the first input position holding it. */
  readonly #list: unknown[] | undefined;
  readonly #first: Uint32Array;
  /** Values that do not fit 64 bits (a lying ELF header's segment), by row: [fileOffset, elfAddr]. */
  readonly #wide: Map<number, [bigint, bigint | undefined]>;
  /** The object views made so far, by row (dense once made). */
  #views: (Resolved | null | undefined)[] | undefined;

  /** @internal resolveTable() builds tables; user code receives them. */
  constructor(located: LocatedBatch) {
    const { batch, plan } = located;
    const n = batch.count;
    this.length = n;
    this.#wide = fillRows(batch, located.finished);
    // The VMAs in address order (VmaTable.find() searches them so), each row's entry renumbered to match.
    const found = located.finished;
    const order = found.map((_, i) => i);
    let sorted = true;
    for (let i = 1; i < found.length && sorted; i++) sorted = found[i - 1].vma.start < found[i].vma.start;
    if (!sorted) {
      order.sort((a, b) => {
        const x = found[a].vma.start, y = found[b].vma.start;
        return x < y ? -1 : x > y ? 1 : 0;
      });
      const renumber = new Int32Array(order.length);
      order.forEach((old, k) => renumber[old] = k);
      const entry = batch.entry;
      for (let r = 0; r < n; r++) {
        const e = entry[r];
        if (e >= 0) entry[r] = renumber[e];
      }
    }
    this.#finished = sorted ? found : order.map((i) => found[i]);
    this.#list = batch.list;
    this.plan = plan;
    const inputs = batch.slot.length;
    const big = (w: Uint32Array) => new BigUint64Array(w.buffer, w.byteOffset, n);
    if (4 * n >= inputs) {
      // The batch's own columns (one ArrayBuffer for the whole batch), its first n rows.
      const rows = <T extends Uint8Array | Int32Array | Uint32Array>(a: T): T =>
        a.length === n ? a : a.subarray(0, n) as T;
      this.vma = rows(batch.entry);
      this.kind = rows(batch.kind);
      this.reason = rows(batch.reason);
      this.#first = rows(batch.first);
      this.addr = big(batch.addrWords);
      this.fileOffset = big(batch.offsetWords);
      this.elfAddr = big(batch.elfWords);
      this.index = batch.slot;
    } else {
      // Mostly repeats: the rows get columns of their own, so the batch's (n inputs long) can go.
      const c = new Columns(n, 3, 0, 2, 2);
      const copy = <T extends Uint8Array | Uint32Array>(to: T, from: T, width: number): T => (
        to.set(from.subarray(0, width * n)), to
      );
      this.addr = big(copy(c.u64(), batch.addrWords, 2));
      this.fileOffset = big(copy(c.u64(), batch.offsetWords, 2));
      this.elfAddr = big(copy(c.u64(), batch.elfWords, 2));
      const v = copy(c.u32(), new Uint32Array(batch.entry.buffer, batch.entry.byteOffset, n), 1);
      this.vma = new Int32Array(v.buffer, v.byteOffset, n);
      this.#first = copy(c.u32(), batch.first, 1);
      this.kind = copy(c.u8(), batch.kind, 1);
      this.reason = copy(c.u8(), batch.reason, 1);
      this.index = batch.slot.slice();
    }
  }

  #vmas: VmaTable | undefined;

  /**
   * The VMAs the batch lands in, in address order (names; build IDs unless
   * `buildId: false`): row `vma[r]` is row `r`'s. Made on first use
   * (resolve()'s objects hold the VMAs themselves).
   */
  get vmas(): VmaTable {
    if (this.#vmas) return this.#vmas;
    const b = new TableBuilder(true, true, this.#finished.length);
    for (const f of this.#finished) b.appendVma(f.vma);
    return (this.#vmas = b.finish());
  }

  /** Number of input addresses (the length of {@link index}). */
  get inputLength(): number {
    return this.index.length;
  }

  /** Row `r`'s kind, or `undefined` where nothing is mapped. */
  kindAt(r: number): MappingKind | undefined {
    return MAPPING_KINDS[this.kind[r]];
  }

  /** Row `r`'s reason (as {@link Resolved.reason}). */
  reasonAt(r: number): ResolveReason | undefined {
    return RESOLVE_REASONS[this.reason[r]];
  }

  /** Row `r`'s file offset, or `undefined` where it has none. */
  fileOffsetAt(r: number): bigint | undefined {
    const f = this.#finishedOf(r);
    if (f?.delta === undefined) return undefined;
    return this.#wide.size !== 0 && this.#wide.has(r) ? this.#wide.get(r)![0] : this.fileOffset[r];
  }

  /** Row `r`'s ELF virtual address, or `undefined` where it has none. */
  elfAddrAt(r: number): bigint | undefined {
    const f = this.#finishedOf(r);
    if (f?.delta === undefined || this.reason[r] !== 0) return undefined;
    return this.#wide.size !== 0 && this.#wide.has(r) ? this.#wide.get(r)![1] : this.elfAddr[r];
  }

  #finishedOf(r: number): Finished | undefined {
    if (!(r >= 0 && r < this.length)) return undefined;
    const e = this.vma[r];
    return e < 0 ? undefined : this.#finished[e];
  }

  /**
   * Input position `i` as {@link ProcMaps.resolve} gives it: a
   * {@link Resolved}, or null where nothing is mapped; the same object for
   * every position of one row. A negative `i` counts from the end;
   * `undefined` out of range.
   */
  at(i: number): Resolved | null | undefined {
    if (!Number.isInteger(i)) throw new TypeError(`input position must be an integer, got ${String(i)}`);
    if (i < 0) i += this.index.length;
    if (i < 0 || i >= this.index.length) return undefined;
    return this.rowAt(this.index[i]);
  }

  /** Row `r` as a {@link Resolved} (or null where nothing is mapped), made once. */
  rowAt(r: number): Resolved | null {
    if (!Number.isInteger(r) || r < 0 || r >= this.length) throw new RangeError(`no row ${String(r)}`);
    const views = this.#viewList();
    return views[r] ?? (views[r] = this.#view(r));
  }

  #viewList(): (Resolved | null | undefined)[] {
    if (this.#views) return this.#views;
    // Filled in order from empty: JavaScriptCore makes `new Array(n)` sparse from n = 100,000.
    const views: (Resolved | null | undefined)[] = [];
    for (let r = 0; r < this.length; r++) views.push(undefined);
    return (this.#views = views);
  }

  #view(r: number): Resolved | null {
    return (this.#reader ??= new RowReader(this, this.#finished, this.#wide, this.#list, this.#first)).at(r);
  }

  #reader: RowReader | undefined;

  /** Every input position's result, in input order: what {@link ProcMaps.resolve} returns. */
  toArray(): (Resolved | null)[] {
    // Views of every row first, then one per input (arrays filled in order from empty).
    let views = this.#views;
    if (views === undefined) {
      views = this.#views = [];
      const reader = this.#reader ??= new RowReader(this, this.#finished, this.#wide, this.#list, this.#first);
      for (let r = 0; r < this.length; r++) views.push(reader.at(r));
    } else for (let r = 0; r < this.length; r++) views[r] ??= this.#view(r);
    const out: (Resolved | null)[] = [];
    const index = this.index;
    for (let i = 0; i < index.length; i++) out.push(views[index[i]]!);
    return out;
  }

  /** JSON form: what `JSON.stringify(resolve())` gives, the rows' objects in input order (null where nothing is mapped). */
  toJSON(): unknown[] {
    return this.toArray().map((r) => r && r.toJSON());
  }
}

/** Resolves a batch into columns; see ProcMaps.resolveTable. */
export function resolveTable(src: ResolveSources, addrs: unknown, opts: unknown): ResolvedTable {
  return new ResolvedTable(locateBatch(src, addrs, opts));
}

/** Resolves a batch into objects; see ProcMaps.resolve. */
export function resolveBatch(src: ResolveSources, addrs: unknown, opts: unknown): (Resolved | null)[] {
  // The objects hold no view of the batch's columns: its ArrayBuffer serves the next batch.
  const { batch, finished } = locateBatch(src, addrs, opts, true);
  const objects = resolvedObjects(batch, finished);
  releaseBatch(batch);
  return objects;
}
