/**
 * Parser for the text of `/proc/<pid>/maps`, working on bytes: no regular
 * expressions, no split strings, no per-line allocation. A parsed text is a
 * {@link MapsTable}: columns of numbers, with names decoded only when a VMA
 * is materialised.
 *
 * Line format (fs/proc/task_mmu.c, show_vma_header_prefix):
 * `start-end perms offset major:minor inode` then, when there is a name,
 * padding to column 73 and the name. Addresses and offset are hex of any
 * width, device numbers hex of two or more digits, the inode decimal. The
 * kernel escapes only a newline in a name (as `\012`); spaces, tabs and
 * backslashes are written verbatim and a name may end in spaces.
 * @module
 */
import { FLAG } from "./abi.ts";
import { decodeName } from "./decode.ts";
import { ProcMapsError, type Pid } from "./errors.ts";
import { PERM, Vma } from "./vma.ts";
import { nativeLittleEndian } from "../ffi/common.ts";

const TWO_32 = 4294967296;
// Word order of a u64 inside a Uint32Array that aliases a BigUint64Array.
const LO = nativeLittleEndian ? 0 : 1;
const HI = 1 - LO;

const CH_NL = 0x0a;
const CH_SPACE = 0x20;
const CH_DASH = 0x2d;
const CH_COLON = 0x3a;
const CH_BACKSLASH = 0x5c;

/** Value of a hex digit byte, or -1. */
const HEX_VALUE = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX_VALUE[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX_VALUE[0x61 + i] = 10 + i;
  HEX_VALUE[0x41 + i] = 10 + i;
}

/** A growable column of u64 values, readable as bigint without string steps. */
class U64Column {
  words: Uint32Array;
  big: BigUint64Array;
  constructor(capacity: number) {
    this.words = new Uint32Array(capacity * 2);
    this.big = new BigUint64Array(this.words.buffer);
  }
  grow(capacity: number): void {
    const words = new Uint32Array(capacity * 2);
    words.set(this.words);
    this.words = words;
    this.big = new BigUint64Array(words.buffer);
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
  readonly text: Uint8Array;
  /** Number of rows. */
  count = 0;
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
  /** Page size reported for every row (the text does not show it). */
  pageSize: Float64Array;

  constructor(text: Uint8Array, capacity: number) {
    this.text = text;
    capacity = Math.max(capacity, 16);
    this.start = new U64Column(capacity);
    this.end = new U64Column(capacity);
    this.offset = new U64Column(capacity);
    this.inode = new U64Column(capacity);
    this.flags = new Uint8Array(capacity);
    this.devMajor = new Uint32Array(capacity);
    this.devMinor = new Uint32Array(capacity);
    this.nameStart = new Uint32Array(capacity);
    this.nameEnd = new Uint32Array(capacity);
    this.pageSize = new Float64Array(capacity);
  }

  /** Capacity in rows. */
  get capacity(): number {
    return this.flags.length;
  }

  /** Doubles the capacity. */
  grow(): void {
    const cap = this.capacity * 2;
    for (const c of [this.start, this.end, this.offset, this.inode]) c.grow(cap);
    const grown = <T extends Uint8Array | Uint32Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(cap);
      b.set(a);
      return b;
    };
    this.flags = grown(this.flags);
    this.devMajor = grown(this.devMajor);
    this.devMinor = grown(this.devMinor);
    this.nameStart = grown(this.nameStart);
    this.nameEnd = grown(this.nameEnd);
    this.pageSize = grown(this.pageSize);
  }

  /** Keeps only the rows listed (ascending), renumbered from 0. */
  compact(rows: readonly number[]): void {
    rows.forEach((from, to) => {
      for (const c of [this.start, this.end, this.offset, this.inode]) {
        c.words[2 * to] = c.words[2 * from];
        c.words[2 * to + 1] = c.words[2 * from + 1];
      }
      this.flags[to] = this.flags[from];
      this.devMajor[to] = this.devMajor[from];
      this.devMinor[to] = this.devMinor[from];
      this.nameStart[to] = this.nameStart[from];
      this.nameEnd[to] = this.nameEnd[from];
      this.pageSize[to] = this.pageSize[from];
    });
    this.count = rows.length;
  }

  /** The name of row `i`, unescaped (`\012` -> newline) and decoded. */
  name(i: number): string {
    const s = this.nameStart[i];
    const e = this.nameEnd[i];
    const text = this.text;
    if (e === s) return "";
    // Consecutive VMAs of one file repeat its name: compare with the last one decoded.
    const ls = this.#lastNameStart, le = this.#lastNameEnd;
    if (le - ls === e - s) {
      let p = 0;
      while (p < e - s && text[s + p] === text[ls + p]) p++;
      if (p === e - s) return this.#lastName;
    }
    this.#lastNameStart = s;
    this.#lastNameEnd = e;
    return (this.#lastName = this.#decodeName(s, e));
  }

  #lastNameStart = 0;
  #lastNameEnd = 0;
  #lastName = "";

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
    let lo = 0;
    let hi = this.count;
    const ends = this.end.words;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const eh = ends[2 * mid + HI];
      const above = eh > addrHi || (eh === addrHi && ends[2 * mid + LO] > addrLo);
      if (above) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /**
   * From row `row` on, the first row whose end lies above the address
   * (`count` when none): a forward scan, for addresses taken in ascending
   * order.
   */
  advancePast(row: number, addrHi: number, addrLo: number): number {
    const ends = this.end.words;
    const n = this.count;
    while (row < n) {
      const eh = ends[2 * row + HI];
      if (eh > addrHi || (eh === addrHi && ends[2 * row + LO] > addrLo)) break;
      row++;
    }
    return row;
  }

  /** True when row `i` starts at or below the address. */
  startsAtOrBelow(i: number, addrHi: number, addrLo: number): boolean {
    const sh = this.start.hi(i);
    return sh < addrHi || (sh === addrHi && this.start.lo(i) <= addrLo);
  }

  /**
   * The row PROCMAP_QUERY would return for `addr` with these query flags
   * (same filter and covering-or-next rules as the kernel's
   * query_matching_vma), or -1 for ENOENT.
   */
  find(addr: bigint, kernelFlags: number): number {
    const addrHi = Number(addr >> 32n);
    const addrLo = Number(addr & 0xffffffffn);
    const want = kernelFlags & (FLAG.readable | FLAG.writable | FLAG.executable | FLAG.shared | FLAG.fileBacked);
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
    const want = kernelFlags & (FLAG.readable | FLAG.writable | FLAG.executable | FLAG.shared | FLAG.fileBacked);
    return (this.flags[i] & want) === want;
  }

  /** Builds row `i` as a Vma. */
  vma(i: number, withName: boolean, buildId: string | undefined): Vma {
    return new Vma(
      this.start.big[i],
      this.end.big[i],
      this.flags[i] & 15,
      this.offset.big[i],
      this.devMajor[i],
      this.devMinor[i],
      this.inode.big[i],
      this.pageSize[i],
      withName ? this.name(i) : undefined,
      buildId,
    );
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

/** Where parsing failed, for the error message. */
class LineError {
  constructor(readonly what: string) {}
}

function lineText(text: Uint8Array, s: number, length: number): string {
  let e = s;
  while (e < length && text[e] !== CH_NL && e - s < 200) e++;
  const t = decodeName(text, s, e);
  return e - s >= 200 ? t + "..." : t;
}

/**
 * Reads up to 16 hex digits at `p` into row `i` of `col` (as two 32-bit
 * halves, no bigint), then the separator; returns the position after it.
 */
function hexField(
  text: Uint8Array,
  p: number,
  length: number,
  col: U64Column,
  i: number,
  sep: number,
  bad: string,
  noSep: string,
): number {
  let hi = 0, lo = 0, digits = 0;
  for (; p < length; p++) {
    const d = HEX_VALUE[text[p]];
    if (d < 0) break;
    hi = ((hi << 4) | (lo >>> 28)) >>> 0;
    lo = ((lo << 4) | d) >>> 0;
    digits++;
  }
  if (digits === 0 || digits > 16) throw new LineError(bad);
  if (p >= length || text[p] !== sep) throw new LineError(noSep);
  col.words[2 * i + HI] = hi;
  col.words[2 * i + LO] = lo;
  return p + 1;
}

/** The value hexNumber() read last (a second return value, without allocating). */
let fieldValue = 0;

/** Reads a hex number below 2^32 at `p` into fieldValue, then the separator; returns the position after it. */
function hexNumber(text: Uint8Array, p: number, length: number, sep: number, bad: string, noSep: string): number {
  let v = 0, digits = 0;
  for (; p < length; p++) {
    const d = HEX_VALUE[text[p]];
    if (d < 0) break;
    v = v * 16 + d;
    digits++;
  }
  if (digits === 0 || v >= TWO_32) throw new LineError(bad);
  if (p >= length || text[p] !== sep) throw new LineError(noSep);
  fieldValue = v;
  return p + 1;
}

/**
 * Parses `text[0, length)` into a table. `pageSize` fills the page-size column.
 * Throws ProcMapsError (code `EBADMSG`) naming the first malformed line and
 * its number; a final line without its newline counts as truncated.
 */
export function parseMaps(text: Uint8Array, length: number, pageSize: number, pid: Pid = "self"): MapsTable {
  // Kernel lines are at least 42 bytes; size the columns once for typical texts.
  const table = new MapsTable(text, Math.ceil(length / 60));
  let p = 0;
  let line = 0;
  while (p < length) {
    line++;
    const lineStart = p;
    try {
      if (table.count === table.capacity) table.grow();
      const i = table.count;
      p = hexField(text, p, length, table.start, i, CH_DASH, "bad start address", "expected '-' after the start address");
      p = hexField(text, p, length, table.end, i, CH_SPACE, "bad end address", "expected ' ' after the end address");
      const sh = table.start.hi(i), eh = table.end.hi(i);
      if (eh < sh || (eh === sh && table.end.lo(i) <= table.start.lo(i))) {
        throw new LineError("end address not above start");
      }

      // perms: [r-][w-][x-][sp]
      if (p + 5 > length) throw new LineError("truncated permissions");
      let f = 0;
      let c = text[p];
      if (c === 0x72) f |= PERM.read;
      else if (c !== CH_DASH) throw new LineError("bad permissions");
      c = text[p + 1];
      if (c === 0x77) f |= PERM.write;
      else if (c !== CH_DASH) throw new LineError("bad permissions");
      c = text[p + 2];
      if (c === 0x78) f |= PERM.exec;
      else if (c !== CH_DASH) throw new LineError("bad permissions");
      c = text[p + 3];
      if (c === 0x73) f |= PERM.shared;
      else if (c !== 0x70) throw new LineError("bad permissions");
      if (text[p + 4] !== CH_SPACE) throw new LineError("expected ' ' after the permissions");
      p += 5;

      p = hexField(text, p, length, table.offset, i, CH_SPACE, "bad offset", "expected ' ' after the offset");
      // major:minor (hex, 32-bit each)
      p = hexNumber(text, p, length, CH_COLON, "bad device major number", "expected ':' in the device");
      const major = fieldValue;
      p = hexNumber(text, p, length, CH_SPACE, "bad device minor number", "expected ' ' after the device");
      const minor = fieldValue;

      // inode (decimal, up to 2^64 - 1), accumulated as two 32-bit halves
      let hi = 0, lo = 0, digits = 0, d = 0;
      for (; p < length; p++) {
        d = text[p] - 0x30;
        if (d < 0 || d > 9) break;
        const v = lo * 10 + d;
        lo = v % TWO_32;
        hi = hi * 10 + Math.floor(v / TWO_32);
        if (hi >= TWO_32) throw new LineError("inode number out of range");
        digits++;
      }
      if (digits === 0) throw new LineError("bad inode number");
      const iw = table.inode.words;
      iw[2 * i + HI] = hi;
      iw[2 * i + LO] = lo;

      // name: after the padding, up to the newline; none on a bare line
      let nameStart: number;
      if (p < length && text[p] === CH_SPACE) {
        p++;
        while (p < length && text[p] === CH_SPACE) p++;
        nameStart = p;
        while (p < length && text[p] !== CH_NL) p++;
      } else {
        nameStart = p;
      }
      if (p >= length) throw new LineError("line is truncated (no newline at its end)");
      if (text[p] !== CH_NL) throw new LineError("unexpected character after the inode number");
      table.nameStart[i] = nameStart;
      table.nameEnd[i] = p;
      p++;

      if (major !== 0 || minor !== 0 || hi !== 0 || lo !== 0) f |= FLAG.fileBacked;
      table.flags[i] = f;
      table.devMajor[i] = major;
      table.devMinor[i] = minor;
      table.pageSize[i] = pageSize;
      table.count++;
    } catch (e) {
      if (!(e instanceof LineError)) throw e;
      throw new ProcMapsError(
        "EBADMSG",
        0,
        pid,
        "parse",
        `malformed maps line ${line} (${e.what}): ${JSON.stringify(lineText(text, lineStart, length))}`,
      );
    }
  }
  return table;
}
