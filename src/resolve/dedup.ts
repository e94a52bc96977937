/**
 * De-duplicating u64 addresses given as 32-bit word pairs, keeping for
 * each input its place among the distinct values: a hash table over the
 * words, no bigint and no sort.
 * @module
 */
import { HI, LO } from "../util/bytes.ts";

/** Where the distinct values go: each array `n` long (the distinct values fill the first `count`). */
export interface DistinctOutput {
  /** The distinct values in order of first appearance, as word pairs (native order, `2 * n` long). */
  addrWords: Uint32Array;
  /** Per input, its index among the distinct values. */
  slot: Uint32Array;
  /** Per distinct value, the first input holding it. */
  first: Uint32Array;
}

/** The hash table is kept between calls up to this many slots (1 MB). */
const KEEP_SLOTS = 1 << 18;
let kept: Int32Array | undefined;

/**
 * Finds the distinct values among the `n` u64s of `input` (word pairs,
 * native order), in order of first appearance, into `out`; returns how
 * many there are. One pass: each value is hashed from its two words into
 * an open-addressing table (at least twice as many slots as values,
 * linear probing) holding each distinct value's index plus one. A few
 * nanoseconds a value, where a sort would be n log n.
 */
export function distinct(input: Uint32Array, n: number, out: DistinctOutput): number {
  if (n === 0) return 0;
  const bits = Math.max(4, 32 - Math.clz32(2 * n - 1));
  const size = 2 ** bits;
  const mask = size - 1;
  const shift = 32 - bits;
  let table: Int32Array;
  if (kept !== undefined && kept.length >= size) {
    table = kept;
    for (let i = 0; i < size; i++) table[i] = 0; // (JavaScriptCore's fill() is far slower)
  } else {
    table = new Int32Array(size);
    if (size <= KEEP_SLOTS) kept = table;
  }
  const { addrWords: words, slot, first } = out;
  // The word order as locals: an imported binding is read (and checked) at every use in the loop.
  const hi = HI, lo = LO;
  let u = 0;
  for (let i = 0; i < n; i++) {
    const h = input[2 * i + hi], l = input[2 * i + lo];
    // Multiplicative hashing of both halves; the top bits index the table.
    let p = Math.imul(l ^ Math.imul(h, 0x9e3779b1), 0x85ebca6b) >>> shift;
    for (;;) {
      const r = table[p];
      if (r === 0) {
        words[2 * u + hi] = h;
        words[2 * u + lo] = l;
        first[u] = i;
        slot[i] = u++;
        table[p] = u;
        break;
      }
      if (words[2 * r - 2 + lo] === l && words[2 * r - 2 + hi] === h) {
        slot[i] = r - 1;
        break;
      }
      p = (p + 1) & mask;
    }
  }
  return u;
}
