/**
 * VmaTable: many VMAs as columns (typed arrays), for callers that scan a
 * whole map: a `Vma` object is made only for the rows asked for.
 * @module
 */
import { setRawName, Vma } from "../vma.ts";
import { toAddress } from "../options.ts";
import { firstEndAbove, HI, hiOf, LO, loOf } from "../util/bytes.ts";

/** What a {@link VmaTable} is made of (the backends' table builder fills it). */
export interface VmaColumns {
  length: number;
  /** Start, end, offset and inode as 32-bit word pairs (native order), `2 * length` each. */
  startWords: Uint32Array;
  endWords: Uint32Array;
  offsetWords: Uint32Array;
  inodeWords: Uint32Array;
  flags: Uint8Array;
  devMajor: Uint32Array;
  devMinor: Uint32Array;
  pageSize: Float64Array;
  names: string[] | undefined;
  nameIndex: Uint32Array | undefined;
  /** Raw bytes of names that are not UTF-8, by name index. */
  rawNames: Map<number, Uint8Array>;
  buildIds: (string | undefined)[] | undefined;
}

/**
 * VMAs as columns: row `i` of every column describes the same VMA, in
 * address order. The columns are typed arrays named like the {@link Vma}
 * fields (`start[i]` is `at(i).start`); names are de-duplicated into
 * {@link names}, with {@link nameIndex} pointing into it. `at(i)` builds a
 * `Vma` only when asked; {@link find} is a binary search. What
 * {@link ProcMaps.table} returns. The columns are views of one ArrayBuffer:
 * transferring one column's `buffer` to a Worker detaches them all, so send
 * copies (`table.start.slice()`) instead.
 *
 * @example
 * ```ts
 * using maps = ProcMaps.open(pid);
 * const t = maps.table({ executable: true });
 * for (let i = 0; i < t.length; i++) console.log(t.start[i].toString(16), t.name(i));
 * const row = t.find(addr); // -1 when no VMA in the table covers addr
 * ```
 */
export class VmaTable implements Iterable<Vma> {
  /** Number of rows (VMAs). */
  readonly length: number;
  /** First address of each VMA. */
  readonly start: BigUint64Array;
  /** One past the last address of each VMA. */
  readonly end: BigUint64Array;
  /** File offset of each VMA's start (0 for anonymous memory). */
  readonly offset: BigUint64Array;
  /** Inode of each VMA's file (0 for anonymous memory). */
  readonly inode: BigUint64Array;
  /** Permission bits of each VMA, as {@link Vma.flags} (see {@link PERM}). */
  readonly flags: Uint8Array;
  /** Device major number of each VMA's file. */
  readonly devMajor: Uint32Array;
  /** Device minor number of each VMA's file. */
  readonly devMinor: Uint32Array;
  /** Page size of each VMA in bytes. */
  readonly pageSize: Float64Array;
  /**
   * The distinct names, in order of first appearance (`""` for VMAs without
   * a name); `undefined` when names were not requested.
   */
  readonly names: readonly string[] | undefined;
  /** For each row, the index of its name in {@link names}; `undefined` when names were not requested. */
  readonly nameIndex: Uint32Array | undefined;
  readonly #startWords: Uint32Array;
  readonly #endWords: Uint32Array;
  readonly #rawNames: Map<number, Uint8Array>;
  readonly #buildIds: (string | undefined)[] | undefined;

  /** @internal Backends build tables; user code receives them. */
  constructor(c: VmaColumns) {
    const n = c.length;
    this.length = n;
    const big = (w: Uint32Array) => new BigUint64Array(w.buffer, w.byteOffset, n);
    this.start = big(c.startWords);
    this.end = big(c.endWords);
    this.offset = big(c.offsetWords);
    this.inode = big(c.inodeWords);
    this.#startWords = c.startWords;
    this.#endWords = c.endWords;
    // Columns of exactly n rows (a builder sized beforehand) are used as they are.
    const rows = <T extends Uint8Array | Uint32Array | Float64Array>(a: T): T =>
      a.length === n ? a : a.subarray(0, n) as T;
    this.flags = rows(c.flags);
    this.devMajor = rows(c.devMajor);
    this.devMinor = rows(c.devMinor);
    this.pageSize = rows(c.pageSize);
    this.names = c.names;
    this.nameIndex = c.nameIndex && rows(c.nameIndex);
    this.#rawNames = c.rawNames;
    this.#buildIds = c.buildIds;
  }

  /** The name of row `i` (as {@link Vma.name}); `undefined` when names were not requested or `i` is out of range. */
  name(i: number): string | undefined {
    const index = this.nameIndex;
    if (index === undefined || !(i >= 0 && i < this.length)) return undefined;
    return this.names![index[i]];
  }

  /** The build ID of row `i` (as {@link Vma.buildId}); `undefined` when not requested, absent, or out of range. */
  buildId(i: number): string | undefined {
    return i >= 0 && i < this.length ? this.#buildIds?.[i] : undefined;
  }

  /**
   * Row `i` as a {@link Vma} (a new object each call); a negative `i` counts
   * from the end, as `Array.prototype.at` does. `undefined` out of range.
   */
  at(i: number): Vma | undefined {
    if (!Number.isInteger(i)) throw new TypeError(`row index must be an integer, got ${String(i)}`);
    if (i < 0) i += this.length;
    if (i < 0 || i >= this.length) return undefined;
    const nameIndex = this.nameIndex;
    const vma = new Vma(
      this.start[i],
      this.end[i],
      this.flags[i],
      this.offset[i],
      this.devMajor[i],
      this.devMinor[i],
      this.inode[i],
      this.pageSize[i],
      nameIndex === undefined ? undefined : this.names![nameIndex[i]],
      this.#buildIds?.[i],
    );
    const raw = nameIndex === undefined ? undefined : this.#rawNames.get(nameIndex[i]);
    if (raw !== undefined) setRawName(vma, raw);
    return vma;
  }

  /**
   * The row whose VMA covers `addr`, or -1 when none in the table does: a
   * binary search over `end`, comparing 32-bit halves (no bigints per step).
   *
   * @throws {TypeError | RangeError} for an address that is not a bigint in
   *   [0, 2^64) or a non-negative safe integer.
   */
  find(addr: bigint | number): number {
    const a = toAddress(addr);
    const hi = hiOf(a), lo = loOf(a);
    const l = firstEndAbove(this.#endWords, this.length, hi, lo);
    if (l === this.length) return -1;
    const starts = this.#startWords;
    const sh = starts[2 * l + HI];
    return sh < hi || (sh === hi && starts[2 * l + LO] <= lo) ? l : -1;
  }

  /** Every row as a {@link Vma}, in address order. */
  *[Symbol.iterator](): IterableIterator<Vma> {
    for (let i = 0; i < this.length; i++) yield this.at(i)!;
  }

  /**
   * JSON form: the rows as an array of {@link Vma.toJSON} objects, what
   * `JSON.stringify([...table])` gives (columns are typed arrays of bigints,
   * which JSON cannot hold).
   */
  toJSON(): Record<string, unknown>[] {
    const rows: Record<string, unknown>[] = [];
    for (let i = 0; i < this.length; i++) rows.push(this.at(i)!.toJSON());
    return rows;
  }
}
