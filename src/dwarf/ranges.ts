/**
 * Address ranges of an entry (2.17): `low_pc` + `high_pc` (an address, or
 * a size when of constant class), or `DW_AT_ranges` into `.debug_ranges`
 * (DWARF 2-4) or `.debug_rnglists` (DWARF 5, 7.25), and the
 * `.debug_aranges` index (6.1.2).
 *
 * Like gimli: entries starting at a tombstone (-1, -2) and empty or
 * inverted ranges are skipped. Every list is bounded by its section and by
 * a budget of entries shared by the caller, so a hostile list cannot loop.
 * @module
 */
import * as C from "./constants.ts";
import { addrAdd, Cursor, DwarfError, goodRange, isTombstone } from "./cursor.ts";
import { K_RNGLISTX } from "./forms.ts";
import type { Unit } from "./unit.ts";

/** Receives one range `[begin, end)`. */
export type RangeSink = (begin: number, end: number) => void;

/** Range-list entries read per unit parse, at most (a list of the whole space repeated stays bounded). */
export const MAX_RANGE_ENTRIES = 1_000_000;

/** A running count of range-list entries read, shared by one parse. */
export interface RangeBudget {
  left: number;
}

/**
 * Calls `sink` for each range of an entry given its attributes: `low`
 * (NaN when absent), `high` (an address, NaN when absent), `size` (NaN when
 * absent), and `DW_AT_ranges` (`rangesKind` 0 when absent). Returns whether
 * any range was given.
 */
export function entryRanges(
  unit: Unit,
  low: number,
  high: number,
  size: number,
  rangesKind: number,
  rangesValue: number,
  budget: RangeBudget,
  sink: RangeSink,
): boolean {
  if (rangesKind !== 0) return rangeList(unit, rangesKind, rangesValue, budget, sink);
  if (low !== low || isTombstone(low, unit.addrSize)) return false;
  const end = high === high ? high : size === size ? addrAdd(low, size, unit.addrSize) : NaN;
  if (!goodRange(low, end)) return false;
  sink(low, end);
  return true;
}

/** The ranges of a `DW_AT_ranges` value; returns whether any was given. */
export function rangeList(unit: Unit, kind: number, value: number, budget: RangeBudget, sink: RangeSink): boolean {
  // A split unit's base address is its skeleton's.
  const base = unit.skeleton ? unit.skeleton.lowPc : unit.lowPc;
  if (unit.version >= 5) {
    const sec = unit.file.section("debug_rnglists");
    if (!sec) throw new DwarfError(`unit at ${unit.offset}: DW_AT_ranges without .debug_rnglists`);
    let offset = value;
    if (kind === K_RNGLISTX) {
      const at = unit.rnglistsBase + value * unit.offSize;
      if (!(at >= 0 && at + unit.offSize <= sec.length)) {
        throw new DwarfError(`unit at ${unit.offset}: rnglistx ${value} out of bounds`);
      }
      offset = unit.rnglistsBase + new Cursor(sec, unit.file.le, at).offset(unit.offSize);
    }
    return rnglist(unit, sec, offset, base, budget, sink);
  }
  // A DWARF 4 split unit's offsets are relative to its skeleton's DW_AT_GNU_ranges_base, in the main file.
  const owner = unit.skeleton ?? unit;
  const sec = owner.file.section("debug_ranges");
  if (!sec) throw new DwarfError(`unit at ${unit.offset}: DW_AT_ranges without .debug_ranges`);
  const offset = unit.skeleton ? value + unit.skeleton.gnuRangesBase : value;
  return debugRanges(unit, sec, owner.file.le, offset, base, budget, sink);
}

function debugRanges(
  unit: Unit,
  sec: Uint8Array,
  le: boolean,
  offset: number,
  base: number,
  budget: RangeBudget,
  sink: RangeSink,
): boolean {
  const size = unit.addrSize;
  if (!(offset >= 0 && offset <= sec.length)) throw new DwarfError(`.debug_ranges offset ${offset} out of bounds`);
  const c = new Cursor(sec, le, offset);
  let any = false;
  while (c.pos + 2 * size <= sec.length) {
    if (--budget.left < 0) throw new DwarfError("more range-list entries than the reader reads", "too-large");
    const begin = c.addr(size);
    const end = c.addr(size);
    if (begin === 0 && end === 0) return any;
    if (isMaxAddr(begin, size)) {
      base = end;
      continue;
    }
    if (isTombstone(base, size)) continue;
    const b = addrAdd(base, begin, size), e = addrAdd(base, end, size);
    if (isTombstone(b, size) || !goodRange(b, e)) continue;
    sink(b, e);
    any = true;
  }
  return any;
}

/** The all-ones address (a base-address selection entry in .debug_ranges). */
function isMaxAddr(a: number, size: number): boolean {
  return size === 8 ? a === -1 : a === 2 ** (size * 8) - 1;
}

function rnglist(
  unit: Unit,
  sec: Uint8Array,
  offset: number,
  base: number,
  budget: RangeBudget,
  sink: RangeSink,
): boolean {
  const size = unit.addrSize;
  if (!(offset >= 0 && offset < sec.length)) throw new DwarfError(`.debug_rnglists offset ${offset} out of bounds`);
  const c = new Cursor(sec, unit.file.le, offset);
  let any = false;
  for (;;) {
    if (--budget.left < 0) throw new DwarfError("more range-list entries than the reader reads", "too-large");
    if (c.pos >= sec.length) throw new DwarfError(`.debug_rnglists list at ${offset} runs off the section`);
    const kind = c.u8();
    let b: number, e: number;
    switch (kind) {
      case C.DW_RLE_end_of_list:
        return any;
      case C.DW_RLE_base_addressx:
        base = unit.addrAt(c.uleb());
        continue;
      case C.DW_RLE_base_address:
        base = c.addr(size);
        continue;
      case C.DW_RLE_startx_endx:
        b = unit.addrAt(c.uleb());
        e = unit.addrAt(c.uleb());
        break;
      case C.DW_RLE_startx_length:
        b = unit.addrAt(c.uleb());
        e = addrAdd(b, c.uleb(), size);
        break;
      case C.DW_RLE_offset_pair: {
        const lo = c.uleb(), hi = c.uleb();
        if (isTombstone(base, size)) continue;
        b = addrAdd(base, lo, size);
        e = addrAdd(base, hi, size);
        break;
      }
      case C.DW_RLE_start_end:
        b = c.addr(size);
        e = c.addr(size);
        break;
      case C.DW_RLE_start_length:
        b = c.addr(size);
        e = addrAdd(b, c.uleb(), size);
        break;
      default:
        throw new DwarfError(`.debug_rnglists: unknown entry kind ${kind} at ${c.pos - 1}`);
    }
    if (isTombstone(b, size) || !goodRange(b, e)) continue;
    sink(b, e);
    any = true;
  }
}

/** One `.debug_aranges` set that checked out: the unit it names and its ranges as [begin, end, ...]. */
export interface ArangeSet {
  readonly unitOffset: number;
  readonly ranges: number[];
}

/**
 * The sets of `.debug_aranges` whose header is sound (version 2 or 3, no
 * segment selectors, an address size of 1, 2, 4 or 8, inside the section);
 * unsound sets are left out (their units are then indexed from their own
 * entries). Empty tuples and tombstones are skipped, as gimli does.
 */
export function readAranges(sec: Uint8Array, le: boolean): ArangeSet[] {
  const sets: ArangeSet[] = [];
  let ranges: number[] = [];
  scanAranges(sec, le, (unitOffset) => {
    ranges = [];
    sets.push({ unitOffset, ranges });
  }, (b, e) => ranges.push(b, e));
  return sets;
}

/**
 * What a first lookup needs of `.debug_aranges` without building an index:
 * the unit offset of every sound set ({@link readAranges}' sets, in order)
 * and the ranges holding `a`, as `[begin, end, set]` triples in the order a
 * RangeIndex over all of them visits them (the last-starting first;
 * equal ranges, the later first).
 */
export function arangesHolding(sec: Uint8Array, le: boolean, a: number): { offsets: number[]; hits: number[][] } {
  const offsets: number[] = [];
  const hits: number[][] = [];
  scanAranges(sec, le, (unitOffset) => offsets.push(unitOffset), (b, e) => {
    if (b <= a && a < e) hits.push([b, e, offsets.length - 1, hits.length]);
  });
  hits.sort((x, y) => y[0] - x[0] || y[1] - x[1] || y[3] - x[3]);
  return { offsets, hits: hits.map((h) => h.slice(0, 3)) };
}

/** The sound sets of `.debug_aranges` (see {@link readAranges}): `onSet` per set, then `onRange` per usable range. */
function scanAranges(
  sec: Uint8Array,
  le: boolean,
  onSet: (unitOffset: number) => void,
  onRange: (begin: number, end: number) => void,
): void {
  let pos = 0;
  while (pos + 4 <= sec.length) {
    const c = new Cursor(sec, le, pos);
    let len = c.u32();
    let offSize = 4;
    if (len === 0xffffffff) {
      if (c.pos + 8 > sec.length) break;
      len = c.u64();
      offSize = 8;
    } else if (len >= 0xfffffff0) break;
    const end = c.pos + len;
    if (end > sec.length) break;
    pos = end;
    if (c.pos + 4 + offSize > end) continue;
    const version = c.u16();
    const unitOffset = c.offset(offSize);
    const size = c.u8();
    const seg = c.u8();
    if ((version !== 2 && version !== 3) || seg !== 0 || (size !== 1 && size !== 2 && size !== 4 && size !== 8)) {
      continue;
    }
    // Tuples start at a multiple of their size from the set's start.
    const start = end - len - (offSize === 8 ? 12 : 4);
    const rel = c.pos - start;
    c.pos += (2 * size - (rel % (2 * size))) % (2 * size);
    onSet(unitOffset);
    while (c.pos + 2 * size <= end) {
      const b = c.addr(size);
      const n = size === 8 ? c.u64() : c.addr(size);
      if (b === 0 && n === 0) break;
      if (n === 0 || isTombstone(b, size)) continue;
      const e = addrAdd(b, n, size);
      if (goodRange(b, e)) onRange(b, e);
    }
  }
}
