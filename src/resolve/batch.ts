/**
 * A batch of addresses for resolve(): checked, read once and de-duplicated
 * as 32-bit word pairs (no bigint is made or compared), with
 * each input's place among the distinct addresses, and room for its
 * results.
 * @module
 */
import { describeValue, toAddress } from "../options.ts";
import { HI, LO, TWO_32, u64 } from "../util/bytes.ts";
import { Columns } from "../util/columns.ts";
import { distinct } from "./dedup.ts";

/**
 * The batch's distinct addresses, and where each input lands among
 * them; with the columns of its results (a {@link ResolvedTable}'s). All of
 * them are views of one ArrayBuffer, `n` rows each (the distinct addresses
 * fill the first `count`): allocating an ArrayBuffer costs V8 microseconds,
 * a large share of a small batch, so a batch makes one.
 */
export class Batch {
  /** Number of distinct addresses. */
  readonly count: number;
  /** For each input position, its index among the distinct addresses. */
  readonly slot: Uint32Array;
  /** For each distinct address, the first input position holding it. */
  readonly first: Uint32Array;
  /** Per distinct address, the entry of the VMA it lands in (resolve()'s loop fills it). */
  readonly entry: Int32Array;
  /**
   * The distinct addresses in order of first appearance, as u64 word pairs
   * (native order): the result's address column, written once by the
   * de-duplication and read by every pass after it.
   */
  readonly addrWords: Uint32Array;
  /** Result columns (u64 word pairs, native order). */
  readonly offsetWords: Uint32Array;
  readonly elfWords: Uint32Array;
  readonly kind: Uint8Array;
  readonly reason: Uint8Array;
  /** The caller's values when they came as an iterable (bigints, or numbers); undefined for a BigUint64Array. */
  readonly list: unknown[] | undefined;
  #unique: bigint[] | undefined;

  /** The ArrayBuffer of every column (see {@link releaseBatch}). */
  readonly buffer: ArrayBuffer;
  /**
   * The result columns hold what an earlier batch left (a kept ArrayBuffer):
   * {@link clearResults} before filling them. The other columns are written
   * whole by the de-duplication and the location.
   */
  dirty: boolean;

  /**
   * `temporary`: nothing of the batch outlives the call that makes it
   * (resolve(), symbolize(): their results hold no view of it), so its
   * columns may take the ArrayBuffer the last such batch gave back.
   */
  constructor(n: number, list: unknown[] | undefined, temporary = false) {
    const kept = temporary ? takeSpare(Columns.bytes(n, 3, 0, 3, 2)) : undefined;
    const c = new Columns(n, 3, 0, 3, 2, kept);
    this.buffer = c.buffer;
    this.addrWords = c.u64();
    this.offsetWords = c.u64();
    this.elfWords = c.u64();
    this.slot = c.u32();
    this.first = c.u32();
    const e = c.u32();
    this.entry = new Int32Array(e.buffer, e.byteOffset, n);
    this.kind = c.u8();
    this.reason = c.u8();
    this.dirty = kept !== undefined;
    this.list = list;
    this.count = 0;
  }

  /**
   * Zeroes the result columns' rows of the distinct addresses, where an
   * earlier batch left values (the fill writes only what differs from 0).
   * A loop: JavaScriptCore's fill() is far slower.
   */
  clearResults(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const { offsetWords, elfWords, kind, reason } = this;
    for (let i = 0; i < 2 * this.count; i++) offsetWords[i] = elfWords[i] = 0;
    for (let i = 0; i < this.count; i++) kind[i] = reason[i] = 0;
  }

  /** Takes the distinct addresses of `n` (word pairs) into the batch. */
  fill(input: Uint32Array, n: number): this {
    (this as { count: number }).count = distinct(input, n, this);
    return this;
  }

  /**
   * Distinct address `i` as a bigint: the caller's own bigint where it gave
   * one (so results hold the caller's values), else made from the words.
   */
  addrAt(i: number): bigint {
    const v = this.list?.[this.first[i]];
    return typeof v === "bigint" ? v : u64(this.addrWords[2 * i + HI], this.addrWords[2 * i + LO]);
  }

  #hi: Uint32Array | undefined;
  #lo: Uint32Array | undefined;

  /** The distinct addresses' high 32 bits, as a column of their own (made on first use: resolve() reads the pairs). */
  get hi(): Uint32Array {
    return this.#hi ??= this.#half(HI);
  }

  /** The distinct addresses' low 32 bits, as a column of their own (made on first use). */
  get lo(): Uint32Array {
    return this.#lo ??= this.#half(LO);
  }

  #half(k: number): Uint32Array {
    const out = new Uint32Array(this.count);
    const words = this.addrWords;
    for (let i = 0; i < out.length; i++) out[i] = words[2 * i + k];
    return out;
  }

  /** Every distinct address as a bigint, in order of first appearance (made on first use). */
  get unique(): bigint[] {
    if (this.#unique) return this.#unique;
    const out: bigint[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.addrAt(i));
    return (this.#unique = out);
  }
}

/**
 * The ArrayBuffer of the last temporary batch, given back for the next
 * one: allocating (and zeroing) a new one cost a profile's batch of 1,800
 * addresses about as much as finding their VMAs. Taken while in use, so a
 * batch made meanwhile (none is, today) gets its own.
 */
let spare: ArrayBuffer | undefined;
/** Kept up to this size (4 MB: about 110,000 addresses). */
const SPARE_MAX = 1 << 22;

function takeSpare(bytes: number): ArrayBuffer | undefined {
  const b = spare;
  if (b === undefined || b.byteLength < bytes) return undefined;
  spare = undefined;
  return b;
}

/** Gives a temporary batch's ArrayBuffer back once nothing reads the batch any more. */
export function releaseBatch(batch: Batch): void {
  const b = batch.buffer;
  if (b.byteLength <= SPARE_MAX && (spare === undefined || spare.byteLength < b.byteLength)) spare = b;
}

/** The largest u64. */
const MAX_U64 = 0xffffffffffffffffn;

/** Working space for the caller's values as words, reused up to this many addresses (2 MB). */
const SCRATCH_MAX = 1 << 18;
let scratch: BigUint64Array | undefined;

function scratchFor(n: number): BigUint64Array {
  if (n > SCRATCH_MAX) return new BigUint64Array(n);
  if (!scratch || scratch.length < n) scratch = new BigUint64Array(Math.min(SCRATCH_MAX, Math.max(n, 1024)));
  return scratch;
}

/**
 * Checks and sorts a batch. A BigUint64Array is read as it is, through a
 * word view (every u64 is an address; nothing is copied or converted). Any
 * other iterable is copied first, so each element is read exactly once (an
 * accessor or a proxy cannot answer the check one value and the use
 * another); a bigint is stored into a u64 (native code), a number split
 * into its words.
 */
export function toBatch(addrs: unknown, temporary = false): Batch {
  if (addrs instanceof BigUint64Array) {
    const n = addrs.length;
    return new Batch(n, undefined, temporary).fill(new Uint32Array(addrs.buffer, addrs.byteOffset, 2 * n), n);
  }
  if (addrs === null || typeof addrs !== "object" || !(Symbol.iterator in addrs)) {
    throw new TypeError(
      `addresses must be an iterable of bigints/numbers or a BigUint64Array, got ${describeValue(addrs)}`,
    );
  }
  const list = Array.from(addrs as Iterable<unknown>);
  const n = list.length;
  // No user code runs from here on (the copy is made), so the scratch array cannot be re-entered.
  const big = scratchFor(n);
  const w = new Uint32Array(big.buffer, 0, 2 * n);
  for (let i = 0; i < n; i++) {
    const a = list[i];
    // The common cases first: a bigint in range is stored as it is, a safe
    // non-negative integer split into words; anything else goes through
    // toAddress, which refuses it (naming its index).
    if (typeof a === "bigint" && a >= 0n && a <= MAX_U64) big[i] = a;
    else if (typeof a === "number" && a >= 0 && a <= Number.MAX_SAFE_INTEGER && Number.isInteger(a)) {
      const l = a % TWO_32;
      w[2 * i + LO] = l;
      w[2 * i + HI] = (a - l) / TWO_32;
    } else big[i] = toAddress(a, `address [${i}]`);
  }
  return new Batch(n, list, temporary).fill(w, n);
}
