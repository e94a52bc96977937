/**
 * Sorting a symbol table's entries (elf/symbols.ts says which entries a
 * table keeps and the rules applied here): one symbol per address, picked
 * among its aliases; zero-sized symbols sized; and the pieces a lookup
 * searches, each naming the innermost symbol covering its range.
 * @module
 */
import { radixOrder } from "../util/radix.ts";

/** Bytes of names scanned to rank aliases, per table; past it, aliases keep table order. */
export const NAME_SCAN_BUDGET = 64 << 20;
/** Bytes of one name that ranking reads (so a table's entries cost at most this much each, plus one). */
export const NAME_SCAN_MAX = 4096;

const TWO_53 = 2 ** 53;
const TWO_32 = 2 ** 32;

/** Columns of the symbols a table keeps, before sorting: typed arrays filled up to `n`, grown by doubling. */
export class Columns {
  n = 0;
  /** The highest `hi` pushed (kept up to date by whoever fills the columns). */
  maxHi = 0;
  /** High and low 32 bits of st_value. */
  hi: Uint32Array;
  lo: Uint32Array;
  size: Float64Array;
  /** 2 global/unique, 1 weak, 0 local, -1 other. */
  bind: Int8Array;
  /** 1 function, 0 object. */
  func: Uint8Array;
  nameOff: Uint32Array;
  /** Index into the section ends given to buildTable, or -1 when not known. */
  sectionEnd: Int32Array;

  constructor(capacity: number) {
    const c = Math.max(16, capacity);
    this.hi = new Uint32Array(c);
    this.lo = new Uint32Array(c);
    this.size = new Float64Array(c);
    this.bind = new Int8Array(c);
    this.func = new Uint8Array(c);
    this.nameOff = new Uint32Array(c);
    this.sectionEnd = new Int32Array(c);
  }

  push(hi: number, lo: number, size: number, bind: number, func: number, nameOff: number, sectionEnd: number): void {
    const i = this.n++;
    if (i === this.hi.length) this.#grow();
    if (hi > this.maxHi) this.maxHi = hi;
    this.hi[i] = hi;
    this.lo[i] = lo;
    this.size[i] = size;
    this.bind[i] = bind;
    this.func[i] = func;
    this.nameOff[i] = nameOff;
    this.sectionEnd[i] = sectionEnd;
  }

  #grow(): void {
    const c = this.hi.length * 2;
    const grown = <T extends Uint32Array | Float64Array | Int8Array | Uint8Array | Int32Array>(
      a: T,
      make: new (n: number) => T,
    ) => {
      const b = new make(c);
      b.set(a as never);
      return b;
    };
    this.hi = grown(this.hi, Uint32Array);
    this.lo = grown(this.lo, Uint32Array);
    this.size = grown(this.size, Float64Array);
    this.bind = grown(this.bind, Int8Array);
    this.func = grown(this.func, Uint8Array);
    this.nameOff = grown(this.nameOff, Uint32Array);
    this.sectionEnd = grown(this.sectionEnd, Int32Array);
  }

  /** The entries at `picked` (indices, in order), as columns of their own. */
  subset(picked: readonly number[]): Columns {
    const c = new Columns(picked.length);
    for (let j = 0; j < picked.length; j++) {
      const i = picked[j];
      c.push(this.hi[i], this.lo[i], this.size[i], this.bind[i], this.func[i], this.nameOff[i], this.sectionEnd[i]);
    }
    return c;
  }
}

/** A table sorted: addresses relative to `base` as doubles (exact below 2^53). */
export interface SortedSymbols {
  /** The lowest address, which the others are relative to. */
  base: bigint;
  /** Starts of the lookup pieces, ascending. */
  pieceStart: Float64Array;
  /** Per piece, the symbol covering it, or -1. */
  pieceSym: Int32Array;
  /** Per symbol (one per address, ascending): start, size, name offset. */
  symStart: Float64Array;
  symSize: Float64Array;
  symName: Uint32Array;
  /** Per symbol, the entry of the columns it was picked from. */
  groups: Uint32Array;
}

/** Counts leading underscores and the length of the name at `off` (into `out`), within a scan budget. */
function nameMetrics(strtab: Uint8Array, off: number, budget: { bytes: number }, out: Int32Array, i: number): void {
  if (budget.bytes <= 0) {
    out[2 * i] = out[2 * i + 1] = 0;
    return;
  }
  const stop = Math.min(strtab.length, off + NAME_SCAN_MAX);
  let end = off;
  while (end < stop && strtab[end] !== 0) end++;
  const len = end < stop ? end - off : NAME_SCAN_MAX;
  budget.bytes -= len + 1;
  let u = 0;
  while (u < len && strtab[off + u] === 0x5f) u++;
  out[2 * i] = u;
  out[2 * i + 1] = len;
}

/**
 * The entries with a finite start (`kept` of them), ordered by start and
 * then by index ({@link radixOrder} of the starts' 32-bit halves: linear, and
 * several times faster than the engines' sorts).
 */
export function sortedByStart(rel: Float64Array, n: number, kept: number): Uint32Array {
  const order = new Uint32Array(kept);
  const hi = new Uint32Array(n), lo = new Uint32Array(n);
  for (let i = 0, j = 0; i < n; i++) {
    const r = rel[i];
    if (r === Infinity) continue;
    order[j++] = i;
    const h = Math.floor(r / TWO_32);
    hi[i] = h;
    lo[i] = r - h * TWO_32;
  }
  return radixOrder(order, hi, lo);
}

/** Longer runs of aliases than this are sorted with Array.prototype.sort (insertion sort below). */
const SHORT_RUN = 16;

/**
 * Alias order: > 0 when entry `a` is to be picked after entry `b` (see the
 * module docs); `m` holds each alias's leading underscores and name length.
 */
function worse(c: Columns, m: Int32Array, a: number, b: number): number {
  const sa = c.size[a] > 0 ? 1 : 0, sb = c.size[b] > 0 ? 1 : 0;
  if (sa !== sb) return sb - sa;
  if (c.bind[a] !== c.bind[b]) return c.bind[b] - c.bind[a];
  if (c.func[a] !== c.func[b]) return c.func[b] - c.func[a];
  const ua = m[2 * a], ub = m[2 * b];
  if (ua !== ub) return ua - ub;
  const la = m[2 * a + 1], lb = m[2 * b + 1];
  if (la !== lb) return lb - la;
  return a - b;
}

/**
 * Sorts, picks one symbol per address, sizes the zero-sized ones (up to the
 * next symbol and the end of the section at index `sectionEnd`) and builds
 * the lookup pieces. Few passes and no call per symbol: the first table a
 * process sorts runs this before the engine has compiled it.
 */
export function buildTable(c: Columns, strtab: Uint8Array, sectionEnds: readonly bigint[]): SortedSymbols {
  const n = c.n;
  const { hi: his, lo: los, size, nameOff, sectionEnd } = c;
  // The lowest value is the base; values are kept as doubles relative to it.
  let bhi = 0, blo = 0;
  for (let i = 0; i < n; i++) {
    const h = his[i], l = los[i];
    if (i === 0 || h < bhi || (h === bhi && l < blo)) {
      bhi = h;
      blo = l;
    }
  }
  const base = (BigInt(bhi) << 32n) | BigInt(blo);
  const rel = new Float64Array(n);
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const d = (his[i] - bhi) * TWO_32 + (los[i] - blo);
    rel[i] = d < TWO_53 ? d : Infinity;
    if (d < TWO_53) kept++;
  }
  const order = sortedByStart(rel, n, kept);
  // Runs of equal starts: each sorted by preference, best first, and its
  // first entry is the address's symbol (`groups`). Name metrics are computed
  // for aliases only, within a budget (when it runs out, a run keeps table
  // order) so that the comparison stays consistent.
  const budget = { bytes: NAME_SCAN_BUDGET };
  let metrics: Int32Array | undefined;
  const groups = new Uint32Array(kept);
  let g = 0;
  for (let j = 0; j < kept;) {
    const r = rel[order[j]];
    let e = j + 1;
    while (e < kept && rel[order[e]] === r) e++;
    if (e - j > 1) {
      const m = metrics ??= new Int32Array(2 * n);
      for (let x = j; x < e; x++) nameMetrics(strtab, nameOff[order[x]], budget, m, order[x]);
      if (budget.bytes <= 0) { for (let x = j; x < e; x++) m[2 * order[x]] = m[2 * order[x] + 1] = 0; }
      if (e - j <= SHORT_RUN) {
        // Insertion sort in place: most runs are two or three names.
        for (let x = j + 1; x < e; x++) {
          const v = order[x];
          let y = x - 1;
          while (y >= j && worse(c, m, order[y], v) > 0) {
            order[y + 1] = order[y];
            y--;
          }
          order[y + 1] = v;
        }
      } else order.set(Array.from(order.subarray(j, e)).sort((a, b) => worse(c, m, a, b)), j);
    }
    groups[g++] = order[j];
    j = e;
  }
  // Section ends relative to the base, as the zero-sized symbols need them (-1: not known).
  const secEnd = sectionEnds.map((e) => (e < 0n || e - base < 0n ? -1 : Number(e - base)));
  const symStart = new Float64Array(g);
  const symSize = new Float64Array(g);
  const symEnd = new Float64Array(g);
  const symName = new Uint32Array(g);
  for (let k = 0; k < g; k++) {
    const i = groups[k];
    const start = rel[i];
    symStart[k] = start;
    symName[k] = nameOff[i];
    if (size[i] > 0) {
      symSize[k] = size[i];
      symEnd[k] = start + size[i];
    } else {
      const next = k + 1 < g ? rel[groups[k + 1]] : Infinity;
      const end = Math.min(next, sectionEnd[i] < 0 ? -1 : secEnd[sectionEnd[i]]);
      symEnd[k] = end > start ? end : start;
      symSize[k] = symEnd[k] - start;
    }
  }
  // Sweep: a stack of open symbols; the innermost (latest started) covers.
  // Each symbol starts at most one piece and each closing at most one more.
  const ps = new Float64Array(2 * g + 1);
  const pk = new Int32Array(2 * g + 1);
  let np = 0;
  const stack = new Int32Array(g);
  let sp = 0;
  for (let k = 0; k <= g; k++) {
    const at = k < g ? symStart[k] : Infinity;
    if (k < g && symEnd[k] <= at) continue; // no extent (a zero-sized symbol at its section's end)
    // Close the symbols that end by `at`: from each end, the innermost still open covers.
    while (sp > 0 && symEnd[stack[sp - 1]] <= at) {
      const pos = symEnd[stack[--sp]];
      while (sp > 0 && symEnd[stack[sp - 1]] <= pos) sp--;
      const top = sp > 0 ? stack[sp - 1] : -1;
      if (np > 0 && ps[np - 1] === pos) pk[np - 1] = top;
      else if (np === 0 || pk[np - 1] !== top) {
        ps[np] = pos;
        pk[np++] = top;
      }
    }
    if (k === g) break;
    if (np > 0 && ps[np - 1] === at) pk[np - 1] = k;
    else if (np === 0 || pk[np - 1] !== k) {
      ps[np] = at;
      pk[np++] = k;
    }
    stack[sp++] = k;
  }
  return {
    base,
    pieceStart: ps.slice(0, np),
    pieceSym: pk.slice(0, np),
    symStart,
    symSize,
    symName,
    groups: groups.subarray(0, g),
  };
}
