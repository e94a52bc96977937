/**
 * A symbol table's entries as the file has them (elf/symbols.ts reads them;
 * which entries a table keeps is said there), filtered into
 * {@link Columns} only when the table is sorted. Until then a lookup scans
 * the entries' values and applies the filter only to the few that could
 * name its address ({@link RawEntries.kept}): a process's first symbolize()
 * of an address in libc then makes one light pass over its 10,000 entries
 * instead of filtering them all, with code the engine has not compiled yet.
 * @module
 */
import { Columns } from "./symbol_sort.ts";

const STT_OBJECT = 1;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
const STB_LOCAL = 0;
const STB_GLOBAL = 1;
const STB_WEAK = 2;
const STB_GNU_UNIQUE = 10;
const SHN_UNDEF = 0;
const SHN_LORESERVE = 0xff00;
const SHN_XINDEX = 0xffff;
const TWO_32 = 2 ** 32;
/** What {@link RawEntries.kept} says of an entry the table does not keep. */
export const DROPPED = -2;

/** The sections' load bounds a symbol's value is checked against (by section index). */
export interface SectionBounds {
  /** Start and end addresses (end -1n: not loaded). */
  starts: readonly bigint[];
  ends: readonly bigint[];
  /** The same as doubles where exact (NaN where not; end -1: not loaded). */
  startsNum: readonly number[];
  endsNum: readonly number[];
}

/**
 * Entries of a symbol table as ELF64 little-endian words (six per entry,
 * see symbols.ts' entryWords), entry 0 (the null symbol) included.
 */
export class RawEntries {
  /** Entries in the table, the null entry included. */
  readonly count: number;
  readonly #w: Uint32Array;
  readonly #lastNul: number;
  readonly #s: SectionBounds;

  constructor(words: Uint32Array, strtab: Uint8Array, sections: SectionBounds) {
    this.#w = words;
    this.count = Math.floor(words.length / 6);
    this.#lastNul = strtab.lastIndexOf(0);
    this.#s = sections;
  }

  /** The words (six per entry): scans read values and sizes from them. */
  get words(): Uint32Array {
    return this.#w;
  }

  /**
   * Whether the table keeps entry `i` (0 < i < count): {@link DROPPED} if
   * not, else the index of the section that bounds it, or -1 (a sized
   * symbol whose section is not known). The same rules as
   * {@link columns}'s loop, one entry at a time.
   */
  kept(i: number): number {
    const w = this.#w, q = 6 * i;
    const word = w[q + 1];
    const type = word & 0xf;
    const size = w[q + 4], sizeHi = w[q + 5];
    const sized = size !== 0 || sizeHi !== 0;
    if (type !== STT_FUNC && type !== STT_GNU_IFUNC && !(type === STT_OBJECT && sized)) return DROPPED;
    const shndx = word >>> 16;
    if (shndx === SHN_UNDEF || (shndx >= SHN_LORESERVE && shndx !== SHN_XINDEX)) return DROPPED;
    const name = w[q];
    if (name === 0 || name > this.#lastNul) return DROPPED;
    if (sizeHi >= 1 << 21) return DROPPED;
    const hi = w[q + 3], lo = w[q + 2];
    const s = this.#s;
    let section = -1;
    if (shndx !== SHN_XINDEX && shndx < s.endsNum.length) {
      const start = s.startsNum[shndx], end = s.endsNum[shndx];
      if (end === -1) return DROPPED;
      if (hi < 1 << 21 && start === start && end === end) {
        const value = hi * TWO_32 + lo;
        if (value >= start && value < end) section = shndx;
      } else {
        const value = (BigInt(hi) << 32n) | BigInt(lo);
        if (value >= s.starts[shndx] && value < s.ends[shndx]) section = shndx;
      }
    }
    return !sized && section < 0 ? DROPPED : section;
  }

  /** Whether the table keeps any entry. */
  anyKept(): boolean {
    for (let i = 1; i < this.count; i++) if (this.kept(i) !== DROPPED) return true;
    return false;
  }

  /** Entries `picked` (kept ones, ascending), as columns of their own. */
  subset(picked: readonly number[]): Columns {
    const c = new Columns(picked.length);
    for (const i of picked) this.#push(c, i, this.kept(i));
    return c;
  }

  #push(c: Columns, i: number, section: number): void {
    const w = this.#w, q = 6 * i;
    const word = w[q + 1];
    const bind = (word >>> 4) & 0xf;
    c.push(
      w[q + 3],
      w[q + 2],
      w[q + 5] * TWO_32 + w[q + 4],
      bind === STB_GLOBAL || bind === STB_GNU_UNIQUE ? 2 : bind === STB_WEAK ? 1 : bind === STB_LOCAL ? 0 : -1,
      (word & 0xf) === STT_OBJECT ? 0 : 1,
      w[q],
      section,
    );
  }

  /**
   * Every entry kept, as columns, with per column the entry it came from
   * (`from`). One pass, no call per entry: a first symbolize() of a large
   * batch runs it before the engine has compiled it.
   */
  columns(): { columns: Columns; from: Uint32Array } {
    const w = this.#w, count = this.count, lastNul = this.#lastNul;
    const { starts: secStarts, ends: secEnds, startsNum: secStartsNum, endsNum: secEndsNum } = this.#s;
    const nsec = secEndsNum.length;
    const c = new Columns(count);
    const from = new Uint32Array(count);
    const { hi: his, lo: los, size: sizes, bind: binds, func: funcs, nameOff, sectionEnd } = c;
    let n = 0, maxHi = 0;
    for (let i = 1; i < count; i++) {
      const q = 6 * i;
      const word = w[q + 1];
      const type = word & 0xf;
      const size = w[q + 4], sizeHi = w[q + 5];
      const sized = size !== 0 || sizeHi !== 0;
      if (type !== STT_FUNC && type !== STT_GNU_IFUNC && !(type === STT_OBJECT && sized)) continue;
      const shndx = word >>> 16;
      if (shndx === SHN_UNDEF || (shndx >= SHN_LORESERVE && shndx !== SHN_XINDEX)) continue;
      const name = w[q];
      if (name === 0 || name > lastNul) continue; // no name, or one that runs off the table
      if (sizeHi >= 1 << 21) continue; // 2^53 bytes or more: not a real size
      const hi = w[q + 3], lo = w[q + 2];
      let section = -1;
      if (shndx !== SHN_XINDEX && shndx < nsec) {
        const start = secStartsNum[shndx], end = secEndsNum[shndx];
        // Symbols of sections not loaded into memory (.gnu.warning.*, ...) name no address.
        if (end === -1) continue;
        if (hi < 1 << 21 && start === start && end === end) {
          const value = hi * TWO_32 + lo;
          if (value >= start && value < end) section = shndx;
        } else {
          const value = (BigInt(hi) << 32n) | BigInt(lo);
          if (value >= secStarts[shndx] && value < secEnds[shndx]) section = shndx;
        }
      }
      if (!sized && section < 0) continue; // no way to bound it
      const bind = (word >>> 4) & 0xf;
      his[n] = hi;
      los[n] = lo;
      if (hi > maxHi) maxHi = hi;
      sizes[n] = sizeHi * TWO_32 + size;
      binds[n] = bind === STB_GLOBAL || bind === STB_GNU_UNIQUE
        ? 2
        : bind === STB_WEAK
        ? 1
        : bind === STB_LOCAL
        ? 0
        : -1;
      funcs[n] = type === STT_OBJECT ? 0 : 1;
      nameOff[n] = name;
      sectionEnd[n] = section;
      from[n] = i;
      n++;
    }
    c.n = n;
    c.maxHi = maxHi;
    return { columns: c, from };
  }
}
