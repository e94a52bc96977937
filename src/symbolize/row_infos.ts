/**
 * The {@link SymbolInfo} of a columnar table's row, shared by
 * symbolizeTable()'s and symbolizeFileTable()'s tables: a row without frames
 * gets its symbol's info anew (as before lines), a row with frames, or one
 * only DWARF names, gets one made once and kept, so that `symbolAt()` and
 * `at()` give the same object each time.
 * @module
 */
import type { DwarfFunction } from "../dwarf/mod.ts";
import type { FrameChains } from "./frame_chains.ts";
import { ModuleLines } from "./module_lines.ts";
import type { SymbolColumns } from "./symbol_columns.ts";
import type { SymbolInfo } from "./types.ts";

/** Rows' SymbolInfo over a table's symbol and chain columns. */
export class RowInfos {
  readonly #symbols: SymbolColumns;
  readonly #symbol: Int32Array;
  readonly #offset: BigUint64Array;
  readonly #chain: Int32Array;
  readonly #chains: FrameChains;
  readonly #lined = new Map<number, SymbolInfo>();

  constructor(
    symbols: SymbolColumns,
    symbol: Int32Array,
    offset: BigUint64Array,
    chain: Int32Array,
    chains: FrameChains,
  ) {
    this.#symbols = symbols;
    this.#symbol = symbol;
    this.#offset = offset;
    this.#chain = chain;
    this.#chains = chains;
  }

  /** Row `r`'s info; `fn` (at ELF address `elfAddr`) where only DWARF names the row. */
  at(r: number, fn: DwarfFunction | undefined, elfAddr: bigint): SymbolInfo | undefined {
    const c = this.#chain[r];
    if (c < 0 && !fn) {
      const k = this.#symbol[r];
      return k < 0 ? undefined : this.#symbols.infoAt(k, this.#offset[r]);
    }
    let info = this.#lined.get(r);
    if (!info) {
      const frames = c < 0 ? undefined : this.#chains.framesOf(c);
      info = fn
        ? ModuleLines.dwarfInfo(fn, elfAddr, frames)
        : this.#symbols.infoAt(this.#symbol[r], this.#offset[r], frames);
      this.#lined.set(r, info);
    }
    return info;
  }
}
