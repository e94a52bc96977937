/**
 * Index order by 64-bit keys held as 32-bit halves: the sort under symbol
 * tables (by start) and symbolize batches (by address). The engines' sorts
 * with a comparator, or of packed doubles, cost several times more.
 * @module
 */

/**
 * `order` (indices into `hi`/`lo`) rearranged into ascending order of the
 * keys `hi[i] * 2^32 + lo[i]`, equal keys kept in their order: a stable LSD
 * radix sort, 11 bits at a time, skipping digits that are the same in every
 * key (addresses in one table or library share their high bits). May reuse
 * `order`'s memory; returns the sorted indices.
 */
export function radixOrder(order: Uint32Array, hi: Uint32Array, lo: Uint32Array): Uint32Array {
  const n = order.length;
  if (n < 2) return order;
  let next: Uint32Array = new Uint32Array(n);
  const count = new Uint32Array(1 << 11);
  for (const half of [lo, hi]) {
    let diff = 0;
    const first = half[order[0]];
    for (let j = 1; j < n; j++) diff |= half[order[j]] ^ first;
    for (let shift = 0; shift < 32; shift += 11) {
      if (((diff >>> shift) & 0x7ff) === 0) continue;
      count.fill(0);
      for (let j = 0; j < n; j++) count[(half[order[j]] >>> shift) & 0x7ff]++;
      let sum = 0;
      for (let d = 0; d < count.length; d++) {
        const c = count[d];
        count[d] = sum;
        sum += c;
      }
      for (let j = 0; j < n; j++) {
        const i = order[j];
        next[count[(half[i] >>> shift) & 0x7ff]++] = i;
      }
      const t = order;
      order = next;
      next = t;
    }
  }
  return order;
}
