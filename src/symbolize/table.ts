/**
 * symbolize()'s results as columns ({@link SymbolizedTable}): resolveTable()'s
 * columns for the distinct addresses, plus per row the symbol (a row of a
 * per-symbol table), its offset and why there is none; the objects
 * symbolize() returns as views of its rows.
 * @module
 */
import { ResolvedTable } from "../resolve/table.ts";
import { type Finished, REASON_TEXT, resolvedAt } from "../resolve/resolve.ts";
import { fastTable, TWO_32, TWO_52 } from "./table_cursor.ts";
import { toBigint } from "../util/bytes.ts";
import type { ModuleSymbols } from "./elf_module.ts";
import type { ModuleLines } from "./module_lines.ts";
import { RowInfos } from "./row_infos.ts";
import { ChainBuilder, type FrameChains } from "./frame_chains.ts";
import type { DwarfFunction } from "../dwarf/mod.ts";
import { account } from "./symbolizer.ts";
import {
  checkOptions,
  type EntrySource,
  entrySource,
  generalLookup,
  lookupsPerEntry,
  type SymbolizeSources,
  vmaSources,
} from "./symbolize.ts";
import { SYMBOL_REASONS, type Symbolized, SymbolizedResult, type SymbolReason } from "./result.ts";
import type { SymbolFrame, SymbolInfo } from "./types.ts";
import { putOffset, type SymbolColumns, SymbolNumbering } from "./symbol_columns.ts";

const REASON_CODE = new Map(SYMBOL_REASONS.map((r, i) => [r, i]));
const TWO_53 = 2 ** 53;

/**
 * The results of a symbolize() batch as columns, what
 * {@link ProcMaps.symbolizeTable} returns: {@link resolved} holds
 * resolveTable()'s columns (one row per distinct address, in order of first
 * appearance; `index` takes each input position to its row; the VMAs with
 * names and build IDs), and per row {@link symbol} (a row of
 * {@link symbols}, the table of distinct symbols, or -1), {@link symbolOffset}
 * and {@link symbolReason}. No object per address: symbols are found from
 * the columns' numbers, and each distinct symbol's name is read (and
 * demangled) once. `at(i)` gives input position `i` as the
 * {@link Symbolized} object {@link ProcMaps.symbolize} returns.
 *
 * Source lines: with option `lines` (default true, as symbolize()), each
 * row's DWARF frames are chain {@link chain} of {@link chains} (-1: none),
 * as columns; {@link framesAt} gives them as symbolize()'s frames array,
 * and `at(i)` and {@link symbolAt} carry them in `symbol.frames`. A row
 * that only DWARF names (`source: "dwarf"`, no symbol table covers it) has
 * `symbol` -1 in the columns, its chain, and its SymbolInfo through
 * {@link symbolAt}.
 *
 * @example
 * ```ts
 * using maps = ProcMaps.open(pid);
 * const t = maps.symbolizeTable(samples);
 * const counts = new Map<string, number>();
 * for (const row of t.resolved.index) {
 *   const k = t.symbol[row];
 *   const name = k < 0 ? "[unknown]" : t.symbols.demangled[k];
 *   counts.set(name, (counts.get(name) ?? 0) + 1);
 * }
 * ```
 */
export class SymbolizedTable {
  /** The batch resolved: rows, `index`, VMAs, offsets, as {@link ProcMaps.resolveTable} gives them. */
  readonly resolved: ResolvedTable;
  /** Number of rows (distinct addresses). */
  readonly length: number;
  /** Each row's symbol: its row in {@link symbols}, or -1 (see {@link symbolReason}). */
  readonly symbol: Int32Array;
  /** Each row's offset into its symbol (the address, or its ELF address, minus the symbol's start); 0 without one. */
  readonly symbolOffset: BigUint64Array;
  /** Why a row has no symbol, as its index in `SYMBOL_REASONS` (0: it has one, or nothing is mapped there). */
  readonly symbolReason: Uint8Array;
  /** The distinct symbols the rows name. */
  readonly symbols: SymbolColumns;
  /** Each row's source frames: its chain in {@link chains}, or -1 (none there, or option `lines` false). */
  readonly chain: Int32Array;
  /** The frame chains the rows have, as columns. */
  readonly chains: FrameChains;
  /** Per row, its message's index in #messages (0: none). */
  readonly #message: Uint32Array;
  readonly #messages: string[];
  /** Rows whose ELF address is not resolve()'s (the vDSO's comes from its image). */
  readonly #elfAddr: Map<number, bigint | undefined>;
  /** Rows that only DWARF names: its function there, and the row's ELF address. */
  readonly #dwarfRows: Map<number, { fn: DwarfFunction; elfAddr: bigint }>;
  /** Rows with source frames: their SymbolInfo with `frames`, made when first asked for. */
  readonly #infos: RowInfos;
  #views: (Symbolized | null | undefined)[] | undefined;

  /** @internal symbolizeTable() builds tables; user code receives them. */
  constructor(
    resolved: ResolvedTable,
    cols: { symbol: Int32Array; offset: BigUint64Array; reason: Uint8Array; message: Uint32Array },
    symbols: SymbolColumns,
    messages: string[],
    elfAddr: Map<number, bigint | undefined>,
    lines: { chain: Int32Array; chains: FrameChains; dwarfRows: Map<number, { fn: DwarfFunction; elfAddr: bigint }> },
  ) {
    this.resolved = resolved;
    this.length = resolved.length;
    this.symbol = cols.symbol;
    this.symbolOffset = cols.offset;
    this.symbolReason = cols.reason;
    this.#message = cols.message;
    this.symbols = symbols;
    this.#messages = messages;
    this.#elfAddr = elfAddr;
    this.chain = lines.chain;
    this.chains = lines.chains;
    this.#dwarfRows = lines.dwarfRows;
    this.#infos = new RowInfos(symbols, cols.symbol, cols.offset, lines.chain, lines.chains);
  }

  /** Row `r`'s symbol reason (as {@link Symbolized.symbolReason}). */
  symbolReasonAt(r: number): SymbolReason | undefined {
    return SYMBOL_REASONS[this.symbolReason[r]];
  }

  /** Row `r`'s symbol message (as {@link Symbolized.symbolMessage}). */
  symbolMessageAt(r: number): string | undefined {
    const m = this.#message[r];
    return m === 0 ? undefined : this.#messages[m];
  }

  /** Row `r`'s symbol as a {@link SymbolInfo} (with its `frames` where DWARF has them), or undefined. */
  symbolAt(r: number): SymbolInfo | undefined {
    const d = this.#dwarfRows.size === 0 ? undefined : this.#dwarfRows.get(r);
    return this.#infos.at(r, d?.fn, d ? d.elfAddr : 0n);
  }

  /**
   * Row `r`'s source frames from DWARF, innermost first (as
   * {@link SymbolInfo.frames}), or undefined: none there, or option `lines`
   * was false.
   */
  framesAt(r: number): readonly SymbolFrame[] | undefined {
    const c = this.chain[r];
    return c < 0 ? undefined : this.chains.framesOf(c);
  }

  /**
   * Input position `i` as {@link ProcMaps.symbolize} gives it: a
   * {@link Symbolized}, or null where nothing is mapped; the same object
   * for every position of one row. A negative `i` counts from the end;
   * `undefined` out of range.
   */
  at(i: number): Symbolized | null | undefined {
    if (!Number.isInteger(i)) throw new TypeError(`input position must be an integer, got ${String(i)}`);
    const index = this.resolved.index;
    if (i < 0) i += index.length;
    if (i < 0 || i >= index.length) return undefined;
    return this.rowAt(index[i]);
  }

  /** Row `r` as a {@link Symbolized} (or null where nothing is mapped), made once. */
  rowAt(r: number): Symbolized | null {
    if (!Number.isInteger(r) || r < 0 || r >= this.length) throw new RangeError(`no row ${String(r)}`);
    if (!this.#views) {
      // Filled in order from empty: JavaScriptCore makes `new Array(n)` sparse from n = 100,000.
      const views: (Symbolized | null | undefined)[] = (this.#views = []);
      for (let k = 0; k < this.length; k++) views.push(undefined);
    }
    const known = this.#views[r];
    if (known !== undefined) return known;
    const res = this.resolved.rowAt(r);
    if (res === null) return this.#views[r] = null;
    return this.#views[r] = new SymbolizedResult(
      res.addr,
      res.vma,
      res.kind,
      res.name,
      res.buildId,
      res.fileOffset,
      this.#elfAddr.size !== 0 && this.#elfAddr.has(r) ? this.#elfAddr.get(r) : res.elfAddr,
      res.reason,
      res.reasonText,
      this.symbolAt(r),
      this.symbolReasonAt(r),
      this.symbolMessageAt(r),
    );
  }

  /** Every input position's result, in input order: what {@link ProcMaps.symbolize} returns. */
  toArray(): (Symbolized | null)[] {
    const out: (Symbolized | null)[] = [];
    const index = this.resolved.index;
    for (let i = 0; i < index.length; i++) out.push(this.rowAt(index[i]));
    return out;
  }

  /** JSON form: what `JSON.stringify(symbolize())` gives, the rows' objects in input order (null where nothing is mapped). */
  toJSON(): unknown[] {
    return this.toArray().map((r) => r && r.toJSON());
  }
}

/** Symbolizes a batch into columns; see ProcMaps.symbolizeTable. */
export function symbolizeTable(src: SymbolizeSources, addrs: unknown, opts: unknown): SymbolizedTable {
  const o = checkOptions(opts);
  const symbolizer = o.symbolizer ?? src.symbolizer();
  const located = src.locate(addrs, { strategy: o.strategy });
  const { batch, entryOf, finished } = located;
  const { sourceOf, end } = vmaSources(src, o, symbolizer);
  const n = batch.count;
  const symbol = new Int32Array(n).fill(-1);
  const offset = new BigUint64Array(n);
  const offsetWords = new Uint32Array(offset.buffer);
  const reason = new Uint8Array(n);
  const message = new Uint32Array(n);
  const messages: string[] = [""];
  const messageIds = new Map<string, number>();
  const elfAddr = new Map<number, bigint | undefined>();
  const numbering = new SymbolNumbering();
  // Rows of modules with DWARF, their ELF addresses and lines: their frames are added at the end. An
  // address is kept as a number where it is exact (the fast route's); the general route's bigints
  // (-1 in linedAddrs) are in linedWide, by their index there.
  const linedRows: number[] = [];
  const linedAddrs: number[] = [];
  const linedWide = new Map<number, bigint>();
  const linedOf: ModuleLines[] = [];
  const touched = new Set<ModuleSymbols>();
  let lines: ModuleLines | undefined;

  const unnamed = (r: number, why: SymbolReason | undefined, text: string | undefined) => {
    reason[r] = REASON_CODE.get(why)!;
    if (text === undefined) return;
    let m = messageIds.get(text);
    if (m === undefined) messageIds.set(text, m = messages.push(text) - 1);
    message[r] = m;
  };

  const { hi, lo } = batch;
  // Each VMA's source is set up once, when its first address comes (as in symbolize()).
  const perEntry: EntrySource[] = [];
  const lookups = lookupsPerEntry(entryOf, finished.length);
  let lastEntry = -1;
  let f: Finished | undefined;
  let known: EntrySource | undefined;
  for (let r = 0; r < n; r++) {
    const e = entryOf[r];
    if (e < 0) continue;
    if (e !== lastEntry) {
      lastEntry = e;
      f = finished[e];
      known = perEntry[e] ??= entrySource(sourceOf, f, () => lookups(e));
      lines = o.lines ? known.s.module?.lines ?? undefined : undefined;
      if (lines) touched.add(known.s.module!);
    }
    const { s, fast, miss } = known!;
    const h = hi[r];
    if (fast && h < TWO_52 / TWO_32) {
      const fo = h * TWO_32 + lo[r] + fast.deltaNum;
      if (!(fo >= fast.segStart && fo < fast.segEnd)) {
        // Page padding past the segment: a file offset, no ELF address.
        unnamed(r, "no-elf-address", REASON_TEXT["outside-load"]);
        continue;
      }
      const ea = fo + fast.shiftNum;
      if (lines) {
        linedRows.push(r);
        if (ea >= 0 && ea < TWO_53) linedAddrs.push(ea);
        else linedWide.set(linedAddrs.push(-1) - 1, toBigint(ea));
        linedOf.push(lines);
      }
      const t = fastTable(fast, ea);
      if (t < 0) {
        unnamed(r, miss!.reason, miss!.message);
        continue;
      }
      const raw = fast.tables[t].symbolOfPiece(fast.hints[t])!;
      symbol[r] = numbering.id(raw, fast.tables[t].source);
      if (!putOffset(offsetWords, r, ea - raw.at)) offset[r] = BigInt(ea) - raw.start;
      continue;
    }
    const g = generalLookup(resolvedAt(f!, batch.addrAt(r)), s, miss);
    if (s.elfAddr) elfAddr.set(r, g.elfAddr);
    if (lines && s.module && g.elfAddr !== undefined) {
      linedRows.push(r);
      linedWide.set(linedAddrs.push(-1) - 1, g.elfAddr);
      linedOf.push(lines);
    }
    if (g.raw) {
      symbol[r] = numbering.id(g.raw, g.source!);
      offset[r] = g.at - g.raw.start;
    } else unnamed(r, g.reason, g.message);
  }
  // What the JIT tables hold now counts in the symbolizer's cache (after a throw, at the next call).
  end();
  const symbols = numbering.columns(o.demangle);
  // Source frames, as symbolize() finds them: for the row's symbol, or DWARF's function where no table names it.
  const chain = new Int32Array(n).fill(-1);
  const builder = new ChainBuilder();
  const dwarfRows = new Map<number, { fn: DwarfFunction; elfAddr: bigint }>();
  for (let j = 0; j < linedRows.length; j++) {
    const r = linedRows[j];
    const k = symbol[r];
    const a = linedAddrs[j];
    const ea = a >= 0 ? a : linedWide.get(j)!;
    if (k >= 0) {
      chain[r] = linedOf[j].chain(ea, o.inlines, o.demangle, symbols.name[k], symbols.demangled[k], builder);
      continue;
    }
    // Only a row no table names needs its address as a bigint.
    const elfAddr = typeof ea === "bigint" ? ea : toBigint(ea);
    const fn = linedOf[j].functionAt(elfAddr);
    if (!fn) continue;
    chain[r] = linedOf[j].chain(ea, o.inlines, o.demangle, undefined, undefined, builder);
    dwarfRows.set(r, { fn, elfAddr });
    reason[r] = message[r] = 0;
  }
  for (const m of touched) account(symbolizer, m);
  // After the loop: the table renumbers the batch's VMA entries into address order.
  const resolved = new ResolvedTable(located);
  return new SymbolizedTable(resolved, { symbol, offset, reason, message }, symbols, messages, elfAddr, {
    chain,
    chains: builder.finish(),
    dwarfRows,
  });
}
