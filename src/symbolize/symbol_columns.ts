/**
 * The distinct symbols of a columnar batch ({@link SymbolColumns}), shared
 * by `symbolizeTable()` and `symbolizeFileTable()`.
 * @module
 */
import { HI, LO } from "../util/bytes.ts";
import { demangledOf, flagCut, TWO_32, TWO_52 } from "./table_cursor.ts";
import { FramedSymbolInfoResult, SymbolInfoResult } from "./result.ts";
import type { RawSymbol, SymbolFrame, SymbolInfo, SymbolSource } from "./types.ts";

/**
 * The symbols a {@link SymbolizedTable} or {@link FileSymbolizedTable} names, one row per distinct symbol:
 * `name[k]`, `demangled[k]`, `start[k]`, `size[k]`, `source[k]` are what a
 * {@link SymbolInfo} of that symbol holds (`start` in the address space of
 * the ELF address, absolute for JIT code).
 */
export class SymbolColumns {
  /** Number of symbols. */
  readonly length: number;
  /** The table's (mangled) names. */
  readonly name: readonly string[];
  /** The readable names (`name` itself with `demangle: false`). */
  readonly demangled: readonly string[];
  /** First addresses. */
  readonly start: BigUint64Array;
  /** Sizes in bytes. */
  readonly size: BigUint64Array;
  /** Which table named each. */
  readonly source: readonly SymbolSource[];
  /** 1 where `demangled` is `name` because the name ran past the demangler's budget (`demangleReason: "budget"`). */
  readonly demangleCut: Uint8Array;
  readonly #raws: readonly RawSymbol[];

  /** @internal symbolizeTable() builds them. */
  constructor(raws: RawSymbol[], sources: SymbolSource[], want: boolean) {
    const n = this.length = raws.length;
    this.#raws = raws;
    this.source = sources;
    this.name = raws.map((r) => r.name);
    this.demangled = raws.map((r) => want ? r.demangled ?? demangledOf(r) : r.name);
    this.start = new BigUint64Array(n);
    this.size = new BigUint64Array(n);
    this.demangleCut = new Uint8Array(n);
    for (let k = 0; k < n; k++) {
      this.start[k] = raws[k].start;
      this.size[k] = raws[k].size;
      this.demangleCut[k] = want && raws[k].demangleCut ? 1 : 0;
    }
  }

  /** Symbol `k` as the {@link SymbolInfo} of an address `offset` bytes into it (with its source frames when given). */
  infoAt(k: number, offset: bigint, frames?: readonly SymbolFrame[]): SymbolInfo {
    const raw = this.#raws[k];
    const info = frames === undefined
      ? new SymbolInfoResult(raw.name, this.demangled[k], raw.version, raw.start, raw.size, offset, this.source[k])
      : new FramedSymbolInfoResult(
        raw.name,
        this.demangled[k],
        raw.version,
        raw.start,
        raw.size,
        offset,
        this.source[k],
        frames,
      );
    return this.demangleCut[k] ? flagCut(info) : info;
  }
}

/**
 * Numbers a batch's distinct symbols in order of first appearance (the rows
 * of its {@link SymbolColumns}); the symbol numbered last is remembered, as
 * a sorted batch's neighbours mostly share one.
 */
export class SymbolNumbering {
  readonly #ids = new Map<RawSymbol, number>();
  readonly #raws: RawSymbol[] = [];
  readonly #sources: SymbolSource[] = [];
  #last: RawSymbol | undefined;
  #lastId = -1;

  /** The number of `raw` (named by a table of `source`), a new one when first met. */
  id(raw: RawSymbol, source: SymbolSource): number {
    if (raw === this.#last) return this.#lastId;
    let k = this.#ids.get(raw);
    if (k === undefined) {
      this.#ids.set(raw, k = this.#raws.length);
      this.#raws.push(raw);
      this.#sources.push(source);
    }
    this.#last = raw;
    return this.#lastId = k;
  }

  /** The symbols numbered, as columns. */
  columns(want: boolean): SymbolColumns {
    return new SymbolColumns(this.#raws, this.#sources, want);
  }
}

/**
 * Writes offset `d` (a double) into row `r` of an offset column (`words`, its
 * 32-bit word pairs) when it is exact there, below 2^52; false otherwise
 * (the caller writes the bigint).
 */
export function putOffset(words: Uint32Array, r: number, d: number): boolean {
  if (!(d >= 0 && d < TWO_52)) return false;
  words[2 * r + LO] = d >>> 0;
  words[2 * r + HI] = Math.floor(d / TWO_32);
  return true;
}
