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
import { decodeName, type NameCache } from "../util/names.ts";
import { ProcMapsError } from "../errors.ts";
import type { Pid } from "../options.ts";
import { PERM } from "../vma.ts";
import { FLAG } from "../request.ts";
import { HI, hiOf, LO, loOf, TWO_32 } from "../util/bytes.ts";
import { MapsTable } from "./table.ts";

const CH_NL = 0x0a;
const CH_SPACE = 0x20;
const CH_DASH = 0x2d;
const CH_COLON = 0x3a;
/** Four spaces as a 32-bit word (either byte order). */
const SPACES = 0x20202020;

/** Value of a hex digit byte, or -1. */
const HEX_VALUE = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX_VALUE[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX_VALUE[0x61 + i] = 10 + i;
  HEX_VALUE[0x41 + i] = 10 + i;
}

/**
 * Value of two hex digit bytes, the first in the low byte of the index (as
 * a little-endian load puts it), or -1 unless both are hex digits: address
 * fields are read four digits a step (two lookups per 32-bit load), then
 * two, then one. (A read past the end gives undefined, which `<<` and `|`
 * turn into a 0 byte, no digit.)
 */
const HEX_PAIR = new Int16Array(65536).fill(-1);
// Over the 22 digit bytes only: the table is made at import, where cold code runs slowly.
const HEX_DIGITS = [..."0123456789abcdefABCDEF"].map((c) => c.charCodeAt(0));
for (const a of HEX_DIGITS) for (const b of HEX_DIGITS) HEX_PAIR[a | (b << 8)] = HEX_VALUE[a] * 16 + HEX_VALUE[b];

/** "---p" as a little-endian word. */
const NO_PERMS = 0x702d2d2d;
/** For each PERM combination, its field as a word xor NO_PERMS ("r" ^ "-", "w" ^ "-", "x" ^ "-", "s" ^ "p"). */
const PERM_WORDS = Int32Array.from(
  { length: 16 },
  (_, f) =>
    (f & PERM.read ? 0x72 ^ 0x2d : 0) | (f & PERM.write ? (0x77 ^ 0x2d) << 8 : 0) |
    (f & PERM.exec ? (0x78 ^ 0x2d) << 16 : 0) | (f & PERM.shared ? (0x73 ^ 0x70) << 24 : 0),
);

/** Where parsing failed, for the error message. */
class LineError {
  constructor(readonly what: string, readonly lineStart: number) {}
}

/** The permission field at `p` byte by byte: its PERM bits, or the LineError saying what is wrong. */
function permsOrThrow(t: Uint8Array, p: number, lineStart: number): number {
  let f = 0;
  let c = t[p];
  if (c === 0x72) f = PERM.read;
  else if (c !== CH_DASH) throw new LineError("bad permissions", lineStart);
  c = t[p + 1];
  if (c === 0x77) f |= PERM.write;
  else if (c !== CH_DASH) throw new LineError("bad permissions", lineStart);
  c = t[p + 2];
  if (c === 0x78) f |= PERM.exec;
  else if (c !== CH_DASH) throw new LineError("bad permissions", lineStart);
  c = t[p + 3];
  if (c === 0x73) f |= PERM.shared;
  else if (c !== 0x70) throw new LineError("bad permissions", lineStart);
  if (t[p + 4] !== CH_SPACE) throw new LineError("expected ' ' after the permissions", lineStart);
  return f;
}

function lineText(text: Uint8Array, s: number, length: number): string {
  let e = s;
  while (e < length && text[e] !== CH_NL && e - s < 200) e++;
  const t = decodeName(text, s, e);
  return e - s >= 200 ? t + "..." : t;
}

/** Doubles hold integers exactly up to 2^53: 15 decimal digits. */
// (A 16-20 digit inode that is exact only as a bigint sets v imprecisely, but
// v !== 0 still tells whether it is zero, which is all v is used for then.)
const EXACT_DEC_DIGITS = 15;

/**
 * Stores the decimal digits text[s, e) as a u64 in row `i` of `words`
 * exactly, for an inode too long for a double (rare). Returns false above
 * 2^64 - 1.
 */
function storeLongDecimal(words: Uint32Array, i: number, text: Uint8Array, s: number, e: number): boolean {
  let big = 0n;
  for (let p = s; p < e; p++) big = big * 10n + BigInt(text[p] - 0x30);
  if (big >= 1n << 64n) return false;
  words[2 * i + HI] = hiOf(big);
  words[2 * i + LO] = loOf(big);
  return true;
}

/**
 * Parses `text[0, length)` into a table; `pageSize` is the base page size of its rows;
 * `names`, a cache the table decodes names through (a backend keeps one across snapshots);
 * `spare`, a table nothing reads any more, whose columns are reused when their size fits
 * (and its page size and name cache are these).
 * Throws ProcMapsError (code `EBADMSG`) naming the first malformed line and
 * its number; a final line without its newline counts as truncated.
 */
export function parseMaps(
  text: Uint8Array,
  length: number,
  pageSize: number,
  pid: Pid = "self",
  names?: NameCache,
  spare?: MapsTable,
): MapsTable {
  // Never read past the bytes given, whatever length says.
  length = Math.max(0, Math.min(Math.floor(length) || 0, text.length));
  // Kernel lines are at least 41 bytes: columns sized for 42 rarely grow for kernel text.
  const rows = Math.ceil(length / 42);
  let table: MapsTable;
  if (
    spare !== undefined && spare.capacity >= rows && spare.capacity <= 4 * Math.max(rows, 16) &&
    spare.basePageSize === pageSize && spare.names === names
  ) {
    table = spare;
    table.reuse(text);
  } else table = new MapsTable(text, rows, pageSize, names);
  // Reads past the end give undefined, which every digit test below rejects
  // (NaN-safe comparisons), so the loops need no bounds checks of their own.
  const t = length < text.length ? text.subarray(0, length) : text;
  let lineStart = 0;
  try {
    parseInto(table, t, length);
  } catch (e) {
    if (!(e instanceof LineError)) throw e;
    lineStart = e.lineStart;
    let line = 1;
    for (let p = 0; p < lineStart; p++) if (text[p] === CH_NL) line++;
    throw new ProcMapsError("EBADMSG", {
      pid,
      syscall: "parse",
      errno: 0,
      message: `malformed maps line ${line} (${e.what}): ${JSON.stringify(lineText(text, lineStart, length))}`,
    });
  }
  return table;
}

/**
 * The parsing loop. Hex fields are accumulated as 32-bit halves (exact to
 * 16 digits), the decimal inode as a double (exact to 15 digits; a longer
 * one is re-read exactly by storeLongDecimal). One function without try/catch inside, so the
 * engines keep it tight, and each hex field's loop is written out in place
 * (V8 did not inline a helper into a function this large: 10% more per
 * line on a text full of names). A digit read past the end gives
 * undefined, which stops a loop like any non-digit.
 */
function parseInto(table: MapsTable, t: Uint8Array, length: number): void {
  // The text as 32-bit words, for scanning names four bytes at a time (when aligned).
  const words = t.byteOffset % 4 === 0 ? new Uint32Array(t.buffer, t.byteOffset, length >>> 2) : undefined;
  let p = 0;
  let i = 0;
  // Columns in locals (reloaded after growing): property loads per field cost.
  let sw = table.start.words, ew = table.end.words, ow = table.offset.words, iw = table.inode.words;
  let flags = table.flags, devMajor = table.devMajor, devMinor = table.devMinor;
  let nameStart = table.nameStart, nameEnd = table.nameEnd;
  // Unaligned 32-bit loads for the hex fields, up to the last whole word.
  const dv = new DataView(t.buffer, t.byteOffset, length);
  const last4 = length - 4;
  let prevEndHi = 0, prevEndLo = 0, ordered = true;
  while (p < length) {
    const lineStart = p;
    if (i === flags.length) {
      table.grow();
      sw = table.start.words, ew = table.end.words, ow = table.offset.words, iw = table.inode.words;
      flags = table.flags, devMajor = table.devMajor, devMinor = table.devMinor;
      nameStart = table.nameStart, nameEnd = table.nameEnd;
    }
    let v = 0, c = 0, d = 0, s = p, h = 0, h2 = 0, h3 = 0, h4 = 0, h5 = 0, h6 = 0, w = 0, w1 = 0, w2 = 0;
    // fast: the field was read whole by the fast path for its usual width.
    let hi = 0, lo = 0, fast = false;

    // start-end. Hex fields accumulate as two 32-bit halves with integer
    // shifts (the halves the columns store), four digits a step: a double's
    // multiply-add chain costs several times more per digit. 16 digits at most.
    // The kernel's usual width first (12 digits for user space): with the
    // delimiter where it puts it, three words in straight-line code; any
    // other width or byte, the general loop from the start.
    if (t[p + 12] === CH_DASH) {
      w = dv.getUint32(p, true), w1 = dv.getUint32(p + 4, true), w2 = dv.getUint32(p + 8, true);
      h = HEX_PAIR[w & 0xffff], h2 = HEX_PAIR[w >>> 16], h3 = HEX_PAIR[w1 & 0xffff];
      h4 = HEX_PAIR[w1 >>> 16], h5 = HEX_PAIR[w2 & 0xffff], h6 = HEX_PAIR[w2 >>> 16];
      if ((h | h2 | h3 | h4 | h5 | h6) >= 0) {
        hi = (h << 8) | h2, lo = (h3 << 24) | (h4 << 16) | (h5 << 8) | h6, p += 12, fast = true;
      }
    }
    while (!fast && p <= last4) {
      w = dv.getUint32(p, true);
      h = HEX_PAIR[w & 0xffff];
      h2 = HEX_PAIR[w >>> 16];
      if ((h | h2) < 0) break;
      hi = (hi << 16) | (lo >>> 16);
      lo = (lo << 16) | (h << 8) | h2;
      p += 4;
    }
    if (!fast) {
      h = HEX_PAIR[t[p] | (t[p + 1] << 8)];
      if (h >= 0) hi = (hi << 8) | (lo >>> 24), lo = (lo << 8) | h, p += 2;
      h = HEX_VALUE[t[p]];
      if (h >= 0) hi = (hi << 4) | (lo >>> 28), lo = (lo << 4) | h, p++;
    }
    c = t[p];
    if (p === s || p - s > 16) throw new LineError("bad start address", lineStart);
    if (c !== CH_DASH) throw new LineError("expected '-' after the start address", lineStart);
    const startHi = hi >>> 0, startLo = lo >>> 0;
    sw[2 * i + HI] = startHi;
    sw[2 * i + LO] = startLo;
    p++;
    s = p;
    hi = 0, lo = 0;
    fast = false;
    if (t[p + 12] === CH_SPACE) {
      w = dv.getUint32(p, true), w1 = dv.getUint32(p + 4, true), w2 = dv.getUint32(p + 8, true);
      h = HEX_PAIR[w & 0xffff], h2 = HEX_PAIR[w >>> 16], h3 = HEX_PAIR[w1 & 0xffff];
      h4 = HEX_PAIR[w1 >>> 16], h5 = HEX_PAIR[w2 & 0xffff], h6 = HEX_PAIR[w2 >>> 16];
      if ((h | h2 | h3 | h4 | h5 | h6) >= 0) {
        hi = (h << 8) | h2, lo = (h3 << 24) | (h4 << 16) | (h5 << 8) | h6, p += 12, fast = true;
      }
    }
    while (!fast && p <= last4) {
      w = dv.getUint32(p, true);
      h = HEX_PAIR[w & 0xffff];
      h2 = HEX_PAIR[w >>> 16];
      if ((h | h2) < 0) break;
      hi = (hi << 16) | (lo >>> 16);
      lo = (lo << 16) | (h << 8) | h2;
      p += 4;
    }
    if (!fast) {
      h = HEX_PAIR[t[p] | (t[p + 1] << 8)];
      if (h >= 0) hi = (hi << 8) | (lo >>> 24), lo = (lo << 8) | h, p += 2;
      h = HEX_VALUE[t[p]];
      if (h >= 0) hi = (hi << 4) | (lo >>> 28), lo = (lo << 4) | h, p++;
    }
    c = t[p];
    if (p === s || p - s > 16) throw new LineError("bad end address", lineStart);
    if (c !== CH_SPACE) throw new LineError("expected ' ' after the end address", lineStart);
    hi >>>= 0, lo >>>= 0;
    if (!(hi > startHi || (hi === startHi && lo > startLo))) {
      throw new LineError("end address not above start", lineStart);
    }
    // A row starting below the previous one's end: the text changed while it was read.
    if (startHi < prevEndHi || (startHi === prevEndHi && startLo < prevEndLo)) ordered = false;
    prevEndHi = hi, prevEndLo = lo;
    ew[2 * i + HI] = hi;
    ew[2 * i + LO] = lo;
    p++;

    // perms: [r-][w-][x-][sp], read as one word: its difference from "---p"
    // gives the PERM bits, and only a valid field gives back that word.
    if (p + 5 > length) throw new LineError("truncated permissions", lineStart);
    w = dv.getUint32(p, true) ^ NO_PERMS;
    let f = (w & 1) | ((w >>> 8) & 2) | ((w >>> 14) & 4) | ((w >>> 21) & 8);
    if (PERM_WORDS[f] !== w || t[p + 4] !== CH_SPACE) f = permsOrThrow(t, p, lineStart);
    p += 5;

    // offset (the kernel's 8 digits below 2^32 in straight-line code)
    s = p;
    hi = 0, lo = 0;
    fast = false;
    if (t[p + 8] === CH_SPACE) {
      w = dv.getUint32(p, true), w1 = dv.getUint32(p + 4, true);
      h = HEX_PAIR[w & 0xffff], h2 = HEX_PAIR[w >>> 16], h3 = HEX_PAIR[w1 & 0xffff], h4 = HEX_PAIR[w1 >>> 16];
      if ((h | h2 | h3 | h4) >= 0) lo = (h << 24) | (h2 << 16) | (h3 << 8) | h4, p += 8, fast = true;
    }
    while (!fast && p <= last4) {
      w = dv.getUint32(p, true);
      h = HEX_PAIR[w & 0xffff];
      h2 = HEX_PAIR[w >>> 16];
      if ((h | h2) < 0) break;
      hi = (hi << 16) | (lo >>> 16);
      lo = (lo << 16) | (h << 8) | h2;
      p += 4;
    }
    if (!fast) {
      h = HEX_PAIR[t[p] | (t[p + 1] << 8)];
      if (h >= 0) hi = (hi << 8) | (lo >>> 24), lo = (lo << 8) | h, p += 2;
      h = HEX_VALUE[t[p]];
      if (h >= 0) hi = (hi << 4) | (lo >>> 28), lo = (lo << 4) | h, p++;
    }
    c = t[p];
    if (p === s || p - s > 16) throw new LineError("bad offset", lineStart);
    if (c !== CH_SPACE) throw new LineError("expected ' ' after the offset", lineStart);
    ow[2 * i + HI] = hi;
    ow[2 * i + LO] = lo;
    p++;

    // major:minor (hex, below 2^32 each; the kernel's two digits first)
    s = p;
    let major = t[p + 2] === CH_COLON ? HEX_PAIR[t[p] | (t[p + 1] << 8)] : -1;
    if (major >= 0) p += 2;
    else {
      major = 0;
      for (;;) {
        h = HEX_VALUE[t[p]];
        if (!(h >= 0)) break;
        major = major * 16 + h;
        p++;
      }
    }
    c = t[p];
    if (p === s || major >= TWO_32) throw new LineError("bad device major number", lineStart);
    if (c !== CH_COLON) throw new LineError("expected ':' in the device", lineStart);
    p++;
    s = p;
    let minor = t[p + 2] === CH_SPACE ? HEX_PAIR[t[p] | (t[p + 1] << 8)] : -1;
    if (minor >= 0) p += 2;
    else {
      minor = 0;
      for (;;) {
        h = HEX_VALUE[t[p]];
        if (!(h >= 0)) break;
        minor = minor * 16 + h;
        p++;
      }
    }
    c = t[p];
    if (p === s || minor >= TWO_32) throw new LineError("bad device minor number", lineStart);
    if (c !== CH_SPACE) throw new LineError("expected ' ' after the device", lineStart);
    p++;

    // inode (decimal, up to 2^64 - 1)
    v = 0, s = p;
    for (;;) {
      c = t[p];
      d = c - 0x30;
      if (!(d >= 0 && d <= 9)) break;
      v = v * 10 + d;
      p++;
    }
    if (p === s) throw new LineError("bad inode number", lineStart);
    if (p - s <= 9) {
      // Below 10^9, a small integer: no division (which cost a tenth of the parse).
      iw[2 * i + HI] = 0;
      iw[2 * i + LO] = v;
    } else if (p - s <= EXACT_DEC_DIGITS) {
      hi = Math.floor(v / TWO_32);
      iw[2 * i + HI] = hi;
      iw[2 * i + LO] = v - hi * TWO_32;
    } else if (p - s > 20 || !storeLongDecimal(iw, i, t, s, p)) {
      throw new LineError("inode number out of range", lineStart);
    }

    // name: after the padding, up to the newline; none on a bare line
    if (c === CH_SPACE) {
      p++;
      // The padding to the name's column: four spaces a step where aligned.
      if (words !== undefined) {
        while ((p & 3) !== 0 && t[p] === CH_SPACE) p++;
        while (words[p >>> 2] === SPACES) p += 4;
      }
      while (t[p] === CH_SPACE) p++;
    } else if (c !== CH_NL) {
      throw new LineError(
        c === undefined ? "line is truncated (no newline at its end)" : "unexpected character after the inode number",
        lineStart,
      );
    }
    s = p;
    if (c !== CH_NL && t[p] !== CH_NL) p = lineEnd(t, words, p, length);
    if (p >= length) throw new LineError("line is truncated (no newline at its end)", lineStart);
    nameStart[i] = s;
    nameEnd[i] = p;
    p++;

    // A device or inode means a file backs the VMA.
    if (major !== 0 || minor !== 0 || v !== 0) f |= FLAG.fileBacked;
    flags[i] = f;
    devMajor[i] = major;
    devMinor[i] = minor;
    i++;
  }
  table.count = i;
  table.ordered = ordered;
}

/**
 * Index of the first newline at or after `p` (`length` when none): a word
 * at a time where the text is 4-byte aligned, testing each word for a zero
 * byte after xor with "\n\n\n\n" (a native indexOf call costs more than it
 * saves on names of tens of bytes: measured 20-25% slower per parse).
 */
function lineEnd(t: Uint8Array, words: Uint32Array | undefined, p: number, length: number): number {
  if (words !== undefined) {
    while ((p & 3) !== 0) {
      if (p >= length || t[p] === CH_NL) return p;
      p++;
    }
    let w = p >>> 2;
    const n = words.length;
    while (w < n) {
      const x = words[w] ^ 0x0a0a0a0a;
      if (((x - 0x01010101) & ~x & 0x80808080) !== 0) break;
      w++;
    }
    p = w << 2;
  }
  while (p < length && t[p] !== CH_NL) p++;
  return p;
}
