/**
 * The order in which a batch's distinct addresses are looked up: ascending.
 * DWARF's units (their parsed tables kept by recency, within a byte budget)
 * and the symbol tables' cursors are then met in turn; in the callers' order
 * (a profile's, or random) every address lands in another unit, whose tables
 * are found again, and evicted and parsed again when they do not all fit.
 * @module
 */

/**
 * The indices of the addresses given as (high, low) 32-bit halves, in
 * ascending order of address (equal addresses do not occur: they are
 * distinct). The identity when they already ascend; otherwise a stable
 * radix sort by bytes, least significant first, skipping the bytes all
 * addresses share (a library's addresses differ in two or three): a
 * comparator sort, or one of packed doubles, cost as much as the lookups.
 */
export function ascending(hi: Uint32Array, lo: Uint32Array): Uint32Array {
  const n = hi.length;
  let order = new Uint32Array(n);
  let sorted = true;
  for (let i = 0; i < n; i++) {
    order[i] = i;
    if (i > 0 && (hi[i] < hi[i - 1] || (hi[i] === hi[i - 1] && lo[i] < lo[i - 1]))) sorted = false;
  }
  if (sorted) return order;
  let next = new Uint32Array(n);
  const count = new Uint32Array(256);
  for (let pass = 0; pass < 8; pass++) {
    const words = pass < 4 ? lo : hi;
    const shift = (pass & 3) * 8;
    count.fill(0);
    for (let i = 0; i < n; i++) count[(words[i] >>> shift) & 255]++;
    if (count[(words[0] >>> shift) & 255] === n) continue;
    for (let d = 0, sum = 0; d < 256; d++) {
      const c = count[d];
      count[d] = sum;
      sum += c;
    }
    for (let k = 0; k < n; k++) {
      const i = order[k];
      next[count[(words[i] >>> shift) & 255]++] = i;
    }
    const t = order;
    order = next;
    next = t;
  }
  return order;
}
