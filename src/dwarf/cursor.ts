/**
 * Reading DWARF's encodings from bytes: fixed-size integers, LEB128,
 * strings, and addresses as doubles.
 *
 * Addresses: a u64 becomes a number, exact below 2^53 and, for the top of
 * the space (kernel addresses, tombstones), within 2^53 of 2^64 as a
 * negative number (the u64 seen as signed); anything between is NaN, which
 * every range check rejects. Offsets and sizes are numbers too: a value
 * past 2^53 lies beyond every section, so bounds checks catch it.
 *
 * Bounds: reads inside a section never throw for being past a unit's end;
 * the callers check the position against the end at each entry boundary
 * (a read past the section's end throws a RangeError from DataView, or
 * gives undefined from the byte array, which reads as 0). {@link DwarfError}
 * is what the reader throws for data it cannot use; the lookup turns it
 * into a reason.
 * @module
 */

/** Broken or unusable DWARF; `message` says which section and offset. */
export class DwarfError extends Error {
  /** `"malformed"` for broken data, `"too-large"` past a bound. */
  readonly kind: "malformed" | "too-large";
  constructor(message: string, kind: "malformed" | "too-large" = "malformed") {
    super(message);
    this.name = "DwarfError";
    this.kind = kind;
  }
}

const TWO_32 = 4294967296;
const HI_SAFE = 0x200000; // 2^53 / 2^32
const HI_NEG = 0xffe00000; // (2^64 - 2^53) / 2^32

/** A u64 given as halves, as the reader's address number (see the module doc). */
export function addrOf(hi: number, lo: number): number {
  if (hi < HI_SAFE) return hi * TWO_32 + lo;
  if (hi >= HI_NEG) return (hi - TWO_32) * TWO_32 + lo;
  return NaN;
}

const B53 = 1n << 53n;
const B64 = 1n << 64n;
const B64_53 = B64 - B53;

/** A bigint address as the reader's address number; NaN when it has none. */
export function addrFromBigint(a: bigint): number {
  if (a >= 0n && a < B53) return Number(a);
  if (a >= B64_53 && a < B64) return Number(a - B64);
  return NaN;
}

/** The reader's address number as the bigint it stands for. */
export function addrToBigint(a: number): bigint {
  return a < 0 ? BigInt(a) + B64 : BigInt(a);
}

/** `a + d` in the address space of `size`-byte addresses (wrapping), as gimli's wrapping_add_sized. */
export function addrAdd(a: number, d: number, size: number): number {
  const r = a + d;
  if (size === 4) return r >= TWO_32 ? r - TWO_32 : r;
  // A wrap past 2^64 is a positive result from a negative start: the signed view already holds it.
  return r;
}

/** Whether `a` is a DWARF tombstone for `size`-byte addresses (-1 or -2: the address of discarded code). */
export function isTombstone(a: number, size: number): boolean {
  return size === 8 ? (a === -1 || a === -2) : size === 4 ? a >= 0xfffffffe : a >= 2 ** (size * 8) - 2;
}

/** `a < b` for the u64 values two address numbers stand for (negative numbers are the top of the space). */
export function unsignedLess(a: number, b: number): boolean {
  return (a < 0) === (b < 0) ? a < b : a >= 0;
}

/** Whether `[begin, end)` is a usable, non-empty range (no NaN, no wrap past the top). */
export function goodRange(begin: number, end: number): boolean {
  return begin < end && !(begin < 0 && end > 0);
}

const decoder = new TextDecoder();

/** Where the last {@link uleb} ended. */
export let lebEnd = 0;

/**
 * The unsigned LEB128 at `p` of `b` (its end in {@link lebEnd}), for hot
 * loops that keep their position in a local. Past 2^53 inexact (large);
 * one running off the array throws.
 */
export function uleb(b: Uint8Array, p: number): number {
  let byte = b[p++];
  if (byte < 0x80) {
    lebEnd = p;
    return byte;
  }
  let r = byte & 0x7f;
  let mul = 128;
  for (;;) {
    if (p >= b.length) throw new RangeError("LEB128 past the end");
    byte = b[p++];
    r += (byte & 0x7f) * mul;
    if (byte < 0x80) break;
    mul *= 128;
  }
  lebEnd = p;
  return r;
}

let lastBuf: Uint8Array | undefined;
let lastView: DataView | undefined;
const views = new WeakMap<Uint8Array, DataView>();

/** One DataView per section, not per cursor (cursors are made per entry read; views are not cheap). */
function viewOf(buf: Uint8Array): DataView {
  if (buf === lastBuf) return lastView!;
  let v = views.get(buf);
  if (!v) {
    v = new DataView(buf.buffer, buf.byteOffset, buf.length);
    views.set(buf, v);
  }
  lastBuf = buf;
  lastView = v;
  return v;
}

/** A reading position over one section. */
export class Cursor {
  readonly buf: Uint8Array;
  readonly view: DataView;
  readonly le: boolean;
  pos: number;

  constructor(buf: Uint8Array, le: boolean, pos = 0) {
    this.buf = buf;
    this.view = viewOf(buf);
    this.le = le;
    this.pos = pos;
  }

  u8(): number {
    const p = this.pos;
    this.pos = p + 1;
    return this.view.getUint8(p);
  }

  u16(): number {
    const p = this.pos;
    this.pos = p + 2;
    return this.view.getUint16(p, this.le);
  }

  u24(): number {
    const p = this.pos;
    this.pos = p + 3;
    const b = this.buf;
    if (p + 3 > b.length) throw new RangeError("u24 past the end");
    return this.le ? b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) : (b[p] << 16) | (b[p + 1] << 8) | b[p + 2];
  }

  u32(): number {
    const p = this.pos;
    this.pos = p + 4;
    return this.view.getUint32(p, this.le);
  }

  /** A u64 as a number (inexact past 2^53: only for offsets and sizes, which bounds checks then reject). */
  u64(): number {
    const p = this.pos;
    this.pos = p + 8;
    const v = this.view;
    return this.le
      ? v.getUint32(p + 4, true) * TWO_32 + v.getUint32(p, true)
      : v.getUint32(p, false) * TWO_32 + v.getUint32(p + 4, false);
  }

  /** A u64 as an address number. */
  u64Addr(): number {
    const p = this.pos;
    this.pos = p + 8;
    const v = this.view;
    return this.le
      ? addrOf(v.getUint32(p + 4, true), v.getUint32(p, true))
      : addrOf(v.getUint32(p, false), v.getUint32(p + 4, false));
  }

  /** A u64 as a bigint (DWO ids, type signatures). */
  u64Big(): bigint {
    const p = this.pos;
    this.pos = p + 8;
    return this.view.getBigUint64(p, this.le);
  }

  /** An address of `size` bytes (1, 2, 4 or 8). */
  addr(size: number): number {
    switch (size) {
      case 8:
        return this.u64Addr();
      case 4:
        return this.u32();
      case 2:
        return this.u16();
      case 1:
        return this.u8();
    }
    throw new DwarfError(`address size ${size} is not 1, 2, 4 or 8`);
  }

  /** A section offset of `size` bytes (4 for 32-bit DWARF, 8 for 64-bit). */
  offset(size: number): number {
    return size === 4 ? this.u32() : this.u64();
  }

  /**
   * An unsigned LEB128. Values past 2^53 come out inexact (large), never
   * wrapped; an encoding running off the section ends at its end.
   */
  uleb(): number {
    const v = uleb(this.buf, this.pos);
    this.pos = lebEnd;
    return v;
  }

  /** A signed LEB128 (exact within ±2^53). */
  sleb(): number {
    const b = this.buf;
    let p = this.pos;
    let r = 0;
    let mul = 1;
    let byte: number;
    do {
      if (p >= b.length) throw new RangeError("LEB128 past the end");
      byte = b[p++];
      r += (byte & 0x7f) * mul;
      mul *= 128;
    } while (byte >= 0x80);
    this.pos = p;
    if (byte & 0x40) r -= mul;
    return r;
  }

  /** Skips `n` bytes (after the read of `n`: `pos += read()` would add to the old position). */
  skip(n: number): void {
    this.pos += n;
  }

  /** Skips a NUL-terminated string; throws when it runs off the section. */
  skipCString(): void {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) throw new DwarfError(`unterminated string at ${this.pos}`);
    this.pos = end + 1;
  }

  /** Reads a NUL-terminated string. */
  cstring(): string {
    const start = this.pos;
    this.skipCString();
    return decodeString(this.buf, start, this.pos - 1);
  }
}

/** The string at `[start, end)` of `buf` (UTF-8; ASCII without the decoder, as most names are). */
export function decodeString(buf: Uint8Array, start: number, end: number): string {
  if (end - start <= 64) {
    let s = "";
    for (let i = start; i < end; i++) {
      const c = buf[i];
      if (c >= 0x80) return decoder.decode(buf.subarray(start, end));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return decoder.decode(buf.subarray(start, end));
}

/** The NUL-terminated string at `at` of a string section, or undefined when out of bounds or unterminated. */
export function stringAt(buf: Uint8Array | undefined, at: number): string | undefined {
  if (!buf || !(at >= 0 && at < buf.length)) return undefined;
  const end = buf.indexOf(0, at);
  if (end < 0) return undefined;
  return decodeString(buf, at, end);
}
