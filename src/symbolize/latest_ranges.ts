/**
 * Address ranges where a later entry wins over earlier ones for the part it
 * covers (JIT code memory is reused: perf maps and jitdump files append the
 * new code's entry). Entries are added in order, then indexed into disjoint
 * ranges, each naming its latest entry.
 *
 * Memory is counted ({@link LatestRanges.byteSize}): entries live in typed
 * arrays and their names as the file's bytes in one arena, decoded when a
 * lookup returns them. Indexing is linear in what is already indexed: the
 * entries added since the last index are indexed alone (n log n in their
 * number), then merged over the old index, so a map that grows a little
 * between lookups does not cost a sort of the whole map each time.
 *
 * Addresses are doubles: entries are only kept below 2^53 (user space on
 * x86_64 and aarch64 lies below 2^57; callers drop what lies above).
 * @module
 */
import type { RawSymbol } from "./types.ts";

/** A disjoint, sorted index: `[start, end)` of each range and the entry that wins it. */
interface Index {
  n: number;
  start: Float64Array;
  end: Float64Array;
  entry: Int32Array;
}

function emptyIndex(capacity: number): Index {
  return {
    n: 0,
    start: new Float64Array(capacity),
    end: new Float64Array(capacity),
    entry: new Int32Array(capacity),
  };
}

function push(x: Index, s: number, e: number, entry: number): void {
  const last = x.n - 1;
  // Neighbours won by the same entry join.
  if (last >= 0 && x.entry[last] === entry && x.end[last] === s) {
    x.end[last] = e;
    return;
  }
  x.start[x.n] = s;
  x.end[x.n] = e;
  x.entry[x.n] = entry;
  x.n++;
}

function grown<T extends Float64Array | Uint32Array>(a: T, capacity: number): T {
  const b = new (a.constructor as new (n: number) => T)(capacity);
  b.set(a);
  return b;
}

const decoder = new TextDecoder();

/** Entries in order, and the disjoint index over them. */
export class LatestRanges {
  #n = 0;
  #starts = new Float64Array(64);
  #ends = new Float64Array(64);
  /** Where entry i's name starts in the arena; it ends where entry i + 1's starts (or at #used). */
  #nameAt = new Uint32Array(64);
  #arena = new Uint8Array(4096);
  #used = 0;
  /** Symbols made by lookups, by entry. */
  readonly #symbols = new Map<number, RawSymbol>();
  #index: Index = emptyIndex(0);
  /** Entries the index covers. */
  #indexed = 0;

  /** Entries added. */
  get size(): number {
    return this.#n;
  }

  /** Bytes held (entries, names, index, symbols made), for cache accounting. */
  get byteSize(): number {
    return this.#arena.length + this.#starts.length * 20 + this.#index.start.length * 20 +
      this.#symbols.size * 96 + 256;
  }

  /**
   * {@link byteSize} once an entry with a name of `nameBytes` bytes is added
   * and indexed (its arrays grown if they must be; the index at most two
   * ranges longer), so that a caller can stop before a bound.
   */
  byteSizeWith(nameBytes: number): number {
    const entries = this.#n === this.#starts.length ? this.#n * 2 : this.#starts.length;
    const need = this.#used + nameBytes;
    const arena = need > this.#arena.length ? Math.max(this.#arena.length * 2, need) : this.#arena.length;
    const index = Math.max(this.#index.start.length, this.#index.n + 2 * (this.#n + 1 - this.#indexed) + 1);
    return arena + entries * 20 + index * 20 + this.#symbols.size * 96 + 256;
  }

  /**
   * Adds `[start, end)` named by `name` (bytes, copied), later than every
   * entry before it (call {@link reindex} after adding).
   */
  add(start: number, end: number, name: Uint8Array): void {
    const i = this.#n;
    if (i === this.#starts.length) {
      const c = i * 2;
      this.#starts = grown(this.#starts, c);
      this.#ends = grown(this.#ends, c);
      this.#nameAt = grown(this.#nameAt, c);
    }
    if (this.#used + name.length > this.#arena.length) {
      const bigger = new Uint8Array(Math.max(this.#arena.length * 2, this.#used + name.length));
      bigger.set(this.#arena.subarray(0, this.#used));
      this.#arena = bigger;
    }
    this.#arena.set(name, this.#used);
    this.#starts[i] = start;
    this.#ends[i] = end;
    this.#nameAt[i] = this.#used;
    this.#used += name.length;
    this.#n = i + 1;
  }

  /** The name of entry `e`, as added (a view into the arena: copy it before adding). */
  nameBytesOf(e: number): Uint8Array {
    const to = e + 1 < this.#n ? this.#nameAt[e + 1] : this.#used;
    return this.#arena.subarray(this.#nameAt[e], to);
  }

  /** The name of entry `e`. */
  nameOf(e: number): string {
    return decoder.decode(this.nameBytesOf(e));
  }

  /** The latest entry covering `addr` as of the last {@link reindex}, or undefined. */
  find(addr: bigint): RawSymbol | undefined {
    if (addr < 0n || addr > 9007199254740991n) return undefined;
    const a = Number(addr);
    const x = this.#index;
    let lo = 0, hi = x.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (x.start[mid] <= a) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0 || a >= x.end[lo - 1]) return undefined;
    const e = x.entry[lo - 1];
    let s = this.#symbols.get(e);
    if (s === undefined) {
      s = { name: this.nameOf(e), start: BigInt(this.#starts[e]), size: BigInt(this.#ends[e] - this.#starts[e]) };
      this.#symbols.set(e, s);
    }
    return s;
  }

  /** Brings the index up to date with the entries added since the last call. */
  reindex(): void {
    const from = this.#indexed, to = this.#n;
    if (from === to) return;
    const fresh = this.#sweep(from, to);
    this.#index = from === 0 ? fresh : mergeOver(this.#index, fresh);
    this.#indexed = to;
  }

  /**
   * The disjoint index of entries `[from, to)` alone: a sweep over their
   * boundaries with a heap of the entries covering the current point, the
   * latest on top (entries that ended are dropped when they surface).
   */
  #sweep(from: number, to: number): Index {
    const n = to - from;
    const starts = this.#starts, ends = this.#ends;
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = from + i;
    order.sort((a, b) => starts[a] - starts[b]);
    const bounds = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      bounds[2 * i] = starts[from + i];
      bounds[2 * i + 1] = ends[from + i];
    }
    bounds.sort();
    const heap: number[] = [];
    // At most one range per boundary.
    const out = emptyIndex(2 * n);
    let p = 0;
    for (let k = 0; k < bounds.length; k++) {
      const x = bounds[k];
      if (k > 0 && x === bounds[k - 1]) continue;
      while (p < n && starts[order[p]] <= x) heapPush(heap, order[p++]);
      while (heap.length && ends[heap[0]] <= x) heapPop(heap);
      if (!heap.length) continue;
      let j = k + 1;
      while (j < bounds.length && bounds[j] === x) j++;
      if (j === bounds.length) continue;
      push(out, x, bounds[j], heap[0]);
    }
    return out;
  }
}

/**
 * `top` laid over `under`: where a range of `top` lies, it wins; the rest of
 * `under` stays. Both are disjoint and sorted; so is the result. Linear.
 */
function mergeOver(under: Index, top: Index): Index {
  // Each range of top splits at most one of under's in two.
  const out = emptyIndex(under.n + 2 * top.n + 1);
  let i = 0, j = 0;
  let s = under.n ? under.start[0] : 0; // start of what is left of under's range i
  while (i < under.n || j < top.n) {
    if (j < top.n && (i >= under.n || top.start[j] <= s)) {
      const end = top.end[j];
      push(out, top.start[j], end, top.entry[j]);
      j++;
      // What top covered of under is gone.
      while (i < under.n && under.end[i] <= end) {
        i++;
        if (i < under.n) s = under.start[i];
      }
      if (i < under.n && s < end) s = end;
      continue;
    }
    const next = j < top.n ? top.start[j] : Infinity;
    if (under.end[i] <= next) {
      push(out, s, under.end[i], under.entry[i]);
      i++;
      if (i < under.n) s = under.start[i];
    } else {
      push(out, s, next, under.entry[i]);
      s = next;
    }
  }
  return out;
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
