/**
 * A batch of addresses for resolve(): checked, read once, sorted and
 * de-duplicated, with each input's place among the distinct addresses.
 * @module
 */
import { describeValue, toAddress } from "../options.ts";
import { nativeLittleEndian } from "../util/bytes.ts";

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

/** The largest u64. */
const MAX_U64 = 0xffffffffffffffffn;
/** Where a u64's halves sit among the 32-bit words of a BigUint64Array's buffer. */
const LO_WORD = nativeLittleEndian ? 0 : 1;
const HI_WORD = 1 - LO_WORD;

/** toBatch's working arrays, for batches of up to `size` addresses. */
interface Scratch {
  size: number;
  big: BigUint64Array;
  /** `big`'s buffer as 32-bit words. */
  words: Uint32Array;
  /** The sort's keys and positions, twice (it moves them from one set to the other). */
  sort: Uint32Array[];
  count: Uint32Array;
}

/** Batches up to this size reuse one set of working arrays (4.5 MB at most), larger ones get their own. */
const SCRATCH_MAX = 1 << 17;
let scratch: Scratch | undefined;

function newScratch(size: number): Scratch {
  const big = new BigUint64Array(size);
  return {
    size,
    big,
    words: new Uint32Array(big.buffer),
    sort: Array.from({ length: 6 }, () => new Uint32Array(size)),
    count: new Uint32Array(1 << 16),
  };
}

/** Working arrays for `n` addresses: the kept set, grown when needed, or (past SCRATCH_MAX) a set of their own. */
function scratchFor(n: number): Scratch {
  if (n > SCRATCH_MAX) return newScratch(n);
  if (!scratch || scratch.size < n) {
    scratch = newScratch(Math.min(SCRATCH_MAX, Math.max(n, 1024, 2 * (scratch?.size ?? 0))));
  }
  return scratch;
}

/**
 * Checks and sorts a batch. Each address is stored into a BigUint64Array
 * and read back as two 32-bit halves (no bigint arithmetic, no conversion
 * to a double: the engines do both in native code), and the positions are
 * radix-sorted by them: linear, and several times faster than the engines'
 * typed-array sorts on 10,000 addresses. Distinct addresses keep the
 * caller's own bigint objects.
 */
export function toBatch(addrs: unknown): Batch {
  const list = copyOf(addrs);
  const n = list.length;
  // No user code runs from here on (the copy is made), so the scratch arrays cannot be re-entered.
  const tmp = scratchFor(n);
  const big = tmp.big;
  for (let i = 0; i < n; i++) {
    const a = list[i];
    // The common case, a bigint in range, is stored as it is; anything else
    // goes through toAddress, which refuses bad values (naming their index).
    if (typeof a === "bigint" && a >= 0n && a <= MAX_U64) {
      big[i] = a;
      continue;
    }
    const b = toAddress(a, `address [${i}]`);
    list[i] = b;
    big[i] = b;
  }
  const { order, hi, lo } = sortByHalves(tmp, n);
  const unique: bigint[] = [];
  const uhi = new Uint32Array(n);
  const ulo = new Uint32Array(n);
  const slot = new Uint32Array(n);
  let u = 0;
  for (let j = 0; j < n; j++) {
    const h = hi[j], l = lo[j];
    if (u === 0 || uhi[u - 1] !== h || ulo[u - 1] !== l) {
      unique.push(list[order[j]] as bigint);
      uhi[u] = h;
      ulo[u] = l;
      u++;
    }
    slot[order[j]] = u - 1;
  }
  return { unique, hi: uhi.subarray(0, u), lo: ulo.subarray(0, u), slot };
}

/**
 * Positions 0..n-1 ordered by their u64 in `words` (two 32-bit words each),
 * with the sorted halves: an LSD radix sort through the low half and then
 * the high half, the keys moving with their positions (each pass reads
 * in order), skipping digits that are the same in every key (most of the
 * high ones: a process's addresses share their top bits). Large batches take
 * 16-bit digits (fewer passes), small ones 11-bit digits (a smaller count
 * table).
 */
function sortByHalves(tmp: Scratch, n: number): { order: Uint32Array; hi: Uint32Array; lo: Uint32Array } {
  const words = tmp.words;
  let [order, hi, lo, order2, hi2, lo2] = tmp.sort;
  for (let i = 0; i < n; i++) {
    order[i] = i;
    lo[i] = words[2 * i + LO_WORD];
    hi[i] = words[2 * i + HI_WORD];
  }
  if (n < 2) return { order, hi, lo };
  // Bits that differ between keys: OR of each key XOR the first.
  let diffLo = 0, diffHi = 0;
  for (let i = 1; i < n; i++) {
    diffLo |= lo[i] ^ lo[0];
    diffHi |= hi[i] ^ hi[0];
  }
  const bits = n >= 1 << 14 ? 16 : 11;
  const radix = 1 << bits;
  const mask = radix - 1;
  const count = tmp.count;
  for (let w = 0; w < 2; w++) {
    const diff = w === 0 ? diffLo : diffHi;
    for (let shift = 0; shift < 32; shift += bits) {
      if (((diff >>> shift) & mask) === 0) continue;
      const key = w === 0 ? lo : hi;
      for (let d = 0; d < radix; d++) count[d] = 0; // (JavaScriptCore's fill() is far slower)
      for (let j = 0; j < n; j++) count[(key[j] >>> shift) & mask]++;
      let sum = 0;
      for (let d = 0; d < radix; d++) {
        const c = count[d];
        count[d] = sum;
        sum += c;
      }
      for (let j = 0; j < n; j++) {
        const p = count[(key[j] >>> shift) & mask]++;
        order2[p] = order[j];
        hi2[p] = hi[j];
        lo2[p] = lo[j];
      }
      let t = order;
      order = order2;
      order2 = t;
      t = hi;
      hi = hi2;
      hi2 = t;
      t = lo;
      lo = lo2;
      lo2 = t;
    }
  }
  return { order, hi, lo };
}
