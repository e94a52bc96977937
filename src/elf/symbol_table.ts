/**
 * An ELF symbol table (elf/symbols.ts reads its entries), sorted for binary
 * search when lookups call for it. Until then each lookup scans the entries
 * as the file has them (symbol_entries.ts): a process's first `symbolize()`
 * of an address or two in libc then makes one light pass over its 10,000
 * entries instead of filtering and sorting them all with code the engine
 * has not compiled yet. A scan picks the entries that can name the address
 * (the sized symbols covering it, the last symbol starting at or below it,
 * the first starting above; the table's filter applied to those alone) and
 * sorts just those by the same rules (symbol_sort.ts), so both give the
 * same symbol; the sorted table keeps the symbols scans found, so each
 * symbol stays one object.
 * @module
 */
import type { RawSymbol, SymbolSource, SymbolTable } from "../symbol.ts";
import { cString } from "./sections.ts";
import { DROPPED, type RawEntries } from "./symbol_entries.ts";
import { buildTable, type Columns, NAME_SCAN_BUDGET, NAME_SCAN_MAX, type SortedSymbols } from "./symbol_sort.ts";

const TWO_53 = 2 ** 53;
const TWO_52 = 2 ** 52;
const TWO_32 = 2 ** 32;
/** Lookups a table answers by scanning before it sorts itself. */
const SCAN_LOOKUPS = 8;
/** Sized symbols covering one address past which a scan sorts the table instead (nesting that deep is hostile). */
const MAX_COVERING = 64;
/** Entries a scan picks past which it sorts the table instead (so many aliases are hostile). */
const MAX_PICKED = 1024;

/** A symbol of an ELF table. */
export interface ElfSymbol extends RawSymbol {
  /** `start` as a double (exact below 2^53), for arithmetic without bigints. */
  readonly at: number;
  readonly version: string | undefined;
  readonly base: string | undefined;
  readonly suffix: string | undefined;
}

const PLT_SUFFIX = "@plt";

/**
 * A symbol named `name`: its version and base name apart (`memcpy@GLIBC_2.2.5`,
 * `aio_fsync64@@GLIBC_2.34`), or, in a table of PLT stubs, its base name
 * before `@plt`.
 */
function elfSymbol(name: string, start: bigint, size: bigint, at: number, plt: boolean): ElfSymbol {
  let version: string | undefined, base: string | undefined, suffix: string | undefined;
  if (plt) {
    if (name.endsWith(PLT_SUFFIX)) {
      base = name.slice(0, -PLT_SUFFIX.length);
      suffix = PLT_SUFFIX;
    }
  } else {
    const sep = name.indexOf("@");
    if (sep > 0) {
      const v = name.slice(name[sep + 1] === "@" ? sep + 2 : sep + 1);
      if (v !== "" && !v.includes("@")) {
        version = v;
        base = name.slice(0, sep);
      }
    }
  }
  return { name, start, size, demangled: undefined, at, version, base, suffix };
}

/** What a table is made of: the entries it keeps, and what sizes its zero-sized symbols. */
export interface SymbolEntries {
  /** The entries kept (a table made entry by entry, such as the PLT stubs'): sorted at its first lookup. */
  columns?: Columns;
  /** Or the table's entries as the file has them, scanned for the first lookups and filtered when sorted. */
  raw?: RawEntries;
  strtab: Uint8Array;
  /** End address of each section (by index; -1 when not loaded), which bounds a zero-sized symbol. */
  sectionEnds: readonly bigint[];
  /** The names are PLT stubs' (`name@plt`). */
  plt: boolean;
}

/**
 * A symbol table: addresses relative to `base` as doubles (exact below
 * 2^53), a piece list for lookups (each piece names the symbol that covers
 * its range, or none), names decoded on first use; scanned until sorted.
 */
export class ElfSymbolTable implements SymbolTable {
  readonly source: SymbolSource;
  /** Approximate memory held, for cache accounting (the entries until sorted, then the sorted table). */
  readonly byteSize: number;
  readonly #strtab: Uint8Array;
  readonly #plt: boolean;
  /** The entries, until the table is sorted. */
  #entries: SymbolEntries | undefined;
  /** Lookups left to answer by scanning (0: sort at the next). */
  #scansLeft: number;
  /** Symbols found by scans: handles -2, -3, ... ({@link pieceOf}) index it. */
  #found: ElfSymbol[] = [];
  /** Per entry a scan found, its handle in `#found` (-1: the entry has no usable name). */
  #foundAt = new Map<number, number>();
  #base = 0n;
  #baseNumber = NaN;
  #pieceStart: Float64Array = new Float64Array(0);
  #pieceSym: Int32Array = new Int32Array(0);
  #symStart: Float64Array = new Float64Array(0);
  #symSize: Float64Array = new Float64Array(0);
  #symName: Uint32Array = new Uint32Array(0);
  #named: (ElfSymbol | null | undefined)[] = [];

  /** @internal Made by readSymbolTable (symbols.ts) and readPltTable (plt.ts). */
  constructor(source: SymbolSource, entries: SymbolEntries) {
    this.source = source;
    this.#strtab = entries.strtab;
    this.#plt = entries.plt;
    this.#entries = entries;
    const n = entryCount(entries);
    // Entries take 24 or 26 bytes each; a sorted table at most 52 (two pieces and a symbol).
    this.byteSize = entries.strtab.length + n * 52 + 256;
    // A scan needs the addresses it compares and every section end exact as doubles (a scan gives up on a
    // candidate past 2^52), and a table too small to run out of the alias ranking's budget (which a scan,
    // ranking a few names, would never run out of).
    const scannable = entries.raw !== undefined && n * (NAME_SCAN_MAX + 1) < NAME_SCAN_BUDGET &&
      entries.sectionEnds.every((e) => e < BigInt(TWO_52));
    this.#scansLeft = scannable ? SCAN_LOOKUPS : 0;
  }

  /** Symbols kept (one per address); before the table is sorted, its entries (as many or more, and as many as none). */
  get count(): number {
    return this.#entries ? entryCount(this.#entries) : this.#symStart.length;
  }

  /** @internal `n()` lookups are coming: when scans would not answer them all, the table sorts itself now. */
  expectLookups(n: () => number): void {
    if (this.#entries && n() > this.#scansLeft) this.#sort();
  }

  /** The symbol covering `addr` (an ELF address), or undefined. */
  find(addr: bigint): RawSymbol | undefined {
    const a = Number(addr);
    if (this.#entries && !(a < TWO_52 && this.#scansLeft > 0)) this.#sort();
    if (a < TWO_52 && (this.#entries || this.#baseNumber === this.#baseNumber)) {
      return this.symbolOfPiece(this.pieceOf(a, -1));
    }
    const d = addr - this.#base;
    if (d < 0n || d >= BigInt(TWO_53)) return undefined;
    return this.#symbolOfRelative(Number(d));
  }

  /**
   * @internal The piece covering ELF address `a`, a double below 2^52 (so
   * exact), or -1: searched forward from `hint` (the answer for a lower
   * address, or -1), as sorted batches ask, else by binary search. Before
   * the table is sorted, a handle (-2 or less) on the symbol a scan found.
   */
  pieceOf(a: number, hint: number): number {
    if (this.#entries) {
      if (this.#scansLeft > 0) {
        const h = this.#scan(a);
        if (h !== undefined) return h;
      }
      this.#sort();
    }
    const x = a - this.#baseNumber;
    if (!(x >= 0)) return -1; // below the base, or a base past 2^53 (NaN)
    const starts = this.#pieceStart;
    const n = starts.length;
    let lo: number, hi: number;
    if (hint >= 0 && hint < n && starts[hint] <= x) {
      // Galloping: the next address is usually in the same piece or one close after.
      lo = hint;
      let step = 1;
      hi = hint + 1;
      while (hi < n && starts[hi] <= x) {
        lo = hi;
        step += step;
        hi = lo + step;
      }
      if (hi >= n) hi = n;
      hi--; // starts[hi + 1] > x (or hi + 1 == n)
    } else {
      if (n === 0 || !(x >= starts[0])) return -1;
      lo = 0;
      hi = n - 1;
    }
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid] <= x) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** @internal The symbol of piece `p` ({@link pieceOf}), or undefined for none (or -1). */
  symbolOfPiece(p: number): ElfSymbol | undefined {
    if (p < 0) return p < -1 ? this.#found[-2 - p] : undefined;
    const k = this.#pieceSym[p];
    return k < 0 ? undefined : this.#symbol(k) ?? undefined;
  }

  /** Every kept symbol, in address order (for tests and tools). */
  *symbols(): IterableIterator<RawSymbol> {
    if (this.#entries) this.#sort();
    for (let k = 0; k < this.#symStart.length; k++) {
      const s = this.#symbol(k);
      if (s) yield s;
    }
  }

  /**
   * The symbol at `x` (a double, exact) found by scanning the entries: -1
   * for none, else its handle; undefined when the scan gives up (the table
   * is then sorted).
   */
  #scan(x: number): number | undefined {
    this.#scansLeft--;
    const { raw, strtab, sectionEnds } = this.#entries!;
    const r = raw!, w = r.words, end = 6 * r.count;
    // The last start at or below x and the entries there, the first start above it and the entries
    // there, the starts of the sized symbols covering x. Only entries that would change one of them are
    // checked against the table's filter; values and sizes whose high words are zero (most tables) are
    // taken as they are, so the interpreter running this the first time makes no heap number per entry.
    let top = -1, above = Infinity, low = Infinity;
    let atTop: number[] = [], atAbove: number[] = [];
    const covering: number[] = [];
    for (let q = 6; q < end; q += 6) {
      const h = w[q + 3];
      const v = h === 0 ? w[q + 2] : h * TWO_32 + w[q + 2];
      if (v > x) {
        if (v > above || r.kept(q / 6) === DROPPED) continue;
        if (h >= TWO_52 / TWO_32) return undefined; // not exact as a double: the sorted table answers
        if (v < above) {
          above = v;
          atAbove = [];
        }
        if (atAbove.length === MAX_PICKED) return undefined;
        atAbove.push(q / 6);
        continue;
      }
      const sh = w[q + 5];
      const size = sh === 0 ? w[q + 4] : sh * TWO_32 + w[q + 4];
      if ((v < top && v + size <= x) || r.kept(q / 6) === DROPPED) continue;
      if (v >= top) {
        if (v > top) {
          top = v;
          atTop = [];
        }
        if (atTop.length === MAX_PICKED) return undefined;
        atTop.push(q / 6);
      }
      if (v + size > x) {
        if (covering.length === MAX_COVERING) return undefined;
        covering.push(v);
        if (v < low) low = v;
      }
    }
    if (top < 0) return -1;
    // Every entry kept at those addresses, in table order: the symbol at each is picked among its aliases,
    // the first start above bounds a zero-sized symbol at the last. Symbols nested in the one at `top`
    // (covering x from below it) take a second pass for the aliases at their starts.
    const picked = atTop.concat(atAbove);
    if (low < top) {
      for (let q = 6; q < end; q += 6) {
        const h = w[q + 3];
        const v = h === 0 ? w[q + 2] : h * TWO_32 + w[q + 2];
        if (v >= low && v < top && covering.includes(v) && r.kept(q / 6) !== DROPPED) {
          if (picked.length === 2 * MAX_PICKED) return undefined;
          picked.push(q / 6);
        }
      }
    }
    if (picked.length > MAX_PICKED) return undefined;
    picked.sort((a, b) => a - b);
    const s = buildTable(r.subset(picked), strtab, sectionEnds);
    const p = pieceAt(s.pieceStart, x - Number(s.base));
    const k = p < 0 ? -1 : s.pieceSym[p];
    if (k < 0) return -1;
    const i = picked[s.groups[k]];
    let h = this.#foundAt.get(i);
    if (h === undefined) {
      const name = cString(strtab, w[6 * i]);
      const at = w[6 * i + 3] * TWO_32 + w[6 * i + 2];
      h = name === undefined || name === "" ? -1 : this.#found.push(
        elfSymbol(name, BigInt(at), BigInt(s.symSize[k]), at, this.#plt),
      ) - 1;
      this.#foundAt.set(i, h);
    }
    return h < 0 ? -1 : -2 - h;
  }

  /** Sorts the table (see symbol_sort.ts); symbols scans found keep their objects. */
  #sort(): void {
    const e = this.#entries!;
    // A table read from a file is filtered now; `from` gives each column's entry, as scans know them.
    const { columns, from } = e.raw ? e.raw.columns() : { columns: e.columns!, from: undefined };
    const s: SortedSymbols = buildTable(columns, e.strtab, e.sectionEnds);
    this.#entries = undefined;
    this.#scansLeft = 0;
    this.#base = s.base;
    this.#baseNumber = s.base < BigInt(TWO_53) ? Number(s.base) : NaN;
    this.#pieceStart = s.pieceStart;
    this.#pieceSym = s.pieceSym;
    this.#symStart = s.symStart;
    this.#symSize = s.symSize;
    this.#symName = s.symName;
    // Filled (JavaScriptCore makes \`new Array(n)\` sparse, and slow, from n = 100,000).
    this.#named = Array.from({ length: s.symStart.length }, () => undefined);
    for (const [i, h] of this.#foundAt) {
      if (h < 0) continue;
      const sym = this.#found[h];
      const k = startIndex(s.symStart, sym.at - this.#baseNumber);
      if (k >= 0 && from && from[s.groups[k]] === i) this.#named[k] = sym;
    }
    this.#foundAt.clear();
  }

  #symbolOfRelative(x: number): RawSymbol | undefined {
    return this.symbolOfPiece(pieceAt(this.#pieceStart, x));
  }

  #symbol(k: number): ElfSymbol | null {
    let s = this.#named[k];
    if (s === undefined) {
      const name = cString(this.#strtab, this.#symName[k]);
      s = name === undefined || name === "" ? null : elfSymbol(
        name,
        this.#base + BigInt(this.#symStart[k]),
        BigInt(this.#symSize[k]),
        this.#baseNumber + this.#symStart[k],
        this.#plt,
      );
      this.#named[k] = s;
    }
    return s;
  }
}

/** Entries of a table before it is sorted (for a file's table, the null entry left out). */
function entryCount(e: SymbolEntries): number {
  return e.raw ? e.raw.count - 1 : e.columns!.n;
}

/** The last of ascending `starts` at or below `x`, or -1. */
function pieceAt(starts: Float64Array, x: number): number {
  if (starts.length === 0 || !(x >= starts[0])) return -1;
  let lo = 0, hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (starts[mid] <= x) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The index of `x` in ascending `starts`, or -1. */
function startIndex(starts: Float64Array, x: number): number {
  const k = pieceAt(starts, x);
  return k >= 0 && starts[k] === x ? k : -1;
}
