/**
 * Byte-level helpers shared by the codecs: the machine's byte order and
 * u64 values as two 32-bit halves (doubles, so no bigint arithmetic on hot
 * paths).
 * @module
 */

/** True on little-endian machines (every architecture procmap drives the ioctl on). */
export const nativeLittleEndian: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** 2^32, the weight of a u64's high half. */
export const TWO_32 = 4294967296;

const TWO_53 = 2 ** 53;

// Below 2^53 (all of user space) the double is exact and no bigint is
// allocated; only larger values take the bigint route.

/** The high 32 bits of a u64 given as a bigint. */
export function hiOf(v: bigint): number {
  const k = Number(v);
  return k < TWO_53 ? Math.floor(k / TWO_32) : Number(v >> 32n);
}

/** The low 32 bits of a u64 given as a bigint. */
export function loOf(v: bigint): number {
  const k = Number(v);
  return k < TWO_53 ? k % TWO_32 : Number(v & 0xffffffffn);
}

// Word order of a u64 seen as two 32-bit words (a Uint32Array over u64 data).
/** Index of the low 32-bit word of a u64 in a word pair. */
export const LO: number = nativeLittleEndian ? 0 : 1;
/** Index of the high 32-bit word of a u64 in a word pair. */
export const HI: number = 1 - LO;

/** One u64 as two 32-bit words, to make a bigint from halves without bigint arithmetic. */
const one = new BigUint64Array(1);
const oneWords = new Uint32Array(one.buffer);

/** The u64 `hi:lo` (two 32-bit halves) as a bigint. */
export function u64(hi: number, lo: number): bigint {
  oneWords[HI] = hi;
  oneWords[LO] = lo;
  return one[0];
}

/** The bigint of `v`, a non-negative integer below 2^53, made with no bigint arithmetic. */
export function toBigint(v: number): bigint {
  const h = Math.floor(v / TWO_32);
  return u64(h, v - h * TWO_32);
}

const BELOW_52_LOW = -(2n ** 52n);
const BELOW_52_HIGH = 2n ** 52n;

/**
 * Whether `v` lies strictly between -2^52 and 2^52: exact as a double, and a
 * sum of it with another such value or with an address below 2^53 stays exact.
 */
export function below52(v: bigint): boolean {
  return v > BELOW_52_LOW && v < BELOW_52_HIGH;
}

/**
 * In a column of u64 ends stored as word pairs (`ends`, native order) of
 * `count` sorted rows, the first row whose end lies above the address
 * `hi:lo`, by binary search on numbers; `count` when there is none.
 */
export function firstEndAbove(ends: Uint32Array, count: number, hi: number, lo: number): number {
  let l = 0, h = count;
  while (l < h) {
    const mid = (l + h) >>> 1;
    const eh = ends[2 * mid + HI];
    if (eh > hi || (eh === hi && ends[2 * mid + LO] > lo)) h = mid;
    else l = mid + 1;
  }
  return l;
}
