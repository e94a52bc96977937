/**
 * Units of `.debug_info` (7.5.1): their headers, found by walking the
 * section, and their root entry's attributes (ranges, line table, the
 * bases of DWARF 5's indexed forms, split-DWARF names), read when needed.
 * @module
 */
import type { AbbrevTable } from "./abbrev.ts";
import type { DwarfSectionName } from "./types.ts";
import * as C from "./constants.ts";
import { Cursor, DwarfError, lebEnd, uleb } from "./cursor.ts";
import {
  type Encoding,
  K_ADDR,
  K_ADDRX,
  K_CONST,
  K_LINE_STRP,
  K_RNGLISTX,
  K_SEC_OFFSET,
  K_STRING,
  K_STRP,
  K_STRP_ALT,
  K_STRX,
  readValue,
  skipForm,
  valueKind,
} from "./forms.ts";

/** DW_TAG_partial_unit (dwz's shared entries; DWARF 3+ before unit types). */
const DW_TAG_partial_unit = 0x3c;
/** DW_TAG_type_unit (a DWARF 4 type unit moved into .debug_info). */
const DW_TAG_type_unit = 0x41;

/**
 * What a unit needs of the file it is in (file.ts's DwarfFile; declared
 * here so that this module does not import that one, which imports it).
 */
export interface UnitFile {
  readonly le: boolean;
  /** A split-DWARF file. */
  readonly isDwo: boolean;
  /** The dwz supplementary file. */
  readonly alt: UnitFile | undefined;
  /** `.debug_info` as far as it has been read: every unit walked lies in it (empty when absent). */
  readonly info: Uint8Array;
  /** `.debug_info`'s first `want` bytes at least (all of it when shorter). */
  infoUpTo(want: number): Uint8Array;
  section(name: DwarfSectionName): Uint8Array | undefined;
  /** A section's first `want` bytes at least, or all of it (undefined when absent). */
  prefix(name: DwarfSectionName, want: number): Uint8Array | undefined;
  abbrevTable(offset: number, enc: Encoding): AbbrevTable;
  strAt(section: "debug_str" | "debug_line_str", offset: number): string | undefined;
  inlineStr(at: number): string | undefined;
  /** The name of the entry at `offset` (through origins). */
  nameOf(offset: number): string;
  /** Bytes its caches hold. */
  readonly cacheBytes: number;
}

/** A string attribute not resolved yet: its kind (forms.ts K_*) and value. */
export interface StrRef {
  kind: number;
  value: number;
}

/** One unit: header fields, then its root entry's attributes once {@link Unit.root} ran. */
export class Unit implements Encoding {
  readonly file: UnitFile;
  /** Offset of the unit header in `.debug_info`. */
  readonly offset: number;
  /** Offset of its first entry. */
  readonly dieStart: number;
  /** One past its last byte. */
  readonly end: number;
  readonly version: number;
  /** DW_UT_* (for DWARF 2-4: compile, or partial / type from the root tag). */
  unitType: number;
  readonly addrSize: number;
  readonly offSize: number;
  readonly abbrevOffset: number;
  /** The DWO id: DWARF 5 skeleton / split headers, or DW_AT_GNU_dwo_id. */
  dwoId: bigint | undefined;

  // Root attributes (valid once rootRead).
  rootRead = false;
  rootTag = 0;
  /** DW_AT_low_pc: the unit's base address for range lists and location lists (0 when absent). */
  lowPc = 0;
  /** Whether the root has DW_AT_low_pc. */
  hasLowPc = false;
  /** DW_AT_high_pc as an address, NaN when absent. */
  highPc = NaN;
  /** DW_AT_high_pc as a size, NaN when absent. */
  highPcSize = NaN;
  /** DW_AT_ranges: kind (K_SEC_OFFSET / K_RNGLISTX / K_CONST) and value; kind 0 when absent. */
  rangesKind = 0;
  rangesValue = 0;
  /** DW_AT_stmt_list, -1 when absent. */
  stmtList = -1;
  compDir = "";
  dwoName = "";
  /** Bases of DWARF 5's indexed forms (or the GNU split-DWARF ones). */
  addrBase = 0;
  strOffsetsBase = 0;
  rnglistsBase = 0;
  /** DW_AT_GNU_ranges_base (DWARF 4 split units add it to their DW_AT_ranges). */
  gnuRangesBase = 0;

  /** The file whose `.debug_addr` the unit's addrx forms index (a split unit's skeleton's file). */
  addrFile: UnitFile;
  /** For a split unit: the skeleton it belongs to. */
  skeleton: Unit | undefined;
  /** For a skeleton: its split unit once looked for (null: not found). */
  split: Unit | null | undefined;
  #abbrevs: AbbrevTable | undefined;

  constructor(
    file: UnitFile,
    offset: number,
    dieStart: number,
    end: number,
    version: number,
    unitType: number,
    addrSize: number,
    offSize: number,
    abbrevOffset: number,
    dwoId: bigint | undefined,
  ) {
    this.file = file;
    this.offset = offset;
    this.dieStart = dieStart;
    this.end = end;
    this.version = version;
    this.unitType = unitType;
    this.addrSize = addrSize;
    this.offSize = offSize;
    this.abbrevOffset = abbrevOffset;
    this.dwoId = dwoId;
    this.addrFile = file;
    if (file.isDwo && version >= 5) {
      // A split unit's indexed tables start after their section headers (gimli's defaults).
      this.strOffsetsBase = offSize === 8 ? 16 : 8;
      this.rnglistsBase = offSize === 8 ? 20 : 12;
    }
  }

  /** The unit's abbreviation table. */
  get abbrevs(): AbbrevTable {
    return this.#abbrevs ??= this.file.abbrevTable(this.abbrevOffset, this);
  }

  /** Whether this is a skeleton unit (its entries live in a .dwo). */
  get isSkeleton(): boolean {
    return this.unitType === C.DW_UT_skeleton || (this.version < 5 && this.dwoId !== undefined && !this.file.isDwo);
  }

  /** Reads the root entry's attributes (once). */
  root(): this {
    if (this.rootRead) return this;
    this.rootRead = true;
    const info = this.file.info;
    const c = new Cursor(info, this.file.le, this.dieStart);
    if (this.dieStart >= this.end) return this;
    const code = c.uleb();
    if (code === 0) return this;
    // Located, not parsed: the root's attributes are decoded from the abbreviation's bytes.
    const ab = this.abbrevs.locate(code);
    if (!ab) throw new DwarfError(`unit at ${this.offset}: root entry has unknown abbreviation ${code}`);
    this.rootTag = ab.tag;
    if (this.version < 5) {
      if (ab.tag === DW_TAG_partial_unit) this.unitType = C.DW_UT_partial;
      else if (ab.tag === DW_TAG_type_unit) this.unitType = C.DW_UT_type;
    }
    let lowIndex = -1, highIndex = -1;
    let compDir: StrRef | undefined, dwoName: StrRef | undefined;
    const spec = this.abbrevs.buf;
    for (let p = ab.spec;;) {
      const name = uleb(spec, p);
      const form = uleb(spec, lebEnd);
      p = lebEnd;
      if (name === 0 && form === 0) break;
      let implicit = 0;
      if (form === C.DW_FORM_implicit_const) {
        const s = new Cursor(spec, true, p);
        implicit = s.sleb();
        p = s.pos;
      }
      switch (name) {
        case C.DW_AT_low_pc:
        case C.DW_AT_high_pc:
        case C.DW_AT_ranges:
        case C.DW_AT_stmt_list:
        case C.DW_AT_comp_dir:
        case C.DW_AT_dwo_name:
        case C.DW_AT_GNU_dwo_name:
        case C.DW_AT_str_offsets_base:
        case C.DW_AT_addr_base:
        case C.DW_AT_GNU_addr_base:
        case C.DW_AT_rnglists_base:
        case C.DW_AT_GNU_ranges_base:
          break;
        case C.DW_AT_GNU_dwo_id:
          if (form === C.DW_FORM_data8) {
            this.dwoId = c.u64Big();
            continue;
          }
          skipForm(c, form, this);
          continue;
        default:
          skipForm(c, form, this);
          continue;
      }
      const v = readValue(c, form, this, this.offset, implicit);
      const k = valueKind;
      switch (name) {
        case C.DW_AT_low_pc:
          if (k === K_ADDR) this.lowPc = v;
          else if (k === K_ADDRX) lowIndex = v;
          this.hasLowPc = k === K_ADDR || k === K_ADDRX;
          break;
        case C.DW_AT_high_pc:
          if (k === K_ADDR) this.highPc = v;
          else if (k === K_ADDRX) highIndex = v;
          else if (k === K_CONST) this.highPcSize = v;
          break;
        case C.DW_AT_ranges:
          if (k === K_SEC_OFFSET || k === K_RNGLISTX || k === K_CONST) {
            this.rangesKind = k;
            this.rangesValue = v;
          }
          break;
        case C.DW_AT_stmt_list:
          if (k === K_SEC_OFFSET || k === K_CONST) this.stmtList = v;
          break;
        case C.DW_AT_comp_dir:
          compDir = { kind: k, value: v };
          break;
        case C.DW_AT_dwo_name:
        case C.DW_AT_GNU_dwo_name:
          dwoName = { kind: k, value: v };
          break;
        case C.DW_AT_str_offsets_base:
          this.strOffsetsBase = v;
          break;
        case C.DW_AT_addr_base:
        case C.DW_AT_GNU_addr_base:
          this.addrBase = v;
          break;
        case C.DW_AT_rnglists_base:
          this.rnglistsBase = v;
          break;
        case C.DW_AT_GNU_ranges_base:
          this.gnuRangesBase = v;
          break;
      }
    }
    if (c.pos > this.end) throw new DwarfError(`unit at ${this.offset}: root entry runs past the unit`);
    // Indexed values need the bases, which may come after them.
    if (lowIndex >= 0) this.lowPc = this.addrAt(lowIndex);
    if (highIndex >= 0) this.highPc = this.addrAt(highIndex);
    if (compDir) this.compDir = this.str(compDir.kind, compDir.value) ?? "";
    if (dwoName) this.dwoName = this.str(dwoName.kind, dwoName.value) ?? "";
    return this;
  }

  /** Entry `index` of `.debug_addr` for this unit (through its skeleton for a split unit). */
  addrAt(index: number): number {
    const sec = this.addrFile.section("debug_addr");
    const size = this.addrSize;
    const at = this.addrBase + index * size;
    if (!sec || !(at >= 0 && at + size <= sec.length)) {
      throw new DwarfError(`unit at ${this.offset}: .debug_addr entry ${index} (base ${this.addrBase}) out of bounds`);
    }
    return new Cursor(sec, this.addrFile.le, at).addr(size);
  }

  /** A string attribute's text, or undefined when it cannot be read. */
  str(kind: number, value: number): string | undefined {
    const f = this.file;
    switch (kind) {
      case K_STRP:
        return f.strAt("debug_str", value);
      case K_LINE_STRP:
        return f.strAt("debug_line_str", value);
      case K_STRING:
        return f.inlineStr(value);
      case K_STRP_ALT:
        return f.alt?.strAt("debug_str", value);
      case K_STRX: {
        const offs = f.section("debug_str_offsets");
        const at = this.strOffsetsBase + value * this.offSize;
        if (!offs || !(at >= 0 && at + this.offSize <= offs.length)) return undefined;
        return f.strAt("debug_str", new Cursor(offs, f.le, at).offset(this.offSize));
      }
    }
    return undefined;
  }
}

/** Bytes enough for any unit header (the longest: a 64-bit DWARF 5 type unit's, 40). */
const HEADER_BYTES = 64;

const TWO_32 = 4294967296;

/** An offset of `size` bytes (4 or 8) at `at`, as a number (inexact past 2^53, as Cursor.u64: bounds checks reject it). */
function offsetAt(v: DataView, at: number, size: number, le: boolean): number {
  if (size === 4) return v.getUint32(at, le);
  return le
    ? v.getUint32(at + 4, true) * TWO_32 + v.getUint32(at, true)
    : v.getUint32(at, false) * TWO_32 + v.getUint32(at + 4, false);
}

/** Header fields recorded per unit walked (offset, dieStart, end, version, unitType, addrSize, offSize, abbrevOffset). */
const FIELDS = 8;

/**
 * The unit headers of a `.debug_info`, walked in order as far as asked:
 * a lookup that needs one unit near the start walks (and has inflated)
 * only the section's bytes up to it. Stops at the first header that cannot
 * be read (what came before stays usable); units of an unknown version are
 * passed over. A walk records each header's fields as numbers and makes a
 * {@link Unit} only when one is asked for: a first lookup in libc's debug
 * file walks 1,700 headers to reach a unit 78% into the section, and an
 * object and a cursor per header cost it several milliseconds of code the
 * engine had not compiled yet.
 */
export class UnitList {
  readonly #file: UnitFile;
  /** {@link FIELDS} numbers per unit walked, sorted by offset. */
  readonly #hdr: number[] = [];
  /** DWO ids of the units that have one, by index. */
  readonly #dwoIds = new Map<number, bigint>();
  /** The units made so far, by index. */
  readonly #made: (Unit | undefined)[] = [];
  #pos = 0;
  #done = false;
  #buf: Uint8Array | undefined;
  #view: DataView | undefined;

  constructor(file: UnitFile) {
    this.#file = file;
  }

  /** Whether every unit has been walked. */
  get done(): boolean {
    return this.#done;
  }

  /** Units walked so far. */
  get count(): number {
    return this.#hdr.length / FIELDS;
  }

  /** The units walked so far, sorted by offset (each made now if not yet). */
  get units(): Unit[] {
    const out: Unit[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.unit(i));
    return out;
  }

  /** Unit `i` of those walked (in offset order), made on first use. */
  unit(i: number): Unit {
    let u = this.#made[i];
    if (!u) {
      const h = this.#hdr, k = i * FIELDS;
      u = new Unit(
        this.#file,
        h[k],
        h[k + 1],
        h[k + 2],
        h[k + 3],
        h[k + 4],
        h[k + 5],
        h[k + 6],
        h[k + 7],
        this.#dwoIds.get(i),
      );
      this.#made[i] = u;
    }
    return u;
  }

  /**
   * Walks on until a unit holds `offset` or lies past it (or the section
   * ends); `ahead` asks the section for that many bytes at once (the caller
   * expects the unit to end before it).
   */
  walkTo(offset: number, ahead = offset): void {
    while (!this.#done && this.#pos <= offset) this.#next(ahead);
  }

  /** Every unit (the whole section walked). */
  all(): Unit[] {
    this.walkTo(Infinity);
    return this.units;
  }

  /** The unit walked whose entries hold `offset`, or undefined. */
  holding(offset: number): Unit | undefined {
    const h = this.#hdr;
    let lo = 0, hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (h[mid * FIELDS] <= offset) lo = mid + 1;
      else hi = mid;
    }
    const k = (lo - 1) * FIELDS;
    return lo > 0 && offset >= h[k + 1] && offset < h[k + 2] ? this.unit(lo - 1) : undefined;
  }

  /** The unit walked whose header is at `offset`, or undefined. */
  startingAt(offset: number): Unit | undefined {
    const h = this.#hdr;
    let lo = 0, hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (h[mid * FIELDS] < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.count && h[lo * FIELDS] === offset ? this.unit(lo) : undefined;
  }

  #next(ahead: number): void {
    const file = this.#file;
    const pos = this.#pos;
    let info = file.infoUpTo(Math.max(pos + HEADER_BYTES, ahead));
    this.#done = true;
    if (pos + 4 > info.length) return;
    let v = this.#viewOf(info);
    const le = file.le;
    let p = pos;
    let len = v.getUint32(p, le);
    p += 4;
    let offSize = 4;
    if (len === 0xffffffff) {
      if (p + 8 > info.length) return;
      len = offsetAt(v, p, 8, le);
      p += 8;
      offSize = 8;
    } else if (len >= 0xfffffff0) return;
    const end = p + len;
    if (end > info.length) {
      info = file.infoUpTo(end);
      v = this.#viewOf(info);
    }
    if (end > info.length || len < 2) return;
    this.#done = false;
    this.#pos = end;
    const version = v.getUint16(p, le);
    p += 2;
    if (version < 2 || version > 5) return;
    let unitType: number = C.DW_UT_compile;
    let addrSize: number, abbrevOffset: number;
    let dwoId: bigint | undefined;
    if (version === 5) {
      if (p + 2 + offSize > end) return this.#stop();
      unitType = v.getUint8(p);
      addrSize = v.getUint8(p + 1);
      abbrevOffset = offsetAt(v, p + 2, offSize, le);
      p += 2 + offSize;
      if (unitType === C.DW_UT_skeleton || unitType === C.DW_UT_split_compile) {
        if (p + 8 > end) return this.#stop();
        dwoId = v.getBigUint64(p, le);
        p += 8;
      } else if (unitType === C.DW_UT_type || unitType === C.DW_UT_split_type) {
        p += 8 + offSize;
      }
    } else {
      if (p + offSize + 1 > end) return this.#stop();
      abbrevOffset = offsetAt(v, p, offSize, le);
      addrSize = v.getUint8(p + offSize);
      p += offSize + 1;
    }
    if (p <= end) {
      if (dwoId !== undefined) this.#dwoIds.set(this.count, dwoId);
      this.#hdr.push(pos, p, end, version, unitType, addrSize, offSize, abbrevOffset);
    }
  }

  /** A DataView on `info`, made once per buffer (the section grows by new buffers). */
  #viewOf(info: Uint8Array): DataView {
    if (info !== this.#buf) {
      this.#buf = info;
      this.#view = new DataView(info.buffer, info.byteOffset, info.length);
    }
    return this.#view!;
  }

  #stop(): void {
    this.#done = true;
  }
}

/** Walks every unit header of a `.debug_info` (see {@link UnitList}). */
export function walkUnits(file: UnitFile): Unit[] {
  return new UnitList(file).all();
}
