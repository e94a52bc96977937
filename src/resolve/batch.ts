/**
 * A batch of addresses for resolve(): checked, read once, sorted and
 * de-duplicated, with each input's place among the distinct addresses.
 * @module
 */
import { describeValue, toAddress } from "../options.ts";
import { hiOf, loOf, TWO_32 } from "../util/bytes.ts";

/** The batch's distinct addresses, sorted, and where each input lands among them. */
export interface Batch {
  /** Distinct addresses in ascending order. */
  unique: bigint[];
  /** Their high and low 32 bits, for comparisons that allocate nothing. */
  hi: Uint32Array;
  lo: Uint32Array;
  /** For each input position, its index in `unique`. */
  slot: Uint32Array;
}

const TWO_53_NUMBER = 2 ** 53;

/**
 * The caller's addresses as a private array: each element is read exactly
 * once (an accessor or a proxy cannot answer the check one value and the
 * use another).
 */
function copyOf(addrs: unknown): unknown[] {
  if (addrs instanceof BigUint64Array) return Array.from(addrs);
  if (addrs !== null && typeof addrs === "object" && Symbol.iterator in addrs) {
    return Array.from(addrs as Iterable<unknown>);
  }
  throw new TypeError(
    `addresses must be an iterable of bigints/numbers or a BigUint64Array, got ${describeValue(addrs)}`,
  );
}

/**
 * Checks and sorts a batch. Each address is split into 32-bit halves (a
 * double carries user-space addresses exactly, so no bigint arithmetic) and
 * the positions are radix-sorted by them: linear, and several times faster
 * than the engines' typed-array sorts on 10,000 addresses. Distinct
 * addresses keep the caller's own bigint objects.
 */
export function toBatch(addrs: unknown): Batch {
  const list = copyOf(addrs);
  const n = list.length;
  const hiOfAt = new Uint32Array(n);
  const loOfAt = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const a = list[i];
    // One conversion checks the common case: a bigint in [0, 2^53) (all of
    // user space) is exact as a double; anything else goes through toAddress,
    // which refuses bad values (naming their index) and splits big ones.
    const k = typeof a === "bigint" ? Number(a) : -1;
    if (k >= 0 && k < TWO_53_NUMBER) {
      const h = Math.floor(k / TWO_32);
      hiOfAt[i] = h;
      loOfAt[i] = k - h * TWO_32;
      continue;
    }
    const b = toAddress(a, `address [${i}]`);
    list[i] = b;
    hiOfAt[i] = hiOf(b);
    loOfAt[i] = loOf(b);
  }
  const order = sortByHalves(hiOfAt, loOfAt);
  const unique: bigint[] = [];
  const uhi: number[] = [];
  const ulo: number[] = [];
  const slot = new Uint32Array(n);
  for (let j = 0; j < n; j++) {
    const i = order[j];
    const h = hiOfAt[i], l = loOfAt[i];
    const u = unique.length;
    if (u === 0 || uhi[u - 1] !== h || ulo[u - 1] !== l) {
      unique.push(list[i] as bigint);
      uhi.push(h);
      ulo.push(l);
    }
    slot[i] = unique.length - 1;
  }
  return { unique, hi: Uint32Array.from(uhi), lo: Uint32Array.from(ulo), slot };
}

const RADIX_BITS = 11;
const RADIX = 1 << RADIX_BITS;
const RADIX_MASK = RADIX - 1;

/**
 * Positions 0..n-1 ordered by (hi, lo): an LSD radix sort, 11 bits at a
 * time through lo and then hi, skipping digits that are the same in every
 * key (most of the high ones: a process's addresses share their top bits).
 */
function sortByHalves(hi: Uint32Array, lo: Uint32Array): Uint32Array {
  const n = hi.length;
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (n < 2) return order;
  let next = new Uint32Array(n);
  const count = new Uint32Array(RADIX);
  for (const half of [lo, hi]) {
    // Bits that differ between keys: OR of each key XOR the first.
    let diff = 0;
    for (let i = 1; i < n; i++) diff |= half[i] ^ half[0];
    for (let shift = 0; shift < 32; shift += RADIX_BITS) {
      if (((diff >>> shift) & RADIX_MASK) === 0) continue;
      count.fill(0);
      for (let j = 0; j < n; j++) count[(half[order[j]] >>> shift) & RADIX_MASK]++;
      let sum = 0;
      for (let d = 0; d < RADIX; d++) {
        const c = count[d];
        count[d] = sum;
        sum += c;
      }
      for (let j = 0; j < n; j++) {
        const i = order[j];
        next[count[(half[i] >>> shift) & RADIX_MASK]++] = i;
      }
      const t = order;
      order = next;
      next = t;
    }
  }
  return order;
}
