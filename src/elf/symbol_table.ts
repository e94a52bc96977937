/**
 * An ELF symbol table (elf/symbols.ts reads its entries), sorted for binary
 * search when lookups call for it. Until then each lookup scans the entries:
 * a process's first `symbolize()` of an address or two in libc then reads
 * its 10,000 symbols once instead of sorting them all with code the engine
 * has not compiled yet. A scan picks the entries that can name the address
 * (the sized symbols covering it, the last symbol starting at or below it,
 * the first starting above) and sorts just those by the same rules
 * (symbol_sort.ts), so both give the same symbol; the sorted table keeps
 * the symbols scans found, so each symbol stays one object.
 * @module
 */
import type { RawSymbol, SymbolSource, SymbolTable } from "../symbol.ts";
import { cString } from "./sections.ts";
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
  columns: Columns;
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
    const n = entries.columns.n;
    // Entries take 26 bytes each; a sorted table at most 52 (two pieces and a symbol).
    this.byteSize = entries.strtab.length + n * 52 + 256;
    // A scan needs every address and section end exact as doubles, and a table too small to run out
    // of the alias ranking's budget (which a scan, ranking a few names, would never run out of).
    const scannable = n * (NAME_SCAN_MAX + 1) < NAME_SCAN_BUDGET && entries.columns.maxHi < TWO_52 / TWO_32 &&
      entries.sectionEnds.every((e) => e < BigInt(TWO_52));
    this.#scansLeft = scannable ? SCAN_LOOKUPS : 0;
  }

  /** Symbols kept (one per address); before the table is sorted, its entries (as many or more, and as many as none). */
  get count(): number {
    return this.#entries ? this.#entries.columns.n : this.#symStart.length;
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
    const { columns: c, strtab, sectionEnds } = this.#entries!;
    const { hi, lo, size } = c;
    const n = c.n;
    // The last start at or below x, the first above it, the starts of the sized symbols covering x.
    let top = -1, above = Infinity, low = Infinity;
    const covering: number[] = [];
    for (let i = 0; i < n; i++) {
      const v = hi[i] * TWO_32 + lo[i];
      if (v > x) {
        if (v < above) above = v;
        continue;
      }
      if (v > top) top = v;
      if (v + size[i] > x) {
        if (covering.length === MAX_COVERING) return undefined;
        covering.push(v);
        if (v < low) low = v;
      }
    }
    if (top < 0) return -1;
    // Every entry at those addresses: the symbol at each is picked among its aliases, the first start
    // above bounds a zero-sized symbol at the last.
    const picked: number[] = [];
    for (let i = 0; i < n; i++) {
      const v = hi[i] * TWO_32 + lo[i];
      if (v === top || v === above || (v >= low && v < top && covering.includes(v))) {
        if (picked.length === MAX_PICKED) return undefined;
        picked.push(i);
      }
    }
    const s = buildTable(c.subset(picked), strtab, sectionEnds);
    const p = pieceAt(s.pieceStart, x - Number(s.base));
    const k = p < 0 ? -1 : s.pieceSym[p];
    if (k < 0) return -1;
    const i = picked[s.groups[k]];
    let h = this.#foundAt.get(i);
    if (h === undefined) {
      const name = cString(strtab, c.nameOff[i]);
      const at = hi[i] * TWO_32 + lo[i];
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
    const s: SortedSymbols = buildTable(e.columns, e.strtab, e.sectionEnds);
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
      if (k >= 0 && s.groups[k] === i) this.#named[k] = sym;
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
