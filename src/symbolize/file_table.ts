/**
 * symbolizeFile()'s results as columns ({@link FileSymbolizedTable}): per
 * distinct ELF address its symbol (a row of a per-symbol table), offset,
 * reason and source-frame chain (a chain of {@link FrameChains}); the
 * objects symbolizeFile() returns as views of its rows.
 * @module
 */
import { toBatch } from "../resolve/batch.ts";
import type { Batch } from "../resolve/batch.ts";
import type { DwarfFunction } from "../dwarf/mod.ts";
import { ascending } from "./ascending.ts";
import type { ModuleSymbols } from "./elf_module.ts";
import { ChainBuilder, type FrameChains } from "./frame_chains.ts";
import { RowInfos } from "./row_infos.ts";
import { type FileSymbolized, FileSymbolizedResult, SYMBOL_REASONS, type SymbolReason } from "./result.ts";
import { putOffset, type SymbolColumns, SymbolNumbering } from "./symbol_columns.ts";
import { demangledOf, fastTable, tableCursor, TWO_32, TWO_52 } from "./table_cursor.ts";
import type { FileOptions, RawSymbol, SymbolFrame, SymbolInfo, SymbolSource } from "./types.ts";

const REASON_CODE = new Map(SYMBOL_REASONS.map((r, i) => [r, i]));

/**
 * The results of a {@link Symbolizer.symbolizeFile} batch as columns, what
 * {@link Symbolizer.symbolizeFileTable} returns: one row per distinct ELF
 * address (in order of first appearance; {@link index} takes each input
 * position to its row), and per row {@link symbol} (a row of
 * {@link symbols}, the table of distinct symbols, or -1),
 * {@link symbolOffset}, {@link symbolReason} and, with option `lines`
 * (default true), {@link chain}: its source frames as a chain of
 * {@link chains} (-1: none). No object per address or frame: a profiler
 * aggregates by symbol or by chain from the numbers, and reads each
 * distinct name once. `at(i)` gives input position `i` as the
 * {@link FileSymbolized} object `symbolizeFile()` returns, and
 * {@link framesAt} a row's frames as its `symbol.frames`. A row that only
 * DWARF names (`source: "dwarf"`, no symbol table covers it) has `symbol`
 * -1, its chain, and its SymbolInfo through {@link symbolAt}.
 *
 * @example
 * ```ts
 * const t = new Symbolizer().symbolizeFileTable("/usr/lib/x86_64-linux-gnu/libc.so.6", samples);
 * const perLine = new Map<string, number>();
 * const { chains } = t;
 * for (const row of t.index) {
 *   const c = t.chain[row];
 *   if (c < 0) continue;
 *   const j = chains.first[c]; // the innermost frame
 *   const key = `${chains.file[j]}:${chains.line[j]}`;
 *   perLine.set(key, (perLine.get(key) ?? 0) + 1);
 * }
 * ```
 */
export class FileSymbolizedTable {
  /** Number of rows (distinct addresses). */
  readonly length: number;
  /** For each input position, its row. */
  readonly index: Uint32Array;
  /** Each row's ELF address. */
  readonly elfAddr: BigUint64Array;
  /** Each row's symbol: its row in {@link symbols}, or -1 (see {@link symbolReason}). */
  readonly symbol: Int32Array;
  /** Each row's offset into its symbol (its ELF address minus the symbol's start); 0 without one. */
  readonly symbolOffset: BigUint64Array;
  /** Why a row has no symbol, as its index in `SYMBOL_REASONS` (0: it has one). */
  readonly symbolReason: Uint8Array;
  /** The distinct symbols the rows name. */
  readonly symbols: SymbolColumns;
  /** Each row's source frames: its chain in {@link chains}, or -1 (none there, or option `lines` false). */
  readonly chain: Int32Array;
  /** The frame chains the rows have, as columns. */
  readonly chains: FrameChains;
  /** The message of every row with a reason (one module, one reason). */
  readonly #message: string | undefined;
  readonly #batch: Batch;
  readonly #dwarfRows: Map<number, DwarfFunction>;
  readonly #infos: RowInfos;
  #views: (FileSymbolized | undefined)[] | undefined;

  /** @internal Symbolizer.symbolizeFileTable() builds tables; user code receives them. */
  constructor(
    batch: Batch,
    cols: { symbol: Int32Array; offset: BigUint64Array; reason: Uint8Array; chain: Int32Array },
    symbols: SymbolColumns,
    chains: FrameChains,
    message: string | undefined,
    dwarfRows: Map<number, DwarfFunction>,
  ) {
    this.#batch = batch;
    this.length = batch.count;
    this.index = batch.slot;
    const elfAddr = this.elfAddr = new BigUint64Array(batch.count);
    new Uint32Array(elfAddr.buffer).set(batch.addrWords.subarray(0, 2 * batch.count));
    this.symbol = cols.symbol;
    this.symbolOffset = cols.offset;
    this.symbolReason = cols.reason;
    this.chain = cols.chain;
    this.symbols = symbols;
    this.chains = chains;
    this.#message = message;
    this.#dwarfRows = dwarfRows;
    this.#infos = new RowInfos(symbols, cols.symbol, cols.offset, cols.chain, chains);
  }

  /** Row `r`'s symbol reason (as {@link FileSymbolized.symbolReason}). */
  symbolReasonAt(r: number): SymbolReason | undefined {
    return SYMBOL_REASONS[this.symbolReason[r]];
  }

  /** Row `r`'s symbol message (as {@link FileSymbolized.symbolMessage}). */
  symbolMessageAt(r: number): string | undefined {
    return this.symbolReason[r] === 0 ? undefined : this.#message;
  }

  /** Row `r`'s symbol as a {@link SymbolInfo} (with its `frames` where DWARF has them), or undefined. */
  symbolAt(r: number): SymbolInfo | undefined {
    const fn = this.#dwarfRows.size === 0 ? undefined : this.#dwarfRows.get(r);
    return this.#infos.at(r, fn, fn ? this.elfAddr[r] : 0n);
  }

  /**
   * Row `r`'s source frames, innermost first (as {@link SymbolInfo.frames}),
   * or undefined: none there, or option `lines` was false.
   */
  framesAt(r: number): readonly SymbolFrame[] | undefined {
    const c = this.chain[r];
    return c < 0 ? undefined : this.chains.framesOf(c);
  }

  /**
   * Input position `i` as {@link Symbolizer.symbolizeFile} gives it; the
   * same object for every position of one row. A negative `i` counts from
   * the end; `undefined` out of range.
   */
  at(i: number): FileSymbolized | undefined {
    if (!Number.isInteger(i)) throw new TypeError(`input position must be an integer, got ${String(i)}`);
    const index = this.index;
    if (i < 0) i += index.length;
    if (i < 0 || i >= index.length) return undefined;
    return this.rowAt(index[i]);
  }

  /** Row `r` as a {@link FileSymbolized}, made once. */
  rowAt(r: number): FileSymbolized {
    if (!Number.isInteger(r) || r < 0 || r >= this.length) throw new RangeError(`no row ${String(r)}`);
    if (!this.#views) {
      // Filled in order from empty: JavaScriptCore makes `new Array(n)` sparse from n = 100,000.
      const views: (FileSymbolized | undefined)[] = (this.#views = []);
      for (let k = 0; k < this.length; k++) views.push(undefined);
    }
    return this.#views[r] ??= new FileSymbolizedResult(
      this.#batch.addrAt(r),
      this.symbolAt(r),
      this.symbolReasonAt(r),
      this.symbolMessageAt(r),
    );
  }

  /** Every input position's result, in input order: what {@link Symbolizer.symbolizeFile} returns. */
  toArray(): FileSymbolized[] {
    const out: FileSymbolized[] = [];
    for (let i = 0; i < this.index.length; i++) out.push(this.rowAt(this.index[i]));
    return out;
  }

  /** JSON form: what `JSON.stringify(symbolizeFile())` gives, the rows' objects in input order. */
  toJSON(): unknown[] {
    return this.toArray().map((r) => r.toJSON());
  }
}

/**
 * The module of a file, or why there is none, and why an address it has no
 * symbol for has none.
 */
export interface FileTableSource {
  module: ModuleSymbols | undefined;
  reason: SymbolReason | undefined;
  message: string | undefined;
  miss: { reason: SymbolReason; message: string } | undefined;
}

/** Symbolizes a file's ELF addresses into columns; see Symbolizer.symbolizeFileTable. */
export function fileTable(source: FileTableSource, elfAddrs: unknown, o: FileOptions): FileSymbolizedTable {
  const batch = toBatch(elfAddrs);
  const n = batch.count;
  const symbol = new Int32Array(n).fill(-1);
  const offset = new BigUint64Array(n);
  const offsetWords = new Uint32Array(offset.buffer);
  const reason = new Uint8Array(n);
  const chain = new Int32Array(n).fill(-1);
  const builder = new ChainBuilder();
  const dwarfRows = new Map<number, DwarfFunction>();
  const numbering = new SymbolNumbering();
  const { module, miss } = source;
  if (!module) {
    reason.fill(REASON_CODE.get(source.reason) ?? 0);
    return new FileSymbolizedTable(
      batch,
      { symbol, offset, reason, chain },
      numbering.columns(o.demangle),
      builder.finish(),
      source.message,
      dwarfRows,
    );
  }
  const lines = o.lines ? module.lines ?? undefined : undefined;
  const { inlines, demangle: want } = o;
  const missCode = REASON_CODE.get(miss?.reason) ?? 0;
  const cursor = tableCursor(module.tables);
  for (const t of module.tables) t.expectLookups(() => n);
  const { hi, lo } = batch;
  // In ascending order, as symbolizeFile(): tables searched forward, DWARF's units met in turn.
  const order = ascending(hi, lo);
  // The addresses in that order, gathered in a loop of their own (reading a row's words in the
  // main loop, in the callers' order, waited on memory there).
  const sortedHi = new Uint32Array(n), sortedLo = new Uint32Array(n);
  for (let j = 0; j < n; j++) {
    const r = order[j];
    sortedHi[j] = hi[r];
    sortedLo[j] = lo[r];
  }
  for (let j = 0; j < order.length; j++) {
    const r = order[j];
    const h = sortedHi[j];
    let raw: RawSymbol | undefined;
    let src: SymbolSource | undefined;
    if (h < TWO_52 / TWO_32) {
      const ea = h * TWO_32 + sortedLo[j];
      const t = fastTable(cursor, ea);
      if (t >= 0) {
        const s = cursor.tables[t].symbolOfPiece(cursor.hints[t])!;
        raw = s;
        src = cursor.tables[t].source;
        if (!putOffset(offsetWords, r, ea - s.at)) offset[r] = batch.addrAt(r) - s.start;
      }
    } else {
      const elfAddr = batch.addrAt(r);
      for (const t of module.tables) {
        raw = t.find(elfAddr);
        if (raw) {
          src = t.source;
          offset[r] = elfAddr - raw.start;
          break;
        }
      }
    }
    if (raw) {
      symbol[r] = numbering.id(raw, src!);
      if (lines) {
        const demangled = want ? raw.demangled ?? demangledOf(raw) : raw.name;
        const at = h < TWO_52 / TWO_32 ? h * TWO_32 + sortedLo[j] : batch.addrAt(r);
        chain[r] = lines.chain(at, inlines, want, raw.name, demangled, builder);
      }
      continue;
    }
    if (lines) {
      const elfAddr = batch.addrAt(r);
      const fn = lines.functionAt(elfAddr);
      if (fn) {
        dwarfRows.set(r, fn);
        chain[r] = lines.chain(elfAddr, inlines, want, undefined, undefined, builder);
        continue;
      }
    }
    reason[r] = missCode;
  }
  return new FileSymbolizedTable(
    batch,
    { symbol, offset, reason, chain },
    numbering.columns(want),
    builder.finish(),
    miss?.message,
    dwarfRows,
  );
}
