/**
 * The order in which a batch's distinct addresses are looked up: ascending.
 * DWARF's units (their parsed tables kept by recency, within a byte budget)
 * and the symbol tables' cursors are then met in turn; in the callers' order
 * (a profile's, or random) every address lands in another unit, whose tables
 * are found again, and evicted and parsed again when they do not all fit.
 * @module
 */

import { radixOrder } from "../util/radix.ts";

/**
 * The indices of the addresses given as (high, low) 32-bit halves, in
 * ascending order of address (equal addresses do not occur: they are
 * distinct): the identity when they already ascend, else {@link radixOrder}.
 */
export function ascending(hi: Uint32Array, lo: Uint32Array): Uint32Array {
  const n = hi.length;
  const order = new Uint32Array(n);
  let sorted = true;
  for (let i = 0; i < n; i++) {
    order[i] = i;
    if (i > 0 && (hi[i] < hi[i - 1] || (hi[i] === hi[i - 1] && lo[i] < lo[i - 1]))) sorted = false;
  }
  return sorted ? order : radixOrder(order, hi, lo);
}
