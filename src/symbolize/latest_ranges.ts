/**
 * Address ranges where a later entry wins over earlier ones for the part it
 * covers (JIT code memory is reused: perf maps and jitdump files append the
 * new code's entry). Entries are added in order, then indexed once into
 * disjoint ranges, each naming its latest entry.
 *
 * Addresses are doubles: entries are only kept below 2^53 (user space on
 * x86_64 and aarch64 lies below 2^57; callers drop what lies above).
 * @module
 */
import type { RawSymbol } from "./types.ts";

/** Entries in order, and the disjoint index over them. */
export class LatestRanges {
  #starts: number[] = [];
  #ends: number[] = [];
  #names: string[] = [];
  #symbols: (RawSymbol | undefined)[] = [];
  // The winner of every address range, disjoint and sorted.
  #segStarts: number[] = [];
  #segEnds: number[] = [];
  #segEntry: number[] = [];
  /** Entries the index covers. */
  #indexed = 0;

  /** Entries added. */
  get size(): number {
    return this.#starts.length;
  }

  /** Adds `[start, end)` named `name`, later than every entry before it (call {@link reindex} after adding). */
  add(start: number, end: number, name: string): void {
    this.#starts.push(start);
    this.#ends.push(end);
    this.#names.push(name);
    this.#symbols.push(undefined);
  }

  /** The latest entry covering `addr` as of the last {@link reindex}, or undefined. */
  find(addr: bigint): RawSymbol | undefined {
    if (addr < 0n || addr > 9007199254740991n) return undefined;
    const a = Number(addr);
    const starts = this.#segStarts;
    let lo = 0, hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid] <= a) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0 || a >= this.#segEnds[lo - 1]) return undefined;
    const e = this.#segEntry[lo - 1];
    return this.#symbols[e] ??= {
      name: this.#names[e],
      start: BigInt(this.#starts[e]),
      size: BigInt(this.#ends[e] - this.#starts[e]),
    };
  }

  /**
   * Brings the index up to date with the entries added since the last call:
   * a few are laid over the index one by one (each replaces what it
   * covers), many rebuild it whole ({@link rebuild}), so that a map that
   * grows by a line at a time does not cost a full sort per line.
   */
  reindex(): void {
    const n = this.#starts.length;
    const fresh = n - this.#indexed;
    if (fresh === 0) return;
    // Each overlay moves O(ranges) elements: past a few dozen, one O(n log n) rebuild is cheaper.
    if (this.#indexed === 0 || fresh > 64) {
      this.#rebuild();
      return;
    }
    for (let e = this.#indexed; e < n; e++) this.#overlay(e);
    this.#indexed = n;
  }

  /** Lays entry `e` over the index: it wins over every range it covers. */
  #overlay(e: number): void {
    const s = this.#starts[e], t = this.#ends[e];
    if (t <= s) return;
    const S = this.#segStarts, E = this.#segEnds, I = this.#segEntry;
    // First range ending after s.
    let lo = 0, hi = E.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (E[mid] <= s) lo = mid + 1;
      else hi = mid;
    }
    let j = lo;
    while (j < S.length && S[j] < t) j++;
    // Ranges lo..j-1 overlap [s, t): keep their parts outside it.
    const ns: number[] = [], ne: number[] = [], ni: number[] = [];
    if (lo < j && S[lo] < s) (ns.push(S[lo]), ne.push(s), ni.push(I[lo]));
    ns.push(s), ne.push(t), ni.push(e);
    if (lo < j && E[j - 1] > t) (ns.push(t), ne.push(E[j - 1]), ni.push(I[j - 1]));
    S.splice(lo, j - lo, ...ns);
    E.splice(lo, j - lo, ...ne);
    I.splice(lo, j - lo, ...ni);
  }

  /**
   * Rebuilds the disjoint ranges: a sweep over all range boundaries with a
   * heap of the entries covering the current point, the latest on top
   * (entries that ended are dropped when they surface). O(n log n).
   */
  #rebuild(): void {
    const n = this.#starts.length;
    const starts = this.#starts, ends = this.#ends;
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => starts[a] - starts[b]);
    const bounds = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      bounds[2 * i] = starts[i];
      bounds[2 * i + 1] = ends[i];
    }
    bounds.sort();
    const heap: number[] = [];
    const segS: number[] = [], segE: number[] = [], segI: number[] = [];
    let p = 0;
    for (let k = 0; k < bounds.length; k++) {
      const x = bounds[k];
      if (k > 0 && x === bounds[k - 1]) continue;
      while (p < n && starts[order[p]] <= x) heapPush(heap, order[p++]);
      while (heap.length && ends[heap[0]] <= x) heapPop(heap);
      if (!heap.length) continue;
      let next = x;
      for (let j = k + 1; j < bounds.length; j++) {
        if (bounds[j] !== x) {
          next = bounds[j];
          break;
        }
      }
      if (next === x) continue;
      const w = heap[0];
      const last = segS.length - 1;
      if (last >= 0 && segI[last] === w && segE[last] === x) segE[last] = next;
      else {
        segS.push(x);
        segE.push(next);
        segI.push(w);
      }
    }
    this.#segStarts = segS;
    this.#segEnds = segE;
    this.#segEntry = segI;
    this.#indexed = n;
  }
}

// A max-heap of entry indices (a later line has a larger index and wins).
function heapPush(h: number[], v: number): void {
  let i = h.push(v) - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (h[parent] >= v) break;
    h[i] = h[parent];
    i = parent;
  }
  h[i] = v;
}

function heapPop(h: number[]): void {
  const last = h.pop()!;
  if (!h.length) return;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= h.length) break;
    const c = l + 1 < h.length && h[l + 1] > h[l] ? l + 1 : l;
    if (h[c] <= last) break;
    h[i] = h[c];
    i = c;
  }
  h[i] = last;
}
