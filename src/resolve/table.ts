/**
 * resolve()'s results as columns ({@link ResolvedTable}): one row per
 * distinct address, typed arrays filled in one pass over the batch with
 * doubles (no bigint made), and the object form (`resolve()`) as views of
 * its rows.
 * @module
 */
import type { VmaTable } from "../table/vma_table.ts";
import { TableBuilder } from "../table/builder.ts";
import { Columns } from "../util/columns.ts";
import { HI, LO, nativeLittleEndian } from "../util/bytes.ts";
import type { Batch } from "./batch.ts";
import { type Finished, locateBatch, type LocatedBatch, REASON_TEXT, type ResolveSources } from "./resolve.ts";
import {
  MAPPING_KINDS,
  type MappingKind,
  RESOLVE_REASONS,
  type Resolved,
  ResolvedResult,
  type ResolvePlan,
  type ResolveReason,
} from "./types.ts";

/** Addresses whose high half is below this are below 2^53: exact as doubles. */
const SAFE_HI = 2 ** 21;
const SAFE_LOW = -(2n ** 52n);
const SAFE_HIGH = 2n ** 52n;
const U64_LIMIT = 1n << 64n;

const KIND_CODE = new Map(MAPPING_KINDS.map((k, i) => [k, i]));
const REASON_CODE = new Map(RESOLVE_REASONS.map((r, i) => [r, i]));
const OUTSIDE_LOAD = REASON_CODE.get("outside-load")!;

function isSafe(v: bigint): boolean {
  return v > SAFE_LOW && v < SAFE_HIGH;
}

/** Where {@link VmaNumbers.words} holds each quantity (a word pair each). */
const DELTA = 0, SEG_START = 2, SEG_END = 4, SHIFT = 6, WORDS_PER_VMA = 8;

/** How the fill loop treats a VMA's rows: no file offset, a fast route (below), or with bigints. */
const NO_OFFSET_ROUTE = 0, FAST_NO_SEGMENT = 1, FAST_SEGMENT = 2, WIDE = 3;

/**
 * What the fill loop needs of each VMA, as numbers, indexed by the VMA's
 * row: typed arrays kept between batches (a batch lands in a handful of
 * VMAs; a typed array made per batch or per VMA cost more than the fill of
 * a few hundred rows in V8).
 */
class VmaNumbers {
  kind = new Uint8Array(16);
  /** The reason code of an address with a file offset and no segment check to make (or no offset). */
  why = new Uint8Array(16);
  route = new Uint8Array(16);
  /**
   * `delta`, the segment's start and end, and its shift as u64 word pairs
   * (two's complement), where the route is fast: every quantity below 2^52 in
   * magnitude, so no sum leaves 64 bits. No segment for the VMA: an empty
   * range [0, 0), every address outside it.
   */
  words = new Uint32Array(16 * WORDS_PER_VMA);

  /** Holds the numbers of `finished`, in its order. */
  fill(finished: Finished[]): this {
    const v = finished.length;
    if (this.kind.length < v) {
      const size = 2 * v;
      this.kind = new Uint8Array(size), this.why = new Uint8Array(size), this.route = new Uint8Array(size);
      this.words = new Uint32Array(size * WORDS_PER_VMA);
    }
    for (let e = 0; e < v; e++) {
      const f = finished[e];
      const segs = f.segments;
      const seg = segs?.[0];
      const fast = f.delta !== undefined && isSafe(f.delta) && (segs === null || segs.length === 0 ||
        (segs.length === 1 && isSafe(seg!.offset) && isSafe(seg!.end) && isSafe(seg!.shift)));
      this.kind[e] = KIND_CODE.get(f.kind)!;
      this.why[e] = REASON_CODE.get(f.why)!;
      this.route[e] = f.delta === undefined ? NO_OFFSET_ROUTE : !fast ? WIDE : segs ? FAST_SEGMENT : FAST_NO_SEGMENT;
      const at = WORDS_PER_VMA * e;
      for (let k = 0; k < WORDS_PER_VMA; k++) this.words[at + k] = 0;
      if (fast) {
        putWords(this.words, at + DELTA, f.delta!);
        if (seg) {
          putWords(this.words, at + SEG_START, seg.offset);
          putWords(this.words, at + SEG_END, seg.end);
          putWords(this.words, at + SHIFT, seg.shift);
        }
      }
    }
    return this;
  }
}

/** The numbers kept between batches, for batches landing in up to this many VMAs (about 150 KB); more get their own. */
const KEEP_VMAS = 4096;
const kept = new VmaNumbers();

/** One u64 and its words: storing a bigint wraps it to 64 bits (two's complement), with no bigint made. */
const oneU64 = new BigUint64Array(1);
const oneWords = new Uint32Array(oneU64.buffer);

/** `v` (wrapped to 64 bits) into words[at], words[at + 1] as a native-order word pair. */
function putWords(words: Uint32Array, at: number, v: bigint): void {
  oneU64[0] = v;
  words[at] = oneWords[0];
  words[at + 1] = oneWords[1];
}

/** A DataView over a u64 column's bytes. */
function viewOf(column: BigUint64Array): DataView {
  return new DataView(column.buffer, column.byteOffset, column.byteLength);
}

/** Element `r` of a u64 column, through its DataView (native byte order). */
function u64At(view: DataView, r: number): bigint {
  return view.getBigUint64(8 * r, nativeLittleEndian);
}

/**
 * Fills the batch's result columns: one pass over its rows. `renumber`
 * takes each row's entry (in the order the batch found its VMAs) to the
 * VMA's place in address order. Sums are made on 32-bit word pairs with a
 * carry (V8 turns a double into 32-bit words several times slower), and
 * the VMAs' numbers are read per row from small typed arrays indexed by
 * the entry (a profile's consecutive rows land in different VMAs about half
 * the time).
 */
function fillRows(
  batch: Batch,
  finished: Finished[],
  m: VmaNumbers,
  wide: Map<number, [bigint, bigint | undefined]>,
  renumber: Int32Array,
): void {
  const { entry, addrWords, offsetWords, elfWords, kind: kindCol, reason: reasonCol } = batch;
  const { kind: kinds, why: whys, route, words: w } = m;
  // The word order as locals: an imported binding is read (and checked) at every use in the loop.
  const hi = HI, lo = LO, count = batch.count;
  for (let r = 0; r < count; r++) {
    const found = entry[r];
    if (found < 0) continue; // kind 0, reason 0, offsets 0: the columns start zeroed
    const e = entry[r] = renumber[found];
    kindCol[r] = kinds[e];
    const how = route[e];
    const ah = addrWords[2 * r + hi];
    // Below 2^53, with quantities below 2^52: the file offset and ELF address are in [0, 2^54), no sum wraps.
    if ((how === FAST_NO_SEGMENT || how === FAST_SEGMENT) && ah < SAFE_HI) {
      const al = addrWords[2 * r + lo];
      const at = WORDS_PER_VMA * e;
      const fl = (al + w[at + DELTA + lo]) >>> 0;
      const fh = (ah + w[at + DELTA + hi] + (fl < al ? 1 : 0)) >>> 0;
      offsetWords[2 * r + lo] = fl;
      offsetWords[2 * r + hi] = fh;
      if (how === FAST_NO_SEGMENT) {
        reasonCol[r] = whys[e];
        continue;
      }
      const sh = w[at + SEG_START + hi], eh = w[at + SEG_END + hi];
      if (
        (fh < sh || (fh === sh && fl < w[at + SEG_START + lo])) ||
        (fh > eh || (fh === eh && fl >= w[at + SEG_END + lo]))
      ) {
        reasonCol[r] = OUTSIDE_LOAD;
        continue;
      }
      const el = (fl + w[at + SHIFT + lo]) >>> 0;
      elfWords[2 * r + lo] = el;
      elfWords[2 * r + hi] = (fh + w[at + SHIFT + hi] + (el < fl ? 1 : 0)) >>> 0;
      continue;
    }
    if (how === NO_OFFSET_ROUTE) reasonCol[r] = whys[e];
    else fillWide(batch, r, finished[e], wide);
  }
}

/** A row the doubles cannot hold: with bigints. */
function fillWide(batch: Batch, r: number, f: Finished, wide: Map<number, [bigint, bigint | undefined]>): void {
  const fileOffset = batch.addrAt(r) + f.delta!;
  let elfAddr: bigint | undefined;
  let reason = f.why;
  const seg = f.segments?.[0];
  if (f.segments) {
    reason = "outside-load";
    if (seg && fileOffset >= seg.offset && fileOffset < seg.end) {
      elfAddr = fileOffset + seg.shift;
      reason = undefined;
    }
  }
  const put = (words: Uint32Array, v: bigint) => {
    words[2 * r + HI] = Number(BigInt.asUintN(32, v >> 32n));
    words[2 * r + LO] = Number(BigInt.asUintN(32, v));
  };
  put(batch.offsetWords, fileOffset);
  if (elfAddr !== undefined) put(batch.elfWords, elfAddr);
  batch.reason[r] = REASON_CODE.get(reason)!;
  if (fileOffset >= U64_LIMIT || (elfAddr !== undefined && elfAddr >= U64_LIMIT)) wide.set(r, [fileOffset, elfAddr]);
}

/** resolve()'s objects: toArray() of a table nothing reads afterwards (set by ResolvedTable). */
let objectsOf: (t: ResolvedTable) => (Resolved | null)[];

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
  readonly #wide = new Map<number, [bigint, bigint | undefined]>();
  /** Per VMA, whether its ELF addresses equal its file offsets (made with the first view). */
  #shiftZero: boolean[] | undefined;
  /** The object views made so far, by row (dense once made). */
  #views: (Resolved | null | undefined)[] | undefined;
  /** The u64 columns through DataViews: JavaScriptCore makes a bigint from getBigUint64 several times faster. */
  #addrView: DataView | undefined;
  #offsetView: DataView | undefined;
  #elfView: DataView | undefined;

  /** @internal resolveTable() builds tables; user code receives them. */
  constructor(located: LocatedBatch) {
    const { batch, plan } = located;
    const n = batch.count;
    this.length = n;
    // The VMAs in address order (VmaTable.find() searches them so), each row's entry renumbered to match.
    const order = located.finished.map((_, i) => i).sort((a, b) => {
      const x = located.finished[a].vma.start, y = located.finished[b].vma.start;
      return x < y ? -1 : x > y ? 1 : 0;
    });
    const finished = this.#finished = order.map((i) => located.finished[i]);
    const renumber = new Int32Array(order.length);
    order.forEach((old, k) => renumber[old] = k);
    this.#list = batch.list;
    this.plan = plan;
    const numbers = finished.length <= KEEP_VMAS ? kept : new VmaNumbers();
    fillRows(batch, finished, numbers.fill(finished), this.#wide, renumber);
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

  /** Row `r`'s address as a bigint: the caller's own where it gave one. */
  #addrAt(r: number): bigint {
    const v = this.#list?.[this.#first[r]];
    return typeof v === "bigint" ? v : u64At(this.#addrView ??= viewOf(this.addr), r);
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
    const e = this.vma[r];
    if (e < 0) return null;
    const f = this.#finished[e];
    const code = this.reason[r];
    const reason = RESOLVE_REASONS[code];
    let fileOffset: bigint | undefined;
    let elfAddr: bigint | undefined;
    if (f.delta !== undefined) {
      const wide = this.#wide.size !== 0 ? this.#wide.get(r) : undefined;
      if (wide) [fileOffset, elfAddr] = wide;
      else {
        fileOffset = u64At(this.#offsetView ??= viewOf(this.fileOffset), r);
        // Libraries map their code at file offset = ELF address: one bigint serves both.
        if (code === 0) {
          elfAddr = (this.#shiftZero ??= this.#finished.map((f) => f.segments?.[0]?.shift === 0n))[e]
            ? fileOffset
            : u64At(this.#elfView ??= viewOf(this.elfAddr), r);
        }
      }
    }
    return new ResolvedResult(
      this.#addrAt(r),
      f.vma,
      f.kind,
      f.name,
      f.buildId,
      fileOffset,
      elfAddr,
      reason,
      reason && REASON_TEXT[reason],
    );
  }

  /** Every input position's result, in input order: what {@link ProcMaps.resolve} returns. */
  toArray(): (Resolved | null)[] {
    return this.#toArray(false);
  }

  /**
   * toArray(); `last`: the table is not used after this (resolve()), so when
   * every input is distinct the rows' own array is the result.
   */
  #toArray(last: boolean): (Resolved | null)[] {
    // Views of every row first, then one per input (arrays filled in order from empty).
    let views = this.#views;
    if (views === undefined) {
      views = this.#views = [];
      for (let r = 0; r < this.length; r++) views.push(this.#view(r));
    } else for (let r = 0; r < this.length; r++) views[r] ??= this.#view(r);
    // All distinct: input i is row i (rows are in order of first appearance).
    if (last && this.length === this.index.length) return views as (Resolved | null)[];
    const out: (Resolved | null)[] = [];
    const index = this.index;
    for (let i = 0; i < index.length; i++) out.push(views[index[i]]!);
    return out;
  }

  static {
    objectsOf = (t) => t.#toArray(true);
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
  return objectsOf(resolveTable(src, addrs, opts));
}
