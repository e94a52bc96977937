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
import { parseMaps } from "../text/parser.ts";
import type { MapsTable } from "../text/table.ts";
import { ProcMapsError } from "../errors.ts";
import type { Pid } from "../options.ts";
import { decodeName } from "../util/names.ts";
import type { MemoryFigures, SmapsEntry, SmapsRollup } from "./types.ts";

/** Kernel field names in the kernel's order, with their property names. Bit k of a row's mask: field k. */
const FIELDS: readonly (readonly [string, keyof MemoryFigures])[] = [
  ["Size", "size"],
  ["KernelPageSize", "kernelPageSize"],
  ["MMUPageSize", "mmuPageSize"],
  ["Rss", "rss"],
  ["Pss", "pss"],
  ["Pss_Dirty", "pssDirty"],
  ["Pss_Anon", "pssAnon"],
  ["Pss_File", "pssFile"],
  ["Pss_Shmem", "pssShmem"],
  ["Shared_Clean", "sharedClean"],
  ["Shared_Dirty", "sharedDirty"],
  ["Private_Clean", "privateClean"],
  ["Private_Dirty", "privateDirty"],
  ["Referenced", "referenced"],
  ["Anonymous", "anonymous"],
  ["KSM", "ksm"],
  ["LazyFree", "lazyFree"],
  ["AnonHugePages", "anonHugePages"],
  ["ShmemPmdMapped", "shmemPmdMapped"],
  ["FilePmdMapped", "filePmdMapped"],
  ["Shared_Hugetlb", "sharedHugetlb"],
  ["Private_Hugetlb", "privateHugetlb"],
  ["Swap", "swap"],
  ["SwapPss", "swapPss"],
  ["Locked", "locked"],
  ["THPeligible", "thpEligible"],
  ["ProtectionKey", "protectionKey"],
];
const NFIELDS = FIELDS.length;
/** Index used for `VmFlags` (not a figure). */
const VMFLAGS = NFIELDS;
/** Index for a field this table does not know. */
const UNKNOWN = -1;
/** Slot of the learned field order for "right after the maps line". */
const START = NFIELDS + 1;

/**
 * The smaps fields procmap knows: each kernel name (`Pss_Dirty`) with the
 * {@link MemoryFigures} property that holds it (`pssDirty`), in the
 * kernel's order. Fields the kernel prints and this map lacks are kept in
 * an entry's `other`, under the kernel's name.
 */
export const FIELD_NAMES: ReadonlyMap<string, keyof MemoryFigures> = new Map(FIELDS);

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

/** A parsed smaps text: one row per VMA, figures in columns, VMAs from a maps table. */
export class SmapsTable {
  /** The maps lines of the text, parsed. */
  readonly maps: MapsTable;
  /** Rows. */
  readonly count: number;
  /** Figures: row i, field k at `values[i * NFIELDS + k]`. */
  readonly values: Float64Array;
  /** Bit k set when row i has field k. */
  readonly present: Int32Array;
  /** Each row's VmFlags as an index in `flagLists` (-1: none). */
  readonly flagsOf: Int32Array;
  /** The distinct VmFlags lists of the text (frozen). */
  readonly flagLists: readonly (readonly string[])[];
  /** Unknown fields, by row. */
  readonly other: Map<number, Record<string, number | string>>;
  readonly text: Uint8Array;

  constructor(
    text: Uint8Array,
    maps: MapsTable,
    values: Float64Array,
    present: Int32Array,
    flagsOf: Int32Array,
    flagLists: readonly (readonly string[])[],
    other: Map<number, Record<string, number | string>>,
  ) {
    this.text = text;
    this.maps = maps;
    this.count = maps.count;
    this.values = values;
    this.present = present;
    this.flagsOf = flagsOf;
    this.flagLists = flagLists;
    this.other = other;
  }

  /** Row `i` as an entry: a Vma with its figures. */
  entry(i: number): SmapsEntry {
    // Nothing here reads the text: by now it has left the CPU caches (a large one), and the
    // parse resolved everything while it was there.
    const f = this.flagsOf[i];
    return new Entry(
      this.maps.vma(i, true, undefined),
      this.values,
      i * NFIELDS,
      this.present[i],
      f >= 0 ? this.flagLists[f] : undefined,
      this.other.size === 0 ? undefined : this.other.get(i),
    );
  }

  /** Row 0 as the rollup of the whole process. */
  rollup(): SmapsRollup {
    return new Rollup(this.maps.start.big[0], this.maps.end.big[0], this.values, this.present[0], this.other.get(0));
  }
}

/**
 * An smaps entry. A class, so that every entry of a text has one shape with
 * its fields in the object itself; fields are assigned only when present
 * (`declare`d, so none exists as `undefined`). Each figure is stored with
 * `this.` in the constructor itself (not by a helper), so that the engines
 * see how many properties an entry gets and reserve room for them in the
 * object: a helper's stores would grow an out-of-object store step by step.
 * Same order as FIELDS.
 */
class Entry implements SmapsEntry {
  declare readonly vma: SmapsEntry["vma"];
  declare readonly size?: number;
  declare readonly kernelPageSize?: number;
  declare readonly mmuPageSize?: number;
  declare readonly rss?: number;
  declare readonly pss?: number;
  declare readonly pssDirty?: number;
  declare readonly pssAnon?: number;
  declare readonly pssFile?: number;
  declare readonly pssShmem?: number;
  declare readonly sharedClean?: number;
  declare readonly sharedDirty?: number;
  declare readonly privateClean?: number;
  declare readonly privateDirty?: number;
  declare readonly referenced?: number;
  declare readonly anonymous?: number;
  declare readonly ksm?: number;
  declare readonly lazyFree?: number;
  declare readonly anonHugePages?: number;
  declare readonly shmemPmdMapped?: number;
  declare readonly filePmdMapped?: number;
  declare readonly sharedHugetlb?: number;
  declare readonly privateHugetlb?: number;
  declare readonly swap?: number;
  declare readonly swapPss?: number;
  declare readonly locked?: number;
  declare readonly thpEligible?: number;
  declare readonly protectionKey?: number;
  declare readonly vmFlags?: readonly string[];
  declare readonly other?: Readonly<Record<string, number | string>>;
  constructor(
    vma: SmapsEntry["vma"],
    v: Float64Array,
    b: number,
    m: number,
    vmFlags: readonly string[] | undefined,
    other: Record<string, number | string> | undefined,
  ) {
    this.vma = vma;
    if (m & 1) this.size = int(v[b]);
    if (m & 2) this.kernelPageSize = int(v[b + 1]);
    if (m & 4) this.mmuPageSize = int(v[b + 2]);
    if (m & 8) this.rss = int(v[b + 3]);
    if (m & 0x10) this.pss = int(v[b + 4]);
    if (m & 0x20) this.pssDirty = int(v[b + 5]);
    if (m & 0x40) this.pssAnon = int(v[b + 6]);
    if (m & 0x80) this.pssFile = int(v[b + 7]);
    if (m & 0x100) this.pssShmem = int(v[b + 8]);
    if (m & 0x200) this.sharedClean = int(v[b + 9]);
    if (m & 0x400) this.sharedDirty = int(v[b + 10]);
    if (m & 0x800) this.privateClean = int(v[b + 11]);
    if (m & 0x1000) this.privateDirty = int(v[b + 12]);
    if (m & 0x2000) this.referenced = int(v[b + 13]);
    if (m & 0x4000) this.anonymous = int(v[b + 14]);
    if (m & 0x8000) this.ksm = int(v[b + 15]);
    if (m & 0x10000) this.lazyFree = int(v[b + 16]);
    if (m & 0x20000) this.anonHugePages = int(v[b + 17]);
    if (m & 0x40000) this.shmemPmdMapped = int(v[b + 18]);
    if (m & 0x80000) this.filePmdMapped = int(v[b + 19]);
    if (m & 0x100000) this.sharedHugetlb = int(v[b + 20]);
    if (m & 0x200000) this.privateHugetlb = int(v[b + 21]);
    if (m & 0x400000) this.swap = int(v[b + 22]);
    if (m & 0x800000) this.swapPss = int(v[b + 23]);
    if (m & 0x1000000) this.locked = int(v[b + 24]);
    if (m & 0x2000000) this.thpEligible = int(v[b + 25]);
    if (m & 0x4000000) this.protectionKey = int(v[b + 26]);
    if (vmFlags !== undefined) this.vmFlags = vmFlags;
    if (other !== undefined) this.other = other;
  }
}

/** The smaps_rollup figures (see Entry). */
class Rollup implements SmapsRollup {
  declare readonly start: bigint;
  declare readonly end: bigint;
  declare readonly other?: Readonly<Record<string, number | string>>;
  constructor(
    start: bigint,
    end: bigint,
    v: Float64Array,
    m: number,
    other: Record<string, number | string> | undefined,
  ) {
    const e = this as Figures;
    e.start = start;
    e.end = end;
    assignFigures(e, v, 0, m);
    if (other !== undefined) e.other = other;
  }
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

type Figures = { -readonly [K in keyof SmapsRollup]?: SmapsRollup[K] };

/**
 * Copies the present figures onto `e`, one property at a time in the
 * kernel's order: every entry of one text gets the same shape, and each
 * store site sees one property (no keyed stores).
 */
/**
 * A figure as a small integer where it is one: engines then store it in the
 * object as is, where a double would need a heap box per field.
 */
function int(x: number): number {
  return (x | 0) === x ? x | 0 : x;
}

function assignFigures(e: Figures, v: Float64Array, b: number, m: number): void {
  if (m & 1) e.size = int(v[b]);
  if (m & 2) e.kernelPageSize = int(v[b + 1]);
  if (m & 4) e.mmuPageSize = int(v[b + 2]);
  if (m & 8) e.rss = int(v[b + 3]);
  if (m & 0x10) e.pss = int(v[b + 4]);
  if (m & 0x20) e.pssDirty = int(v[b + 5]);
  if (m & 0x40) e.pssAnon = int(v[b + 6]);
  if (m & 0x80) e.pssFile = int(v[b + 7]);
  if (m & 0x100) e.pssShmem = int(v[b + 8]);
  if (m & 0x200) e.sharedClean = int(v[b + 9]);
  if (m & 0x400) e.sharedDirty = int(v[b + 10]);
  if (m & 0x800) e.privateClean = int(v[b + 11]);
  if (m & 0x1000) e.privateDirty = int(v[b + 12]);
  if (m & 0x2000) e.referenced = int(v[b + 13]);
  if (m & 0x4000) e.anonymous = int(v[b + 14]);
  if (m & 0x8000) e.ksm = int(v[b + 15]);
  if (m & 0x10000) e.lazyFree = int(v[b + 16]);
  if (m & 0x20000) e.anonHugePages = int(v[b + 17]);
  if (m & 0x40000) e.shmemPmdMapped = int(v[b + 18]);
  if (m & 0x80000) e.filePmdMapped = int(v[b + 19]);
  if (m & 0x100000) e.sharedHugetlb = int(v[b + 20]);
  if (m & 0x200000) e.privateHugetlb = int(v[b + 21]);
  if (m & 0x400000) e.swap = int(v[b + 22]);
  if (m & 0x800000) e.swapPss = int(v[b + 23]);
  if (m & 0x1000000) e.locked = int(v[b + 24]);
  if (m & 0x2000000) e.thpEligible = int(v[b + 25]);
  if (m & 0x4000000) e.protectionKey = int(v[b + 26]);
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
  try {
    return parseInto(text, length, pageSize, pid, spare);
  } catch (e) {
    if (!(e instanceof LineError)) throw e;
    throw malformed(text, length, e.lineStart, e.what, pid);
  }
}

function malformed(text: Uint8Array, length: number, lineStart: number, what: string, pid: Pid): ProcMapsError {
  let line = 1;
  for (let p = 0; p < lineStart; p++) if (text[p] === CH_NL) line++;
  let e = lineStart;
  while (e < length && text[e] !== CH_NL && e - lineStart < 200) e++;
  const shown = decodeName(text, lineStart, e) + (e - lineStart >= 200 ? "..." : "");
  return new ProcMapsError("EBADMSG", {
    pid,
    syscall: "parse",
    errno: 0,
    message: `malformed smaps line ${line} (${what}): ${JSON.stringify(shown)}`,
  });
}

/** Buffers of a table nothing reads any more, for the next parse. */
export interface SpareBuffers {
  headers: Uint8Array;
  values: Float64Array;
}

function parseInto(text: Uint8Array, length: number, pageSize: number, pid: Pid, spare?: SpareBuffers): SmapsTable {
  // Never read past the bytes given (a reused buffer holds older text there):
  // reads past the end give undefined, which every test below rejects.
  const t = length < text.length ? text.subarray(0, length) : text;
  const dv = new DataView(t.buffer, t.byteOffset, length);
  // An smaps entry is about 25 lines of some 30 bytes: rows sized for 600 bytes each rarely grow.
  let cap = Math.max(16, Math.ceil(length / 600));
  // (Only figures whose bit is set in `present` are read: a reused buffer needs no clearing.)
  let values = spare && spare.values.length >= cap * NFIELDS ? spare.values : new Float64Array(cap * NFIELDS);
  let present = new Int32Array(cap);
  let flagsOf = new Int32Array(cap).fill(-1);
  const flags = new FlagsCache();
  let headerAt = new Int32Array(cap);
  let headers = spare && spare.headers.length >= cap * 128 ? spare.headers : new Uint8Array(Math.max(4096, cap * 128));
  let headersLength = 0;
  let hv = new DataView(headers.buffer, headers.byteOffset, headers.length);
  const other = new Map<number, Record<string, number | string>>();
  let row = -1;
  // follow[j]: the field that came after field j last time (START: after the maps line).
  const follow = new Int8Array(NFIELDS + 2);
  for (let j = 0; j < follow.length; j++) follow[j] = j + 1;
  follow[START] = 0;
  let prev = START;
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
        cap *= 2;
        values = grown(values, cap * NFIELDS);
        present = grown(present, cap);
        const fs = new Int32Array(cap).fill(-1);
        fs.set(flagsOf);
        flagsOf = fs;
        headerAt = grown(headerAt, cap);
      }
      headerAt[row] = lineStart;
      const n = p - lineStart;
      if (headersLength + n > headers.length) {
        headers = grown(headers, Math.max(headers.length * 2, headersLength + n));
        hv = new DataView(headers.buffer);
      }
      // Copied a word at a time (reading whole words only inside the line).
      let j = lineStart;
      for (; j + 4 <= p; j += 4, headersLength += 4) hv.setInt32(headersLength, dv.getInt32(j, true), true);
      for (; j < p; j++) headers[headersLength++] = t[j];
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
      k0 === VMFLAGS && p + 9 <= length && dv.getInt32(p, true) === VMFLAGS_0 && dv.getInt32(p + 4, true) === VMFLAGS_1
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
  const maps = parseHeaders(t, length, headers, headersLength, headerAt, row + 1, pageSize, pid);
  for (let i = 0; i < maps.count; i++) {
    // KernelPageSize is the page size PROCMAP_QUERY reports (the huge page size for hugetlb).
    if ((present[i] & 2) !== 0 && values[i * NFIELDS + 1] !== pageSize) {
      maps.hugePageSizes.set(i, values[i * NFIELDS + 1]);
    }
  }
  return new SmapsTable(text, maps, values, present, flagsOf, flags.lists, other);
}

/** The gathered maps lines as a table; a malformed one is reported at its line in the smaps text. */
function parseHeaders(
  t: Uint8Array,
  length: number,
  headers: Uint8Array,
  headersLength: number,
  headerAt: Int32Array,
  rows: number,
  pageSize: number,
  pid: Pid,
): MapsTable {
  try {
    return parseMaps(headers, headersLength, pageSize, pid);
  } catch (e) {
    if (!(e instanceof ProcMapsError) || e.code !== "EBADMSG") throw e;
    // Error path only: find the failing line by parsing each alone.
    for (let r = 0; r < rows; r++) {
      const s = headerAt[r];
      let n = s;
      while (n < length && t[n] !== CH_NL) n++;
      try {
        parseMaps(t.subarray(s, n + 1), n + 1 - s, pageSize, pid);
      } catch (inner) {
        const why = /\(([^)]*)\)/.exec((inner as Error).message)?.[1] ?? "bad maps line";
        throw malformed(t, length, s, why, pid);
      }
    }
    throw e;
  }
}

function grown<T extends Float64Array | Int32Array | Uint8Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}
