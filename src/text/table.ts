/**
 * A parsed maps text as columns: one row per VMA, numbers in typed arrays,
 * names as byte ranges of the text decoded only when asked for, and the
 * lookups the backends need (binary search, forward scan, the kernel's
 * filter and covering-or-next rules).
 * @module
 */
import { FLAG } from "../request.ts";
import { decodeName, NameCache } from "../util/names.ts";
import { setRawName, Vma, VSYSCALL_START } from "../vma.ts";
import type { TableBuilder } from "../table/builder.ts";
import { firstEndAbove, HI, hiOf, LO, loOf, nativeLittleEndian } from "../util/bytes.ts";
import { Columns } from "../util/columns.ts";

const GATE_HI = hiOf(VSYSCALL_START), GATE_LO = loOf(VSYSCALL_START);

/** The query flags that filter VMAs (the rest say how to search). */
export const FILTER_FLAGS: number = FLAG.readable | FLAG.writable | FLAG.executable | FLAG.shared | FLAG.fileBacked;

const CH_NL = 0x0a;
const CH_BACKSLASH = 0x5c;

/**
 * The name cache of tables parsed without one (a backend's own text reads,
 * tests): shared, since making one per table costs more than a small parse.
 */
let sharedNames: NameCache | undefined;

/** A column of u64 values, stored as 32-bit word pairs (the parser writes words, not bigints). */
export class U64Column {
  words: Uint32Array;
  #big: BigUint64Array | undefined;
  #view: DataView | undefined;
  /** Over `words` (two per row, at an 8-byte-aligned offset of their buffer). */
  constructor(words: Uint32Array) {
    this.words = words;
  }
  /**
   * Row `i` as a bigint: 0n without allocating for a zero, else through a
   * DataView (in JavaScriptCore a BigUint64Array element costs twice as much).
   */
  get(i: number): bigint {
    const w = this.words;
    if (w[2 * i] === 0 && w[2 * i + 1] === 0) return 0n;
    // Made on first use: a parse that nobody reads a bigint of makes none.
    return (this.#view ??= new DataView(w.buffer, w.byteOffset, w.byteLength)).getBigUint64(8 * i, nativeLittleEndian);
  }
  /** The column as bigints (a view made on first use: parsing does not need it). */
  get big(): BigUint64Array {
    const w = this.words;
    return this.#big ??= new BigUint64Array(w.buffer, w.byteOffset, w.length >> 1);
  }
  /** Moves the column onto `words` (a larger capacity), keeping its rows. */
  moveTo(words: Uint32Array): void {
    words.set(this.words);
    this.words = words;
    this.#view = undefined;
    this.#big = undefined;
  }
  hi(i: number): number {
    return this.words[2 * i + HI];
  }
  lo(i: number): number {
    return this.words[2 * i + LO];
  }
}

/** A parsed maps text: one row per VMA, in file order. */
export class MapsTable {
  /** The text the rows point into (names are decoded from it on demand). */
  text: Uint8Array;
  /** Number of rows. */
  count = 0;
  /**
   * Walks and seekers still reading this table (its names are decoded from
   * the text on demand): the text backend reuses the text's buffer for a
   * later read only at 0.
   */
  readers = 0;
  /**
   * Rows sorted and disjoint, as a consistent read gives them (the parser
   * sets it; false when the text changed while it was read).
   */
  ordered = true;
  readonly start: U64Column;
  readonly end: U64Column;
  readonly offset: U64Column;
  readonly inode: U64Column;
  /** PERM bits, plus FLAG.fileBacked when the kernel shows a device or inode. */
  flags: Uint8Array;
  devMajor: Uint32Array;
  devMinor: Uint32Array;
  nameStart: Uint32Array;
  nameEnd: Uint32Array;
  /** Page size of rows not in `hugePageSizes` (the text does not show it). */
  readonly basePageSize: number;
  /** Rows of hugetlb memory and their page size (see huge_pages.ts). */
  readonly hugePageSizes = new Map<number, number>();

  constructor(text: Uint8Array, capacity: number, basePageSize: number, names?: NameCache) {
    this.text = text;
    this.#names = names;
    this.basePageSize = basePageSize;
    const c = new Columns(Math.max(capacity, 16), 4, 0, 4, 1);
    this.start = new U64Column(c.u64());
    this.end = new U64Column(c.u64());
    this.offset = new U64Column(c.u64());
    this.inode = new U64Column(c.u64());
    this.devMajor = c.u32();
    this.devMinor = c.u32();
    this.nameStart = c.u32();
    this.nameEnd = c.u32();
    this.flags = c.u8();
  }

  /**
   * Empties the table for a parse of `text`, keeping its columns: for a
   * table nothing reads any more (the text backend's spare), so that a
   * snapshot allocates none (a dozen typed arrays cost a small text about
   * a quarter of its parse).
   */
  reuse(text: Uint8Array): void {
    if (text !== this.text) this.text = text, this.#textView = undefined;
    this.count = 0;
    this.ordered = true;
    this.hugePageSizes.clear();
    this.#lastLossy = false;
  }

  /** Page size of row `i`. */
  pageSize(i: number): number {
    return this.hugePageSizes.size === 0 ? this.basePageSize : this.hugePageSizes.get(i) ?? this.basePageSize;
  }

  /** Capacity in rows. */
  get capacity(): number {
    return this.flags.length;
  }

  /** Doubles the capacity. */
  grow(): void {
    const c = new Columns(this.capacity * 2, 4, 0, 4, 1);
    for (const col of [this.start, this.end, this.offset, this.inode]) col.moveTo(c.u64());
    const moved = <T extends Uint8Array | Uint32Array>(from: T, to: T): T => (to.set(from), to);
    this.devMajor = moved(this.devMajor, c.u32());
    this.devMinor = moved(this.devMinor, c.u32());
    this.nameStart = moved(this.nameStart, c.u32());
    this.nameEnd = moved(this.nameEnd, c.u32());
    this.flags = moved(this.flags, c.u8());
  }

  /** Keeps only the rows listed (ascending), renumbered from 0. */
  compact(rows: readonly number[]): void {
    const huge = new Map(this.hugePageSizes);
    this.hugePageSizes.clear();
    rows.forEach((from, to) => {
      const size = huge.get(from);
      if (size !== undefined) this.hugePageSizes.set(to, size);
      for (const c of [this.start, this.end, this.offset, this.inode]) {
        c.words[2 * to] = c.words[2 * from];
        c.words[2 * to + 1] = c.words[2 * from + 1];
      }
      this.flags[to] = this.flags[from];
      this.devMajor[to] = this.devMajor[from];
      this.devMinor[to] = this.devMinor[from];
      this.nameStart[to] = this.nameStart[from];
      this.nameEnd[to] = this.nameEnd[from];
    });
    this.count = rows.length;
  }

  /** The name of row `i`, unescaped (`\012` -> newline) and decoded. */
  name(i: number): string {
    const s = this.nameStart[i];
    const e = this.nameEnd[i];
    if (e === s) return "";
    // A process maps few files in many VMAs: a name seen before costs a compare, not a decode.
    const hint = this.inode.lo(i);
    const names = this.#names ??= sharedNames ??= new NameCache();
    const text = this.text;
    const view = this.#textView ??= new DataView(text.buffer, text.byteOffset, text.byteLength);
    const name = names.getAt(text, view, s, e - s, hint) ??
      names.putAt(text, s, e - s, hint, this.#decodeName(s, e));
    // Not UTF-8 (or a real U+FFFD): vma() keeps the raw bytes for opening the file.
    this.#lastLossy = names.lastLossy;
    return name;
  }

  /** Where names are decoded through: the backend's (kept across snapshots), else one this module shares. */
  #names: NameCache | undefined;
  /** A DataView of the text, for comparing names a word at a time (made on first use per text). */
  #textView: DataView | undefined;
  /** The cache names are decoded through (set by the first name when none was given). */
  get names(): NameCache | undefined {
    return this.#names;
  }
  #lastLossy = false;

  #decodeName(s: number, e: number): string {
    const text = this.text;
    for (let p = s; p < e; p++) {
      if (text[p] === CH_BACKSLASH) {
        const bytes = unescapeName(text, s, e);
        return decodeName(bytes, 0, bytes.length);
      }
    }
    return decodeName(text, s, e);
  }

  /** Name bytes of row `i` as the kernel holds them (`\012` unescaped). */
  nameBytes(i: number): Uint8Array {
    return unescapeName(this.text, this.nameStart[i], this.nameEnd[i]);
  }

  /**
   * Index of the first row whose end lies above `addr` (split into 32-bit
   * halves), by binary search; `count` when there is none. Rows must be
   * sorted and disjoint, as a consistent snapshot is.
   */
  firstEndingAbove(addrHi: number, addrLo: number): number {
    return firstEndAbove(this.end.words, this.count, addrHi, addrLo);
  }

  /** True when row `i` starts at or below the address. */
  startsAtOrBelow(i: number, addrHi: number, addrLo: number): boolean {
    const sh = this.start.hi(i);
    return sh < addrHi || (sh === addrHi && this.start.lo(i) <= addrLo);
  }

  /** True when row `i` starts at or above the address. */
  startsAtOrAbove(i: number, addrHi: number, addrLo: number): boolean {
    const sh = this.start.hi(i);
    return sh > addrHi || (sh === addrHi && this.start.lo(i) >= addrLo);
  }

  /**
   * Whether the last row is the gate area (x86_64's `[vsyscall]`, at an
   * address no user mapping can have). The kernel prints it after every VMA
   * and only while the process still has its memory, so a text ending with
   * it is whole: the process outlived the read (see procfs/read.ts).
   */
  endsWithGate(): boolean {
    const last = this.count - 1;
    return last >= 0 && this.start.hi(last) === GATE_HI && this.start.lo(last) === GATE_LO;
  }

  /** Appends rows [from, to) to a table being built, column by column (native copies), names left to copyName(). */
  copyRows(from: number, to: number, b: TableBuilder): void {
    const n = to - from;
    const first = b.length;
    for (let k = 0; k < n; k++) b.row(); // reserves (and grows) the columns
    const words = (c: U64Column) => c.words.subarray(2 * from, 2 * to);
    b.startWords.set(words(this.start), 2 * first);
    b.endWords.set(words(this.end), 2 * first);
    b.offsetWords.set(words(this.offset), 2 * first);
    b.inodeWords.set(words(this.inode), 2 * first);
    b.devMajor.set(this.devMajor.subarray(from, to), first);
    b.devMinor.set(this.devMinor.subarray(from, to), first);
    const flags = b.flags, own = this.flags;
    for (let k = 0; k < n; k++) flags[first + k] = own[from + k] & 15;
    b.pageSize.fill(this.basePageSize, first, first + n);
    for (const [row, size] of this.hugePageSizes) if (row >= from && row < to) b.pageSize[first + row - from] = size;
  }

  /** Sets row `to` of a table being built to row `i`'s name. */
  copyName(i: number, b: TableBuilder, to: number): void {
    const name = this.name(i);
    b.setName(to, name, this.#lastLossy && this.nameEnd[i] > this.nameStart[i] ? this.nameBytes(i) : undefined);
  }

  /** Copies row `i` into row `to` of a table being built (words as they are, no bigints), name left to copyName(). */
  copyRow(i: number, b: TableBuilder, to: number): void {
    const i2 = 2 * i, t2 = 2 * to;
    let w = this.start.words;
    b.startWords[t2] = w[i2];
    b.startWords[t2 + 1] = w[i2 + 1];
    w = this.end.words;
    b.endWords[t2] = w[i2];
    b.endWords[t2 + 1] = w[i2 + 1];
    w = this.offset.words;
    b.offsetWords[t2] = w[i2];
    b.offsetWords[t2 + 1] = w[i2 + 1];
    w = this.inode.words;
    b.inodeWords[t2] = w[i2];
    b.inodeWords[t2 + 1] = w[i2 + 1];
    b.flags[to] = this.flags[i] & 15;
    b.devMajor[to] = this.devMajor[i];
    b.devMinor[to] = this.devMinor[i];
    b.pageSize[to] = this.pageSize(i);
  }

  /**
   * The row PROCMAP_QUERY would return for `addr` with these query flags
   * (same filter and covering-or-next rules as the kernel's
   * query_matching_vma), or -1 for ENOENT.
   */
  find(addr: bigint, kernelFlags: number): number {
    const addrHi = hiOf(addr);
    const addrLo = loOf(addr);
    const want = kernelFlags & FILTER_FLAGS;
    const next = (kernelFlags & FLAG.coveringOrNext) !== 0;
    for (let i = this.firstEndingAbove(addrHi, addrLo); i < this.count; i++) {
      if ((this.flags[i] & want) === want) {
        return next || this.startsAtOrBelow(i, addrHi, addrLo) ? i : -1;
      }
      if (!next) return -1;
    }
    return -1;
  }

  /** True when row `i` passes the filters in `kernelFlags`. */
  matches(i: number, kernelFlags: number): boolean {
    const want = kernelFlags & FILTER_FLAGS;
    return (this.flags[i] & want) === want;
  }

  /** Builds row `i` as a Vma. */
  vma(i: number, withName: boolean, buildId: string | undefined): Vma {
    const vma = new Vma(
      this.start.get(i),
      this.end.get(i),
      this.flags[i] & 15,
      this.offset.get(i),
      this.devMajor[i],
      this.devMinor[i],
      this.inode.get(i),
      this.pageSize(i),
      withName ? this.name(i) : undefined,
      buildId,
    );
    if (withName && this.#lastLossy && this.nameEnd[i] > this.nameStart[i]) setRawName(vma, this.nameBytes(i));
    return vma;
  }
}

/** Copy of text[s, e) with each `\012` turned back into a newline. */
function unescapeName(text: Uint8Array, s: number, e: number): Uint8Array {
  const out = new Uint8Array(e - s);
  let n = 0;
  for (let p = s; p < e; p++) {
    if (
      text[p] === CH_BACKSLASH && p + 3 < e && text[p + 1] === 0x30 && text[p + 2] === 0x31 &&
      text[p + 3] === 0x32
    ) {
      out[n++] = CH_NL;
      p += 3;
    } else {
      out[n++] = text[p];
    }
  }
  return out.subarray(0, n);
}
