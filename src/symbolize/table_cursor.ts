/**
 * Naming ELF addresses from a module's symbol tables with numbers: each
 * table is searched forward from the previous address's piece (a sorted
 * batch's addresses come in order), and only the result's own bigints are
 * made. Shared by `symbolize()`'s fast route, `symbolizeTable()` and
 * `symbolizeFile()`.
 * @module
 */
import type { ElfSymbol, ElfSymbolTable } from "../elf/symbols.ts";
import { toBigint } from "../util/bytes.ts";
import { demangleName, isMangled } from "./demangle.ts";
import type { ModuleLines } from "./module_lines.ts";
import { FramedSymbolInfoResult, SymbolInfoResult } from "./result.ts";
import type { RawSymbol, SymbolFrame, SymbolInfo } from "./types.ts";

/** 2^32, and the bound below which addresses and offsets are handled as (exact) doubles. */
export const TWO_32 = 2 ** 32;
export const TWO_52 = 2 ** 52;

/**
 * The readable name of `raw`, computed once and kept on the symbol (with
 * whether the demangler's budget cut it): its name without a symbol version
 * (or `@plt`), demangled, then `@plt` again.
 */
export function demangledOf(raw: RawSymbol): string {
  const base = raw.base ?? raw.name;
  const suffix = raw.base === undefined ? "" : raw.suffix ?? "";
  if (!isMangled(base)) return raw.demangled = base + suffix;
  const d = demangleName(base);
  if (d.cut) raw.demangleCut = true;
  return raw.demangled = d.text + suffix;
}

/** `info` flagged as a name the demangler's budget cut (rare: only hostile or absurd names). */
export function flagCut(info: SymbolInfo): SymbolInfo {
  return infoWith(info, "budget", info.frames);
}

/**
 * A copy of `info` with its last fields, the demangler's reason and the
 * frames, set: a result (with toJSON()), as every SymbolInfo is.
 */
export function infoWith(
  info: SymbolInfo,
  demangleReason: "budget" | undefined,
  frames: readonly SymbolFrame[] | undefined,
): SymbolInfo {
  const { name, demangled, version, start, size, offset, source } = info;
  const out = frames === undefined
    ? new SymbolInfoResult(name, demangled, version, start, size, offset, source)
    : new FramedSymbolInfoResult(name, demangled, version, start, size, offset, source, frames);
  if (demangleReason !== undefined) (out as { demangleReason?: "budget" }).demangleReason = demangleReason;
  return out;
}

/** Small offsets as bigints, made once: most addresses lie less than this far into their function. */
const SMALL_OFFSETS = 8192;
let smallOffsets: (bigint | undefined)[] | undefined;

/** `elfAddr - raw.start`, shared when small (bigints are immutable, and allocating one per address shows in GC). */
function offsetBigint(ea: number, raw: ElfSymbol, elfAddr: bigint): bigint {
  const d = ea - raw.at;
  if (d >= 0 && d < SMALL_OFFSETS) {
    // Each made when first needed (making all 8192 at once took a first symbolize() a millisecond or two).
    smallOffsets ??= new Array<bigint | undefined>(SMALL_OFFSETS).fill(undefined);
    return smallOffsets[d | 0] ??= BigInt(d | 0);
  }
  return d >= 0 && d < TWO_52 ? toBigint(d) : elfAddr - raw.start;
}

/** A module's tables, with where the last lookup ended in each. */
export interface TableCursor {
  tables: readonly ElfSymbolTable[];
  /** Per table, the piece of the previous (lower) address: a sorted batch searches forward from it. */
  hints: Int32Array;
}

/** A cursor at the start of `tables`. */
export function tableCursor(tables: readonly ElfSymbolTable[]): TableCursor {
  return { tables, hints: new Int32Array(tables.length).fill(-1) };
}

/**
 * The table of `c` with a symbol at ELF address `ea` (a double below
 * 2^52), or -1: its symbol is `c.tables[t].symbolOfPiece(c.hints[t])`.
 * Fastest for ascending addresses; any order answers right.
 */
export function fastTable(c: TableCursor, ea: number): number {
  const { tables, hints } = c;
  for (let t = 0; t < tables.length; t++) {
    const p = hints[t] = tables[t].pieceOf(ea, hints[t]);
    if (tables[t].symbolOfPiece(p)) return t;
  }
  return -1;
}

/**
 * The symbol at ELF address `ea` (`elfAddr` as a bigint), or undefined;
 * with `lines`, with its source frames, or DWARF's function where no table
 * covers it. One object made per address.
 */
export function fastSymbol(
  c: TableCursor,
  ea: number,
  elfAddr: bigint,
  want: boolean,
  lines?: ModuleLines,
  inlines = true,
): SymbolInfo | undefined {
  const t = fastTable(c, ea);
  if (t < 0) return lines?.dwarfSymbol(elfAddr, want, inlines);
  const raw = c.tables[t].symbolOfPiece(c.hints[t])!;
  const demangled = want ? raw.demangled ?? demangledOf(raw) : raw.name;
  const offset = offsetBigint(ea, raw, elfAddr);
  const frames = lines?.frames(ea, inlines, want, raw.name, demangled);
  const symbol = frames === undefined
    ? new SymbolInfoResult(raw.name, demangled, raw.version, raw.start, raw.size, offset, c.tables[t].source)
    : new FramedSymbolInfoResult(
      raw.name,
      demangled,
      raw.version,
      raw.start,
      raw.size,
      offset,
      c.tables[t].source,
      frames,
    );
  return want && raw.demangleCut ? flagCut(symbol) : symbol;
}
