/**
 * Source frames as columns ({@link FrameChains}): the frame chains of a
 * columnar batch, one chain per run of addresses where DWARF's answer holds,
 * each chain's frames as rows of per-field columns; no object per address
 * or frame until one is asked for.
 * @module
 */
import type { SymbolFrame } from "./types.ts";

/**
 * The source frame chains of a columnar batch ({@link SymbolizedTable.chains},
 * {@link FileSymbolizedTable.chains}): chain `c`'s frames are the rows
 * `first[c]` to `first[c + 1]` (excluded) of the frame columns, innermost
 * first, each field as {@link SymbolFrame} has it (`name[j]`,
 * `demangled[j]`, `file[j]`, `line[j]`, `column[j]`,
 * `discriminator[j]`, `inlined[j]` 1 or 0). A batch's rows share a chain
 * where the answer holds (neighbouring addresses in one line row, function
 * and inline chain); chains of addresses far apart may be equal without
 * being one chain.
 */
export class FrameChains {
  /** Number of chains. */
  readonly length: number;
  /** Where each chain's frames start in the frame columns; `first[length]` is the number of frames. */
  readonly first: Uint32Array;
  /** Each frame's (linkage) name, `"??"` where DWARF names no function. */
  readonly name: readonly string[];
  /** Each frame's readable name (`name` itself with `demangle: false`). */
  readonly demangled: readonly string[];
  /** Each frame's source file (full path), or undefined when DWARF gives none. */
  readonly file: readonly (string | undefined)[];
  /** Each frame's line, 0 when unknown. */
  readonly line: Uint32Array;
  /** Each frame's column, 0 when unknown. */
  readonly column: Uint32Array;
  /** Each frame's discriminator, 0 when none. */
  readonly discriminator: Uint32Array;
  /** 1 for an inlined frame (every frame of a chain but its last), else 0. */
  readonly inlined: Uint8Array;
  readonly #objects: (readonly SymbolFrame[] | undefined)[] = [];

  /** @internal A batch's chain builder makes them. */
  constructor(cols: {
    first: Uint32Array;
    name: string[];
    demangled: string[];
    file: (string | undefined)[];
    line: Uint32Array;
    column: Uint32Array;
    discriminator: Uint32Array;
    inlined: Uint8Array;
  }) {
    this.length = cols.first.length - 1;
    this.first = cols.first;
    this.name = cols.name;
    this.demangled = cols.demangled;
    this.file = cols.file;
    this.line = cols.line;
    this.column = cols.column;
    this.discriminator = cols.discriminator;
    this.inlined = cols.inlined;
  }

  /**
   * Chain `c` as the frames array of a {@link SymbolInfo} (innermost first),
   * made once: every row of the chain gets the same array.
   */
  framesOf(c: number): readonly SymbolFrame[] {
    if (!Number.isInteger(c) || c < 0 || c >= this.length) throw new RangeError(`no chain ${String(c)}`);
    // Filled in order from empty: JavaScriptCore makes `new Array(n)` sparse from n = 100,000.
    while (this.#objects.length <= c) this.#objects.push(undefined);
    const known = this.#objects[c];
    if (known) return known;
    const out: SymbolFrame[] = [];
    for (let j = this.first[c]; j < this.first[c + 1]; j++) {
      out.push({
        name: this.name[j],
        demangled: this.demangled[j],
        file: this.file[j],
        line: this.line[j],
        column: this.column[j],
        discriminator: this.discriminator[j],
        inlined: this.inlined[j] === 1,
      });
    }
    return this.#objects[c] = out;
  }
}

let serials = 0;

/**
 * Gathers a batch's chains: {@link begin}, a {@link put} per frame
 * (innermost first), {@link end} with how many of the frames put since
 * {@link begin} are the answer (its last ones). A chain equal to the one
 * before it is that chain again.
 */
export class ChainBuilder {
  /** Tells builders apart (a module remembers the last chain it put, and into which builder, by it). */
  readonly serial = serials++;
  chains = 0;
  readonly first: number[] = [0];
  readonly name: string[] = [];
  readonly demangled: string[] = [];
  readonly file: (string | undefined)[] = [];
  /** The numeric columns, grown by doubling (pushing to arrays of numbers cost more). */
  line: Uint32Array = new Uint32Array(256);
  column: Uint32Array = new Uint32Array(256);
  discriminator: Uint32Array = new Uint32Array(256);
  inlined: Uint8Array = new Uint8Array(256);
  #mark = 0;

  /** Starts a chain. */
  begin(): void {
    this.#mark = this.name.length;
  }

  /** Appends a frame to the chain under way. */
  put(
    name: string,
    demangled: string,
    file: string | undefined,
    line: number,
    column: number,
    discriminator: number,
    inlined: boolean,
  ): void {
    const j = this.name.length;
    if (j === this.line.length) this.#grow();
    this.name.push(name);
    this.demangled.push(demangled);
    this.file.push(file);
    this.line[j] = line;
    this.column[j] = column;
    this.discriminator[j] = discriminator;
    this.inlined[j] = inlined ? 1 : 0;
  }

  #grow(): void {
    const n = 2 * this.line.length;
    const line = new Uint32Array(n), column = new Uint32Array(n), disc = new Uint32Array(n);
    const inlined = new Uint8Array(n);
    line.set(this.line);
    column.set(this.column);
    disc.set(this.discriminator);
    inlined.set(this.inlined);
    this.line = line;
    this.column = column;
    this.discriminator = disc;
    this.inlined = inlined;
  }

  /**
   * Ends the chain under way: its last `count` frames put are the answer
   * (a reader that failed part-way and started again put others before
   * them). Returns its chain, or -1 for no frames.
   */
  end(count: number): number {
    const mark = this.#mark;
    const extra = this.name.length - mark - count;
    if (count <= 0 || extra < 0) {
      this.#cut(mark);
      return -1;
    }
    if (extra > 0) {
      for (let j = mark; j < mark + count; j++) this.#move(j + extra, j);
      this.#cut(mark + count);
    }
    // The previous chain again when equal (neighbours whose answers' bounds differ).
    const c = this.chains - 1;
    if (c >= 0 && this.first[c + 1] - this.first[c] === count && this.#equal(this.first[c], mark, count)) {
      this.#cut(mark);
      return c;
    }
    this.first.push(mark + count);
    return this.chains++;
  }

  #equal(x: number, y: number, n: number): boolean {
    for (let k = 0; k < n; k++) {
      const i = x + k, j = y + k;
      if (
        this.line[i] !== this.line[j] || this.column[i] !== this.column[j] || this.name[i] !== this.name[j] ||
        this.file[i] !== this.file[j] || this.inlined[i] !== this.inlined[j] ||
        this.discriminator[i] !== this.discriminator[j] || this.demangled[i] !== this.demangled[j]
      ) return false;
    }
    return true;
  }

  #move(from: number, to: number): void {
    this.name[to] = this.name[from];
    this.demangled[to] = this.demangled[from];
    this.file[to] = this.file[from];
    this.line[to] = this.line[from];
    this.column[to] = this.column[from];
    this.discriminator[to] = this.discriminator[from];
    this.inlined[to] = this.inlined[from];
  }

  #cut(n: number): void {
    if (this.name.length > n) this.name.length = this.demangled.length = this.file.length = n;
  }

  /** The chains as columns. */
  finish(): FrameChains {
    const n = this.name.length;
    return new FrameChains({
      first: Uint32Array.from(this.first),
      name: this.name,
      demangled: this.demangled,
      file: this.file,
      line: this.line.slice(0, n),
      column: this.column.slice(0, n),
      discriminator: this.discriminator.slice(0, n),
      inlined: this.inlined.slice(0, n),
    });
  }
}
