/**
 * Column storage for the tables (a parsed maps text, a VmaTable being
 * built).
 * @module
 */

/**
 * Typed-array columns of `rows` rows carved out of one ArrayBuffer, in the
 * order asked for (the 8-byte ones first, then u32, then u8, so each stays
 * aligned): one allocation per table instead of one per column, which is
 * most of a small parse's fixed cost in V8.
 */
export class Columns {
  /** Rows of every column. */
  readonly rows: number;
  readonly #buffer: ArrayBuffer;
  #at = 0;
  /**
   * Room for `rows` rows of that many columns of each width: in `buffer`
   * when it is given and large enough (its bytes as they are: the caller
   * clears what it needs), else in a new, zeroed ArrayBuffer.
   */
  constructor(rows: number, u64s: number, f64s: number, u32s: number, u8s: number, buffer?: ArrayBuffer) {
    this.rows = rows;
    const bytes = Columns.bytes(rows, u64s, f64s, u32s, u8s);
    this.#buffer = buffer !== undefined && buffer.byteLength >= bytes ? buffer : new ArrayBuffer(bytes);
  }

  /** Bytes of that many rows and columns. */
  static bytes(rows: number, u64s: number, f64s: number, u32s: number, u8s: number): number {
    return rows * (8 * (u64s + f64s) + 4 * u32s + u8s);
  }

  /** The ArrayBuffer the columns are views of. */
  get buffer(): ArrayBuffer {
    return this.#buffer;
  }
  /** The next u64 column, as 32-bit word pairs. */
  u64(): Uint32Array {
    return new Uint32Array(this.#buffer, this.#take(8), 2 * this.rows);
  }
  /** The next f64 column (taken before any u32 or u8 one, for alignment). */
  f64(): Float64Array {
    return new Float64Array(this.#buffer, this.#take(8), this.rows);
  }
  /** The next u32 column. */
  u32(): Uint32Array {
    return new Uint32Array(this.#buffer, this.#take(4), this.rows);
  }
  /** The next u8 column. */
  u8(): Uint8Array {
    return new Uint8Array(this.#buffer, this.#take(1), this.rows);
  }
  #take(width: number): number {
    const at = this.#at;
    this.#at += width * this.rows;
    return at;
  }
}
