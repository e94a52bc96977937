/**
 * Functions of a unit: every `DW_TAG_subprogram` with code, as sorted
 * address ranges (one scan over the unit's entries, skipping every other
 * entry by its abbreviation's fixed size where it has one), and for a
 * function an address falls in, the tree of its `DW_TAG_inlined_subroutine`
 * entries (parsed once per function), sorted by inline depth then address
 * for one binary search per depth (gimli's layout).
 * @module
 */
import type { Abbrev, AbbrevTable } from "./abbrev.ts";
import * as C from "./constants.ts";
import { Cursor, DwarfError } from "./cursor.ts";
import { K_ADDR, K_ADDRX, K_CONST, K_REF, K_RNGLISTX, K_SEC_OFFSET, readValue, skipForm, valueKind } from "./forms.ts";
import { RangeIndex } from "./range_index.ts";
import { entryRanges, MAX_RANGE_ENTRIES, type RangeBudget } from "./ranges.ts";
import type { Unit } from "./unit.ts";

/** Entries nested deeper than this in one function are not real (and would cost a deep stack). */
export const MAX_DEPTH = 4096;

/** Skips an entry's attributes. */
function skipAttrs(c: Cursor, ab: Abbrev, attrs: readonly number[], unit: Unit): void {
  if (ab.fixed >= 0) {
    c.pos += ab.fixed;
    return;
  }
  for (let i = ab.start; i < ab.end; i += 3) {
    const size = attrs[i + 2];
    if (size >= 0) c.pos += size;
    else skipForm(c, attrs[i + 1], unit);
  }
}

/** Tags whose children (members, enumerators, parameter types, dimensions) are never code. */
function isType(tag: number): boolean {
  return tag === C.DW_TAG_structure_type || tag === C.DW_TAG_class_type || tag === C.DW_TAG_union_type ||
    tag === C.DW_TAG_enumeration_type || tag === C.DW_TAG_subroutine_type || tag === C.DW_TAG_array_type;
}

/**
 * Moves the cursor to the entry's DW_AT_sibling (its attributes start at
 * `attrsAt`) and returns true; false, the cursor unmoved, when the sibling
 * is not strictly ahead within the unit (a lying one could loop).
 */
function jump(c: Cursor, ab: Abbrev, attrsAt: number, unit: Unit): boolean {
  const save = c.pos;
  c.pos = attrsAt + ab.sibling;
  const target = readValue(c, ab.siblingForm, unit, unit.offset, 0);
  if (valueKind === K_REF && target > attrsAt && target <= unit.end) {
    c.pos = target;
    return true;
  }
  c.pos = save;
  return false;
}

/** Range attributes of the entry being read (NaN / 0 when absent). */
class RangeAttrs {
  low = NaN;
  high = NaN;
  size = NaN;
  rangesKind = 0;
  rangesValue = 0;
  callFile = -1;
  callLine = 0;
  callColumn = 0;
  callDisc = 0;

  reset(): void {
    this.low = this.high = this.size = NaN;
    this.rangesKind = this.rangesValue = 0;
    this.callFile = -1;
    this.callLine = this.callColumn = this.callDisc = 0;
  }

  /** Reads the entry's attributes, keeping those of ranges and call sites. */
  read(c: Cursor, ab: Abbrev, table: AbbrevTable, unit: Unit): void {
    this.reset();
    const attrs = table.attrs;
    for (let i = ab.start; i < ab.end; i += 3) {
      const name = attrs[i];
      if (
        name !== C.DW_AT_low_pc && name !== C.DW_AT_high_pc && name !== C.DW_AT_ranges &&
        name !== C.DW_AT_call_file && name !== C.DW_AT_call_line && name !== C.DW_AT_call_column &&
        name !== C.DW_AT_GNU_discriminator
      ) {
        const size = attrs[i + 2];
        if (size >= 0) c.pos += size;
        else skipForm(c, attrs[i + 1], unit);
        continue;
      }
      const v = readValue(c, attrs[i + 1], unit, unit.offset, table.implicit(i));
      const k = valueKind;
      switch (name) {
        case C.DW_AT_low_pc:
          if (k === K_ADDR) this.low = v;
          else if (k === K_ADDRX) this.low = unit.addrAt(v);
          break;
        case C.DW_AT_high_pc:
          if (k === K_ADDR) this.high = v;
          else if (k === K_ADDRX) this.high = unit.addrAt(v);
          else if (k === K_CONST) this.size = v;
          break;
        case C.DW_AT_ranges:
          if (k === K_SEC_OFFSET || k === K_RNGLISTX || k === K_CONST) {
            this.rangesKind = k;
            this.rangesValue = v;
          }
          break;
        case C.DW_AT_call_file:
          if (k === K_CONST) this.callFile = v;
          break;
        // Lines, columns and discriminators are 32-bit (binutils' and LLVM's width): a wider or negative one
        // (data8, sdata) is no compiler's and would read otherwise in the columnar form: unknown (0).
        case C.DW_AT_call_line:
          if (k === K_CONST) this.callLine = u32OrZero(v);
          break;
        case C.DW_AT_call_column:
          if (k === K_CONST) this.callColumn = u32OrZero(v);
          break;
        case C.DW_AT_GNU_discriminator:
          if (k === K_CONST) this.callDisc = u32OrZero(v);
          break;
      }
    }
  }
}

/** The functions of one unit. */
export class Functions {
  readonly unit: Unit;
  readonly #ranges: RangeIndex;
  /** `.debug_info` offset of each function's entry. */
  readonly #offsets: number[];
  readonly #inlines: (InlineTree | undefined)[];
  readonly #names: (string | undefined)[];
  byteSize: number;

  /**
   * Whether the scan jumped over the children of functions or types
   * (DW_AT_sibling): a GNU C nested function or a local class's member
   * function there is only found by a deep scan, which the lookup makes when
   * an address of the unit finds no function.
   */
  readonly shallow: boolean;

  /** Scans the unit; `deep` also walks the children of functions and types. */
  constructor(unit: Unit, deep = false) {
    this.unit = unit;
    unit.root();
    const info = unit.file.info;
    const end = unit.end;
    const c = new Cursor(info, unit.file.le, unit.dieStart);
    const abbrevs = unit.abbrevs;
    const attrs = new RangeAttrs();
    const flat: number[] = [];
    const offsets: number[] = [];
    const budget: RangeBudget = { left: MAX_RANGE_ENTRIES };
    let fn = 0;
    const sink = (b: number, e: number) => flat.push(b, e, fn);
    const dense = abbrevs.dense;
    let shallow = false;
    while (c.pos < end) {
      const at = c.pos;
      let code = info[c.pos];
      if (code < 0x80) c.pos++;
      else code = c.uleb();
      if (code === 0) continue;
      const ab = dense[code] ?? abbrevs.get(code);
      if (!ab) throw new DwarfError(`entry at ${at}: unknown abbreviation ${code}`);
      const attrsAt = c.pos;
      if (ab.tag === C.DW_TAG_subprogram) {
        attrs.read(c, ab, abbrevs, unit);
        fn = offsets.length;
        if (entryRanges(unit, attrs.low, attrs.high, attrs.size, attrs.rangesKind, attrs.rangesValue, budget, sink)) {
          offsets.push(at);
        }
        // A function's children (parameters, variables, blocks, inlined calls) rarely hold a function:
        // a GNU C nested one, or a member of a local class (g++ puts a lambda's out-of-line operator()
        // in its closure type, inside the enclosing function's entry, abstract instance or not). Jumped
        // over here; the deep scan walks them.
        if (!deep && ab.children && ab.sibling >= 0 && jump(c, ab, attrsAt, unit)) shallow = true;
      } else if (!deep && ab.children && ab.sibling >= 0 && isType(ab.tag) && jump(c, ab, attrsAt, unit)) {
        // A type's members: code only in a local class's (above), found by the deep scan.
        shallow = true;
      } else if (ab.fixed >= 0) c.pos += ab.fixed;
      else skipAttrs(c, ab, abbrevs.attrs, unit);
    }
    this.shallow = shallow;
    if (c.pos > end) throw new DwarfError(`unit at ${unit.offset}: its last entry runs past the unit`);
    this.#ranges = new RangeIndex(flat);
    this.#offsets = offsets;
    this.#inlines = new Array(offsets.length);
    this.#names = new Array(offsets.length);
    this.byteSize = 128 + this.#ranges.byteSize + offsets.length * 24;
  }

  /** Set by {@link find}: up to this address (excluded) from its `addr` on, the same answer. */
  until = 0;

  /** The function holding `addr` (an index), or -1; sets {@link until}. */
  find(addr: number): number {
    const r = this.#ranges.find(addr);
    this.until = this.#ranges.until;
    return r < 0 ? -1 : this.#ranges.item[r];
  }

  /** The range of function `fn` holding `addr`: [start, end]. */
  rangeOf(fn: number, addr: number): [number, number] {
    const r = this.#ranges.find(addr);
    return r >= 0 && this.#ranges.item[r] === fn ? [this.#ranges.begin[r], this.#ranges.end[r]] : [NaN, NaN];
  }

  /** The name of function `fn` (kept per function: the file's cache is a Map by offset). */
  name(fn: number): string {
    let s = this.#names[fn];
    if (s === undefined) {
      s = this.unit.file.nameOf(this.#offsets[fn]);
      this.#names[fn] = s;
    }
    return s;
  }

  /** The inline tree of function `fn` (parsed on first use). */
  inlines(fn: number): InlineTree {
    let t = this.#inlines[fn];
    if (!t) {
      t = new InlineTree(this.unit, this.#offsets[fn]);
      this.#inlines[fn] = t;
      this.byteSize += t.byteSize;
    }
    return t;
  }
}

/** The inlined calls inside one function. */
export class InlineTree {
  readonly unit: Unit;
  readonly #ranges: RangeIndex;
  /** Each inlined call's entry (its name is its own, or its abstract origin's). */
  readonly #entry: number[] = [];
  readonly callFile: number[] = [];
  readonly callLine: number[] = [];
  readonly callColumn: number[] = [];
  /** The call site's DW_AT_GNU_discriminator (clang's, with -fdebug-info-for-profiling), 0 without. */
  readonly callDisc: number[] = [];
  readonly #names: (string | undefined)[] = [];
  readonly byteSize: number;

  constructor(unit: Unit, offset: number) {
    this.unit = unit;
    const info = unit.file.info;
    const end = unit.end;
    const c = new Cursor(info, unit.file.le, offset);
    const abbrevs = unit.abbrevs;
    const top = abbrevs.get(c.uleb());
    if (!top) throw new DwarfError(`function entry at ${offset}: unknown abbreviation`);
    skipAttrs(c, top, abbrevs.attrs, unit);
    // Inline depth of the entries at each tree depth below the function.
    const inl: number[] = [0];
    const flat: number[] = []; // begin, end, entry; depth kept apart
    const depths: number[] = [];
    const budget: RangeBudget = { left: MAX_RANGE_ENTRIES };
    const attrs = new RangeAttrs();
    let entry = 0, cur = 0;
    const sink = (b: number, e: number) => {
      flat.push(b, e, entry);
      depths.push(cur);
    };
    let depth = top.children ? 1 : 0;
    let skipBelow = 0; // > 0: inside a nested function's subtree, skipped down to this depth
    while (depth > 0) {
      if (c.pos >= end) throw new DwarfError(`function entry at ${offset}: its children run past the unit`);
      const at = c.pos;
      const code = c.uleb();
      if (code === 0) {
        depth--;
        if (skipBelow > depth) skipBelow = 0;
        continue;
      }
      const ab = abbrevs.get(code);
      if (!ab) throw new DwarfError(`entry at ${at}: unknown abbreviation ${code}`);
      cur = inl[depth - 1];
      if (skipBelow === 0 && ab.tag === C.DW_TAG_inlined_subroutine) {
        attrs.read(c, ab, abbrevs, unit);
        entry = this.#entry.length;
        this.#entry.push(at);
        this.callFile.push(attrs.callFile);
        this.callLine.push(attrs.callLine);
        this.callColumn.push(attrs.callColumn);
        this.callDisc.push(attrs.callDisc);
        entryRanges(unit, attrs.low, attrs.high, attrs.size, attrs.rangesKind, attrs.rangesValue, budget, sink);
        if (ab.children) inl[depth] = cur + 1;
      } else {
        // A function nested in this one (GNU C) is a function of its own, found by the unit scan;
        // a type's members are no code: both jumped over when DW_AT_sibling allows, else walked.
        const attrsAt = c.pos;
        const skippable = ab.tag === C.DW_TAG_subprogram || isType(ab.tag);
        if (ab.children && skippable && ab.sibling >= 0 && jump(c, ab, attrsAt, unit)) continue;
        skipAttrs(c, ab, abbrevs.attrs, unit);
        if (skipBelow === 0 && ab.tag === C.DW_TAG_subprogram && ab.children) skipBelow = depth + 1;
        if (ab.children) inl[depth] = cur;
      }
      if (ab.children) {
        if (++depth > MAX_DEPTH) {
          throw new DwarfError(`function entry at ${offset}: nested deeper than ${MAX_DEPTH}`, "too-large");
        }
      }
    }
    this.#ranges = new RangeIndex(flat, depths);
    this.byteSize = 128 + this.#ranges.byteSize + this.#entry.length * 56;
  }

  /** Set by {@link chain}: up to this address (excluded) from its `addr` on, the same chain. */
  until = 0;

  /**
   * The entries whose ranges hold `addr`, outermost first: written to
   * `out` from its start (its items past the count are stale), and their
   * count returned (emptying an array costs V8 more than the search); sets
   * {@link until}.
   */
  chain(addr: number, out: number[]): number {
    const ranges = this.#ranges;
    const ds = ranges.groupStart;
    let until = Infinity;
    let n = 0;
    for (let d = 0; d + 1 < ds.length; d++) {
      const r = ranges.find(addr, ds[d], ds[d + 1]);
      // Each depth's answer holds up to its bound; past the first depth without one, none is asked.
      if (ranges.until < until) until = ranges.until;
      if (r < 0) break;
      if (n < out.length) out[n] = ranges.item[r];
      else out.push(ranges.item[r]);
      n++;
    }
    this.until = until;
    return n;
  }

  /** The name of inlined call `e` (its abstract origin's, through further origins). */
  name(e: number): string {
    let s = this.#names[e];
    if (s === undefined) {
      s = this.unit.file.nameOf(this.#entry[e]);
      this.#names[e] = s;
    }
    return s;
  }
}

/** `v` when it is a 32-bit unsigned value, else 0 (unknown). */
function u32OrZero(v: number): number {
  return v >= 0 && v <= 0xffffffff ? v : 0;
}
