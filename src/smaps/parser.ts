/**
 * Parser for the text of `/proc/<pid>/smaps` and `smaps_rollup`, working on
 * bytes like the maps parser: no regular expressions, no split strings.
 *
 * Format (fs/proc/task_mmu.c, show_smap and show_smaps_rollup): per VMA its
 * maps line, then one `Name:   value` line per field, values decimal with
 * ` kB` for sizes; `VmFlags:` is followed by two-letter flags, each with a
 * trailing space. The kernel prints the fields in a fixed order, so each
 * field name is first compared with the one that followed the previous field
 * last time; only a name out of that order needs a lookup. The maps lines are gathered into a maps text and
 * parsed by the maps parser, so each VMA is exactly the Vma the maps give.
 * Field lines come from the kernel, not the process: only VMA names are
 * attacker input, and the maps parser handles them.
 * @module
 */
import type { Pid } from "../options.ts";
import { malformed, parseHeaders } from "./headers.ts";
import { decodeName } from "../util/names.ts";
import { FIELDS, NFIELDS, SmapsTable } from "./table.ts";

export { FIELD_NAMES, SmapsTable } from "./table.ts";

/** Index used for `VmFlags` (not a figure). */
const VMFLAGS = NFIELDS;
/** Index for a field this table does not know. */
const UNKNOWN = -1;
/** Slot of the learned field order for "right after the maps line". */
const START = NFIELDS + 1;

const encoder = new TextEncoder();
const NAME_BYTES: readonly Uint8Array[] = [...FIELDS.map(([k]) => encoder.encode(k)), encoder.encode("VmFlags")];
const BY_NAME = new Map<string, number>([...FIELDS.map(([k], i) => [k, i] as const), ["VmFlags", VMFLAGS]]);

const CH_NL = 0x0a;
const CH_SPACE = 0x20;
const CH_DASH = 0x2d;
const CH_COLON = 0x3a;

/** Longest field name accepted (the kernel's longest is 15 bytes). */
const MAX_NAME = 64;
/** Longest decimal value accepted: 12 digits stay exact below 2^53 even times 1024. */
const MAX_DIGITS = 12;

/**
 * The kernel prints each figure as its name and colon padded with spaces to
 * 16 bytes, the value right-aligned in 8 (`seq_put_decimal_ull_width`), then
 * ` kB` or nothing: a 28- or 25-byte line. PREFIX holds each field's 16
 * bytes as four little-endian words (0, which no line starts with, for a
 * name too long to fit), so the expected field is recognised by four word
 * compares; any other line takes the general path.
 */
const PREFIX = new Int32Array(4 * NFIELDS);
for (let k = 0; k < NFIELDS; k++) {
  const name = FIELDS[k][0] + ":";
  if (name.length > 16) continue;
  const b = encoder.encode(name.padEnd(16, " "));
  const w = new DataView(b.buffer);
  for (let j = 0; j < 4; j++) PREFIX[4 * k + j] = w.getInt32(4 * j, true);
}
/** `VmFlags:` as two little-endian words. */
const VMFLAGS_0 = new DataView(encoder.encode("VmFl").buffer).getInt32(0, true);
const VMFLAGS_1 = new DataView(encoder.encode("ags:").buffer).getInt32(0, true);
/** Four spaces as a word. */
const SPACES = 0x20202020;
/** ` kB\n` as a little-endian word. */
const KB_NL = new DataView(encoder.encode(" kB\n").buffer).getInt32(0, true);

const IS_HEX = new Uint8Array(256);
for (const c of "0123456789abcdefABCDEF") IS_HEX[c.charCodeAt(0)] = 1;

/** Interned two-letter flag strings, by their two bytes. */
const FLAG_STRINGS = new Map<number, string>();

/** Where parsing failed, for the error message. */
class LineError {
  constructor(readonly what: string, readonly lineStart: number) {}
}

const NO_FLAGS: readonly string[] = Object.freeze([]);

/** Slots of a FlagsCache: a process has few distinct VmFlags lines. */
const FLAG_SLOTS = 64;
/** Bytes of flags text a slot holds; a longer line is split each time (the kernel's are about 20-40). */
const FLAG_SLOT_BYTES = 128;

/**
 * The VmFlags lists of one text, each distinct line split once: most VMAs
 * repeat a few lines. Direct-mapped by (length, first and last flag); a hit
 * is verified word by word. Used while parsing, when the line's bytes are
 * in the CPU caches.
 */
class FlagsCache {
  /** Every list handed out, by index (a refilled slot does not change an index given before). */
  readonly lists: (readonly string[])[] = [];
  readonly #bytes = new Uint8Array(FLAG_SLOTS * FLAG_SLOT_BYTES);
  readonly #words = new DataView(this.#bytes.buffer);
  readonly #len = new Int32Array(FLAG_SLOTS).fill(-1);
  readonly #index = new Int32Array(FLAG_SLOTS);
  #empty = -1;

  /** The index in `lists` of the flags in `t[s, e)`; `dv` views `t`'s bytes from its offset 0. */
  get(t: Uint8Array, dv: DataView, s: number, e: number): number {
    const len = e - s;
    if (len < 4 || len > FLAG_SLOT_BYTES) {
      if (len === 0) return this.#empty >= 0 ? this.#empty : (this.#empty = this.lists.push(NO_FLAGS) - 1);
      return this.lists.push(Object.freeze(splitFlags(t, s, e))) - 1;
    }
    const slot = (len * 31 + t[s + 1] * 7 + t[e - 2]) & (FLAG_SLOTS - 1);
    const o = slot * FLAG_SLOT_BYTES;
    if (this.#len[slot] === len) {
      const w = this.#words;
      let j = 0;
      while (j + 4 < len && w.getInt32(o + j) === dv.getInt32(s + j)) j += 4;
      // The last word (overlapping the one before when len is not a multiple of 4).
      if (j + 4 >= len && w.getInt32(o + len - 4) === dv.getInt32(e - 4)) return this.#index[slot];
    }
    const index = this.lists.push(Object.freeze(splitFlags(t, s, e))) - 1;
    this.#bytes.set(t.subarray(s, e), o);
    this.#len[slot] = len;
    this.#index[slot] = index;
    return index;
  }
}

/** The flags in text[s, e): words separated by spaces. */
function splitFlags(t: Uint8Array, s: number, e: number): string[] {
  const out: string[] = [];
  let p = s;
  while (p < e) {
    while (p < e && t[p] === CH_SPACE) p++;
    const w = p;
    while (p < e && t[p] !== CH_SPACE) p++;
    if (p === w) break;
    if (p - w === 2) {
      const key = (t[w] << 8) | t[w + 1];
      let f = FLAG_STRINGS.get(key);
      if (f === undefined && FLAG_STRINGS.size < 4096) FLAG_STRINGS.set(key, f = decodeName(t, w, p));
      out.push(f ?? decodeName(t, w, p));
    } else {
      out.push(decodeName(t, w, p));
    }
  }
  return out;
}

/** Four newlines, to find one in a word: a zero byte of `word ^ NL4`. */
const NL4 = 0x0a0a0a0a;

/**
 * The newline at or after `p` in `t[0, length)`, or -1: four bytes at a
 * time (`dv` views `t`), with the classic test for a zero byte in a word.
 */
function lineEnd(t: Uint8Array, dv: DataView, p: number, length: number): number {
  for (; p + 4 <= length; p += 4) {
    const x = dv.getInt32(p, true) ^ NL4;
    if (((x - 0x01010101) & ~x & 0x80808080) !== 0) break;
  }
  for (; p < length; p++) if (t[p] === CH_NL) return p;
  return -1;
}

/** True when the line at p starts like a maps line: hex digits, then '-'. */
function isHeader(t: Uint8Array, p: number, length: number): boolean {
  const s = p;
  while (p < length && IS_HEX[t[p]] === 1) p++;
  return p > s && p < length && t[p] === CH_DASH;
}

/**
 * Parses `text[0, length)`; `pageSize` is the base page size (a row's
 * `KernelPageSize` overrides it for its Vma). Throws ProcMapsError `EBADMSG`
 * naming the first malformed line and its number; a final line without its
 * newline counts as truncated. `spare` may offer buffers of an earlier table
 * that nothing refers to any more; they are used where large enough.
 */
export function parseSmaps(
  text: Uint8Array,
  length: number,
  pageSize: number,
  pid: Pid = "self",
  spare?: SpareBuffers,
): SmapsTable {
  length = Math.max(0, Math.min(Math.floor(length) || 0, text.length));
  const parser = new SmapsParser(pageSize, pid, (at) => lineNumber(text, at), spare, length);
  parser.feed(text, length, 0);
  return parser.finish(text);
}

/** The number of the line at offset `at` of `text` (1 for the first). */
function lineNumber(text: Uint8Array, at: number): number {
  let line = 1;
  for (let p = 0; p < at; p++) if (text[p] === CH_NL) line++;
  return line;
}

/** Buffers of a table nothing reads any more, for the next parse. */
export interface SpareBuffers {
  headers: Uint8Array;
  values: Float64Array;
}

/**
 * Where the last record of `t[0, length)` starts (its maps line), so that
 * `[0, cut)` holds whole records only; 0 when there is no second record.
 * Scans back from the end, a line at a time.
 */
export function lastRecordStart(t: Uint8Array, length: number): number {
  for (let e = length - 1; e > 0;) {
    const nl = t.lastIndexOf(CH_NL, e - 1);
    if (nl < 0) return 0;
    if (isHeader(t, nl + 1, length)) return nl + 1;
    e = nl;
  }
  return 0;
}

/**
 * An smaps text parsed as it comes: {@link feed} takes pieces made of whole
 * records (the last piece: whatever is left), {@link finish} makes the
 * table. A piece can be read into a buffer that is then reused, so a large
 * text is never held whole: only its maps lines are kept, copied into one
 * buffer as they come (sized from the last text's, when known).
 */
export class SmapsParser {
  readonly #pageSize: number;
  readonly #pid: Pid;
  /** The line number of a text offset, for error messages. */
  readonly #lineOf: (at: number) => number;
  #cap: number;
  // (Only figures whose bit is set in `present` are read: a reused buffer needs no clearing.)
  #values: Float64Array;
  #present: Int32Array;
  #flagsOf: Int32Array;
  readonly #flags = new FlagsCache();
  readonly #other = new Map<number, Record<string, number | string>>();
  /** Each row's maps line: its offset in the text (for error messages). */
  #lineAt: Float64Array;
  /** The maps lines so far, and where a piece's lines start and end (reused). */
  #headers: Uint8Array;
  #headersLength = 0;
  #row = -1;
  /** follow[j]: the field that came after field j last time (START: after the maps line). */
  readonly #follow = new Int8Array(NFIELDS + 2);
  #prev = START;

  /**
   * `sizeHint`: the text's expected length (sizes the columns), `headersHint`
   * that of its maps lines (sizes their buffer); all grow as needed.
   */
  constructor(
    pageSize: number,
    pid: Pid,
    lineOf: (at: number) => number,
    spare?: SpareBuffers,
    sizeHint = 0,
    headersHint = 0,
  ) {
    this.#pageSize = pageSize;
    this.#pid = pid;
    this.#lineOf = lineOf;
    // An smaps entry is about 25 lines of some 30 bytes: rows sized for 600 bytes each rarely grow.
    const cap = this.#cap = Math.max(16, Math.ceil(sizeHint / 600));
    this.#values = spare && spare.values.length >= cap * NFIELDS ? spare.values : new Float64Array(cap * NFIELDS);
    this.#present = new Int32Array(cap);
    this.#flagsOf = new Int32Array(cap).fill(-1);
    this.#lineAt = new Float64Array(cap);
    // Maps lines are about a fifth of a text of short names (the buffer doubles when it must).
    const want = headersHint > 0 ? Math.ceil(headersHint * 1.125) + 4096 : Math.max(4096, cap * 128);
    this.#headers = spare && spare.headers.length >= want ? spare.headers : new Uint8Array(want);
    for (let j = 0; j < this.#follow.length; j++) this.#follow[j] = j + 1;
    this.#follow[START] = 0;
  }

  /**
   * Parses `t[0, length)`, which begins at `offset` in the text: whole
   * records (or the text's end). Throws ProcMapsError `EBADMSG` naming a
   * malformed line.
   */
  feed(t: Uint8Array, length: number, offset: number): void {
    try {
      this.#parse(t, length, offset);
    } catch (e) {
      if (!(e instanceof LineError)) throw e;
      throw malformed(t, length, e.lineStart, this.#lineOf(offset + e.lineStart), e.what, this.#pid);
    }
  }

  /** Bytes of maps lines gathered so far. */
  get headersLength(): number {
    return this.#headersLength;
  }

  /** The table of everything fed; `text` is kept with it (the buffer a caller may reuse). */
  finish(text: Uint8Array): SmapsTable {
    const headers = this.#headers;
    const maps = parseHeaders(
      headers,
      this.#headersLength,
      this.#pageSize,
      this.#pid,
      (r: number) => this.#lineOf(this.#lineAt[r]),
    );
    const values = this.#values, present = this.#present;
    for (let i = 0; i < maps.count; i++) {
      // KernelPageSize is the page size PROCMAP_QUERY reports (the huge page size for hugetlb).
      if ((present[i] & 2) !== 0 && values[i * NFIELDS + 1] !== this.#pageSize) {
        maps.hugePageSizes.set(i, values[i * NFIELDS + 1]);
      }
    }
    return new SmapsTable(text, maps, values, present, this.#flagsOf, this.#flags.lists, this.#other);
  }

  /** Room for one row more. */
  #grow(): void {
    const cap = this.#cap *= 2;
    this.#values = grown(this.#values, cap * NFIELDS);
    this.#present = grown(this.#present, cap);
    const fs = new Int32Array(cap).fill(-1);
    fs.set(this.#flagsOf);
    this.#flagsOf = fs;
    this.#lineAt = grown(this.#lineAt, cap);
  }

  #parse(text: Uint8Array, length: number, offset: number): void {
    // Never read past the bytes given (a reused buffer holds older text there):
    // reads past the end give undefined, which every test below rejects.
    const t = length < text.length ? text.subarray(0, length) : text;
    const dv = new DataView(t.buffer, t.byteOffset, length);
    // The state in locals while the loop runs (written back at its end).
    let values = this.#values, present = this.#present, flagsOf = this.#flagsOf;
    const flags = this.#flags, other = this.#other, follow = this.#follow;
    let row = this.#row, prev = this.#prev, cap = this.#cap, lineAt = this.#lineAt;
    // The maps lines are copied as they come, while their bytes are in the CPU caches.
    let headers = this.#headers, headersLength = this.#headersLength;
    let hv = new DataView(headers.buffer, headers.byteOffset, headers.length);
    let p = 0;
    while (p < length) {
      const lineStart = p;
      const c0 = t[p];
      // Field names start with an uppercase letter, maps lines with a digit or lowercase hex.
      if (!(c0 >= 0x41 && c0 <= 0x5a)) {
        if (!isHeader(t, p, length)) throw new LineError("neither a maps line nor a 'Name: value' field", lineStart);
        p = lineEnd(t, dv, p, length);
        if (p < 0) throw new LineError("line is truncated (no newline at its end)", lineStart);
        p++;
        row++;
        if (row === cap) {
          this.#grow();
          values = this.#values;
          present = this.#present;
          flagsOf = this.#flagsOf;
          lineAt = this.#lineAt;
          cap = this.#cap;
        }
        lineAt[row] = offset + lineStart;
        const n = p - lineStart;
        if (headersLength + n > headers.length) {
          headers = this.#headers = grown(headers, Math.max(headers.length * 2, headersLength + n));
          hv = new DataView(headers.buffer);
        }
        if (n > 256) headers.set(t.subarray(lineStart, p), headersLength), headersLength += n;
        else {
          // A short line a word at a time (reading whole words only inside the line): cheaper than a view.
          let j = lineStart;
          for (; j + 4 <= p; j += 4, headersLength += 4) hv.setInt32(headersLength, dv.getInt32(j, true), true);
          for (; j < p; j++) headers[headersLength++] = t[j];
        }
        prev = START;
        continue;
      }
      if (row < 0) throw new LineError("field before the first maps line", lineStart);
      // Fast path: the fields that come in the expected order in the kernel's layout (see PREFIX);
      // the first line that does not is left to the general path below.
      const base = row * NFIELDS;
      let mask = 0;
      for (;;) {
        const k = follow[prev];
        if (k >= NFIELDS || p + 25 > length) break;
        const w = 4 * k;
        if (
          dv.getInt32(p, true) !== PREFIX[w] || dv.getInt32(p + 4, true) !== PREFIX[w + 1] ||
          dv.getInt32(p + 8, true) !== PREFIX[w + 2] || dv.getInt32(p + 12, true) !== PREFIX[w + 3]
        ) break;
        // Spaces, then at least one digit, filling [p + 16, p + 24).
        const e = p + 24;
        let v = 0;
        const w1 = dv.getInt32(p + 20, true);
        if (dv.getInt32(p + 16, true) === SPACES && (w1 & 0xffffff) === 0x202020) {
          // One digit, the commonest value.
          v = (w1 >>> 24) - 0x30;
          if (!(v >= 0 && v <= 9)) break;
        } else {
          let q = p + 16;
          while (q < e - 1 && t[q] === CH_SPACE) q++;
          for (; q < e; q++) {
            const d = t[q] - 0x30;
            if (!(d >= 0 && d <= 9)) break;
            v = v * 10 + d;
          }
          if (q !== e) break;
        }
        if (p + 28 <= length && dv.getInt32(e, true) === KB_NL) {
          v *= 1024;
          p += 28;
        } else if (t[e] === CH_NL) p += 25;
        else break;
        values[base + k] = v;
        mask |= 1 << k;
        prev = k;
      }
      present[row] |= mask;
      if (p !== lineStart) continue;
      const k0 = follow[prev];
      if (
        k0 === VMFLAGS && p + 9 <= length && dv.getInt32(p, true) === VMFLAGS_0 &&
        dv.getInt32(p + 4, true) === VMFLAGS_1
      ) {
        let q = p + 8;
        while (t[q] === CH_SPACE) q++;
        const vs = q;
        q = lineEnd(t, dv, q, length);
        if (q < 0) throw new LineError("line is truncated (no newline at its end)", lineStart);
        flagsOf[row] = flags.get(t, dv, vs, q);
        prev = VMFLAGS;
        p = q + 1;
        continue;
      }
      // General path. Field: Name ':' spaces value '\n'. First the name that followed the previous field last time.
      let k = k0;
      let colon = -1;
      if (k <= VMFLAGS) {
        const want = NAME_BYTES[k];
        const n = want.length;
        if (want[0] === c0) {
          let j = 1;
          while (j < n && t[p + j] === want[j]) j++;
          if (j === n && t[p + n] === CH_COLON) colon = p + n;
        }
      }
      if (colon < 0) {
        let q = p;
        while (q < length && q - p <= MAX_NAME && t[q] !== CH_COLON && t[q] !== CH_NL) q++;
        if (t[q] !== CH_COLON) throw new LineError("neither a maps line nor a 'Name: value' field", lineStart);
        colon = q;
        k = BY_NAME.get(decodeName(t, p, q)) ?? UNKNOWN;
        if (k !== UNKNOWN) follow[prev] = k;
      }
      if (k !== UNKNOWN) prev = k;
      p = colon + 1;
      while (t[p] === CH_SPACE) p++;
      const vs = p;
      if (k === VMFLAGS) {
        while (p < length && t[p] !== CH_NL) p++;
        if (p >= length) throw new LineError("line is truncated (no newline at its end)", lineStart);
        flagsOf[row] = flags.get(t, dv, vs, p);
        p++;
        continue;
      }
      // Decimal digits, then " kB" or nothing, then the newline.
      let v = 0;
      let d = t[p] - 0x30;
      while (d >= 0 && d <= 9 && p - vs < MAX_DIGITS) {
        v = v * 10 + d;
        d = t[++p] - 0x30;
      }
      const tooLong = p - vs === MAX_DIGITS && d >= 0 && d <= 9;
      let ok = p > vs && !(d >= 0 && d <= 9);
      const c = t[p];
      if (ok && c === CH_SPACE && t[p + 1] === 0x6b && t[p + 2] === 0x42 && t[p + 3] === CH_NL) {
        v *= 1024;
        p += 4;
      } else if (ok && c === CH_NL) {
        p++;
      } else {
        ok = false;
        while (p < length && t[p] !== CH_NL) p++;
        if (p >= length) throw new LineError("line is truncated (no newline at its end)", lineStart);
        p++;
      }
      if (k === UNKNOWN) {
        const name = decodeName(t, lineStart, colon);
        let rec = other.get(row);
        if (rec === undefined) other.set(row, rec = {});
        // Bounded, and never a prototype key.
        if (!Object.hasOwn(rec, name) && name !== "__proto__" && Object.keys(rec).length < 64) {
          rec[name] = ok ? v : decodeName(t, vs, p - 1);
        }
        continue;
      }
      if (!ok) {
        throw new LineError(
          tooLong
            ? `value of ${FIELDS[k][0]} has more than ${MAX_DIGITS} digits: in bytes it would not be exact as a number`
            : `bad value for ${FIELDS[k][0]}`,
          lineStart,
        );
      }
      values[row * NFIELDS + k] = v;
      present[row] |= 1 << k;
    }
    this.#row = row;
    this.#prev = prev;
    this.#headersLength = headersLength;
  }
}

function grown<T extends Float64Array | Int32Array | Uint8Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}
