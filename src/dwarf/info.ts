/**
 * {@link DwarfInfo}: source lines and inline frames of addresses, from one
 * file's DWARF (plus its dwz supplementary file and split-DWARF files).
 *
 * Lazy: nothing is read until the first lookup; then the unit headers are
 * walked and indexed by address from `.debug_aranges` (for units it covers
 * soundly) or the units' own root entries; a unit's functions and line
 * table are parsed when an address first falls in it, and a function's
 * inline tree when an address first falls in that function. Parsed units
 * are kept least-recently-used first within `maxBytes`.
 * @module
 */
import * as C from "./constants.ts";
import { addrFromBigint, addrToBigint, DwarfError } from "./cursor.ts";
import { DwarfFile } from "./file.ts";
import { Functions } from "./functions.ts";
import { LineTable } from "./lines.ts";
import { RangeIndex } from "./range_index.ts";
import { arangesHolding, entryRanges, MAX_RANGE_ENTRIES, readAranges } from "./ranges.ts";
import { DwpIndex, splitUnitOf } from "./split.ts";
import type {
  DwarfFrame,
  DwarfFunction,
  DwarfMiss,
  DwarfOptions,
  DwarfReason,
  DwarfSections,
  FrameColumns,
  FrameMaker,
} from "./types.ts";
import type { Unit, UnitFile } from "./unit.ts";

const DEFAULT_MAX_BYTES = 256 << 20;

/**
 * The units of the main file by address: first by `.debug_aranges` (its
 * sets name units by offset, so a lookup there walks and reads
 * `.debug_info` only up to the unit it needs), then, when that does not
 * answer, every unit by its own ranges.
 */
interface Index {
  /** The units' offsets of .debug_aranges' sound sets, by set; a set's unit when found (null: none there). */
  readonly setOffsets: number[];
  readonly setUnits: (Unit | null | undefined)[];
  /** The sets' offsets in ascending order (where a unit is expected to end: the next set's unit). */
  readonly sortedOffsets: number[];
  /** .debug_aranges' ranges (item: the set). */
  readonly ranges: RangeIndex;
  /** Every unit, once walked. */
  units: Unit[] | undefined;
  /** The units no sound set names, by their own ranges (item: index in units); built when first needed. */
  rest: RangeIndex | undefined;
  /** The units .debug_aranges covered, by their own ranges (built when .debug_aranges did not answer). */
  own: RangeIndex | undefined;
  /** The offsets of the units a sound set names. */
  readonly covered: Set<number>;
  /** The first unit whose root entry could not be read (it covers nothing). */
  error: DwarfError | undefined;
}

/** A unit's parsed tables, or why they could not be had. */
interface Tables {
  readonly unit: Unit;
  functions: Functions | undefined;
  readonly lines: LineTable | undefined;
  /** Why functions or lines are missing (the first failure). */
  readonly error: DwarfError | undefined;
  /** A skeleton whose split unit could not be loaded. */
  readonly splitMissing: boolean;
  bytes: number;
  /** When it was last used (a clock of lookups): the least recently used go first. */
  used: number;
}

/**
 * The DWARF of one file, read lazily. Pure computation over the bytes it is
 * given; no I/O but through the callbacks of {@link DwarfOptions}.
 */
export class DwarfInfo {
  readonly #main: DwarfFile;
  readonly #options: DwarfOptions;
  readonly #maxBytes: number;
  #index: Index | undefined;
  readonly #lru = new Map<Unit, Tables>();
  #tableBytes = 0;
  #indexBytes = 0;
  #dwp: DwpIndex | null | undefined;
  #indexError: DwarfError | undefined;
  /** Whether a lookup has scanned .debug_aranges without the index ({@link #scanFirst}: the first only). */
  #scanned = false;
  /** The tables asked for last (most lookups fall in the unit of the one before). */
  #last: Tables | undefined;
  #clock = 0;
  /**
   * Set by {@link findFrames}: up to this address (excluded) from its
   * `addr` on, the same frames (the unit, function, line row and inline
   * chain all hold); its `addr` itself when no bound is known (the lookup
   * missed, or took the slow way).
   */
  until = 0;
  /** The unit .debug_aranges named for addresses [#unitFrom, #unitUntil) (a sorted batch's next is mostly there). */
  #unitFrom = Infinity;
  #unitUntil = -Infinity;
  #unit: Unit | undefined;
  /** The .dwo files (or .dwp contributions) read, for their caches' bytes. */
  readonly #splitFiles: UnitFile[] = [];

  constructor(sections: DwarfSections, options: DwarfOptions = {}) {
    if (typeof sections !== "object" || sections === null) {
      throw new TypeError("DwarfInfo: sections must be an object of section bytes");
    }
    if (typeof options !== "object" || options === null) throw new TypeError("DwarfInfo: options must be an object");
    const max = options.maxBytes ?? DEFAULT_MAX_BYTES;
    if (!Number.isSafeInteger(max) || max <= 0) {
      throw new RangeError(`DwarfInfo: maxBytes must be a positive safe integer, got ${max}`);
    }
    this.#maxBytes = max;
    this.#options = options;
    this.#main = new DwarfFile(sections, false);
    if (options.alt) this.#main.alt = new DwarfFile(options.alt, false);
  }

  /**
   * The frames of `addr` (an ELF virtual address of the file), innermost
   * first: `frames[0]` carries the address's own file, line and column,
   * each later frame the call site of the frame before it; the last one is
   * the function the code belongs to. With `inlines` false, one frame: the
   * outermost function's name with the address's own location.
   */
  findFrames(addr: bigint, inlines?: boolean): DwarfFrame[] | DwarfMiss;
  /**
   * The same frames, each made by `make` (called innermost first, in the
   * order of the array it returns) instead of as a {@link DwarfFrame}: a
   * caller that wants frames of its own shape makes each object once.
   */
  findFrames<T>(addr: bigint, inlines: boolean, make: FrameMaker<T>): T[] | DwarfMiss;
  findFrames<T>(
    addr: bigint,
    inlines = true,
    make: FrameMaker<T> = dwarfFrame as FrameMaker<T>,
  ): T[] | DwarfMiss {
    if (typeof addr !== "bigint") throw new TypeError("DwarfInfo.findFrames: addr must be a bigint");
    const a = addrFromBigint(addr);
    if (a !== a) {
      this.until = a;
      return miss("wide-address", `address 0x${addr.toString(16)} is outside the reader's exact range`);
    }
    return this.#made(this.#findAt(a, inlines), make);
  }

  /**
   * {@link findFrames} of an address given as a number, a non-negative
   * safe integer (a batch's, with no bigint made for it).
   */
  findFramesAt<T>(a: number, inlines: boolean, make: FrameMaker<T>): T[] | DwarfMiss {
    if (typeof a !== "number" || !(a >= 0 && a <= Number.MAX_SAFE_INTEGER) || !Number.isInteger(a)) {
      throw new TypeError("DwarfInfo.findFramesAt: the address must be a non-negative safe integer");
    }
    return this.#made(this.#findAt(a, inlines), make);
  }

  /**
   * The frames of the address as {@link findFrames} finds them, left in
   * {@link frames} (its first `count`, innermost first; the number returned), no
   * object made; 0 when there are none ({@link missed} says why). `addr` a
   * bigint, or a number as {@link findFramesAt} takes it. One lookup code for
   * every caller's frames (a callback per frame made V8 compile it for
   * every shape of frame a process used, and the columnar form paid 1.2-1.6x).
   */
  lookup(addr: bigint | number, inlines: boolean): number {
    let a: number;
    if (typeof addr === "number") {
      if (!(addr >= 0 && addr <= Number.MAX_SAFE_INTEGER) || !Number.isInteger(addr)) {
        throw new TypeError("DwarfInfo.lookup: the address must be a bigint or a non-negative safe integer");
      }
      a = addr;
    } else {
      if (typeof addr !== "bigint") throw new TypeError("DwarfInfo.lookup: the address must be a bigint");
      a = addrFromBigint(addr);
      if (a !== a) {
        this.until = a;
        this.missed = miss("wide-address", `address 0x${addr.toString(16)} is outside the reader's exact range`);
        return 0;
      }
    }
    return this.#findAt(a, inlines);
  }

  /** The frames of the last {@link lookup}: its first `count` (what it returned) are the answer. */
  readonly frames: FrameColumns = {
    name: [],
    file: [],
    line: [],
    column: [],
    discriminator: [],
  };

  /** Why the last {@link lookup} found no frames. */
  missed: DwarfMiss | undefined;

  /** The `n` frames of the last lookup made by `make`, or why there were none. */
  #made<T>(n: number, make: FrameMaker<T>): T[] | DwarfMiss {
    if (n === 0) return this.missed!;
    const f = this.frames;
    const out: T[] = new Array(n);
    for (let k = 0; k < n; k++) {
      out[k] = make(f.name[k], f.file[k], f.line[k], f.column[k], k < n - 1, f.discriminator[k]);
    }
    return out;
  }

  /** Sets frame `k` of {@link frames}. */
  #put(k: number, name: string, file: string, line: number, column: number, disc: number): void {
    const f = this.frames;
    if (k < f.name.length) {
      f.name[k] = name;
      f.file[k] = file;
      f.line[k] = line;
      f.column[k] = column;
      f.discriminator[k] = disc;
    } else {
      f.name.push(name);
      f.file.push(file);
      f.line.push(line);
      f.column.push(column);
      f.discriminator.push(disc);
    }
  }

  /** {@link findFrames} of the reader's address number `a` (negative: within 2^53 of 2^64). */
  #findAt(a: number, inlines: boolean): number {
    this.until = a;
    // The common case first: the unit the index names (its last-starting range) answers.
    const index = this.#index;
    if (index) {
      try {
        // .debug_aranges' unit, else (when every unit is indexed) the unit whose own ranges hold it.
        let u: Unit | undefined;
        let unitUntil: number;
        if (a >= this.#unitFrom && a < this.#unitUntil) {
          u = this.#unit;
          unitUntil = this.#unitUntil;
        } else {
          const i = index.ranges.find(a);
          unitUntil = index.ranges.until;
          if (i >= 0) {
            u = this.#setUnit(index, index.ranges.item[i]);
            // Up to unitUntil, .debug_aranges names the same set: its unit again, with no search.
            if (u) {
              this.#unitFrom = a;
              this.#unitUntil = unitUntil;
              this.#unit = u;
            }
          } else if (index.rest) {
            const j = index.rest.find(a);
            if (index.rest.until < unitUntil) unitUntil = index.rest.until;
            if (j >= 0) u = index.units![index.rest.item[j]];
          }
        }
        if (u) {
          const t = this.#tables(u);
          const f = this.#frames(t, a, inlines);
          if (f > 0) {
            if (inlines) this.#recount(t);
            if (unitUntil < this.until) this.until = unitUntil;
            return f;
          }
        }
      } catch (e) {
        // Broken data: the full lookup below says why.
        asDwarfError(e);
      }
    }
    let frames = 0;
    const why = this.#lookup(a, (t) => {
      frames = this.#frames(t, a, inlines);
      if (inlines) this.#recount(t);
      return frames > 0;
    });
    // No bound for the slow way (which unit answers may change within its ranges).
    this.until = a;
    this.missed = frames > 0 ? undefined : why;
    return frames;
  }

  /** The outermost function DWARF places `addr` in, with its range there, or undefined. */
  findFunction(addr: bigint): DwarfFunction | undefined {
    if (typeof addr !== "bigint") throw new TypeError("DwarfInfo.findFunction: addr must be a bigint");
    const a = addrFromBigint(addr);
    if (a !== a) return undefined;
    let out: DwarfFunction | undefined;
    this.#lookup(a, (t) => {
      const fns = this.#functionsAt(t, a);
      const fn = fns ? fns.find(a) : -1;
      if (!fns || fn < 0) return false;
      const [start, end] = fns.rangeOf(fn, a);
      out = { name: fns.name(fn), start: addrToBigint(start), end: addrToBigint(end) };
      return true;
    });
    return out;
  }

  /** Bytes the parsed tables hold now (the section bytes, which the caller owns, not counted). */
  get byteSize(): number {
    let split = 0;
    for (const f of this.#splitFiles) split += f.cacheBytes;
    const alt = this.#main.alt?.cacheBytes ?? 0;
    return this.#indexBytes + this.#tableBytes + this.#main.cacheBytes + alt + split;
  }

  /**
   * Calls `use` with the tables of each unit covering `a` until it returns
   * true (then returns undefined); otherwise says why nothing was found.
   */
  #lookup(a: number, use: (t: Tables) => boolean): DwarfMiss | undefined {
    let firstError: DwarfError | undefined;
    let splitMissing = false;
    const tried = new Set<Unit>();
    const visit = (u: Unit): boolean => {
      if (tried.has(u)) return false;
      tried.add(u);
      const t = this.#tables(u);
      if (use(t)) return true;
      firstError ??= t.error;
      splitMissing ||= t.splitMissing;
      return false;
    };
    try {
      // The first lookup: the units of the .debug_aranges sets holding the address, found by a scan, visited
      // in the index's order before any index is built (a lookup of one address mostly ends here).
      if (!this.#index && !this.#scanned && this.#scanFirst(a, visit)) return undefined;
      const index = this.#ensureIndex();
      const bySet = (i: number) => {
        const u = this.#setUnit(index, index.ranges.item[i]);
        return u !== undefined && visit(u);
      };
      if (index.ranges.some(a, bySet)) return undefined;
      // Then every unit: those no set names by their own ranges, then (.debug_aranges may be
      // incomplete) those it names.
      const units = this.#allUnits(index);
      if (units.length === 0) return miss("no-dwarf", "the file has no DWARF units (.debug_info)");
      const rest = index.rest!;
      if (rest.some(a, (i) => visit(units[rest.item[i]]))) return undefined;
      const own = this.#ownIndex();
      if (own.some(a, (i) => visit(units[own.item[i]]))) return undefined;
    } catch (e) {
      firstError ??= asDwarfError(e);
    }
    // A unit that could not be indexed might have held the address.
    firstError ??= this.#index?.error;
    if (firstError) return miss(firstError.kind, firstError.message);
    if (splitMissing) {
      return miss("split-missing", "the address is in a split-DWARF unit whose .dwo/.dwp was not found");
    }
    return miss("not-covered", "no DWARF unit, function or line covers the address");
  }

  /**
   * The unit's functions, for an address: scanned again, deep, when a shallow
   * scan has no function there (a GNU C nested function's children were skipped).
   */
  #functionsAt(t: Tables, a: number): Functions | undefined {
    const fns = t.functions;
    if (!fns || !fns.shallow || fns.find(a) >= 0) return fns;
    t.functions = new Functions(fns.unit, true);
    this.#recount(t);
    return t.functions;
  }

  /**
   * The frames of `a` in unit tables `t` into {@link frames}: their count, 0
   * for none; sets {@link until} to where they hold.
   */
  #frames(t: Tables, a: number, inlines: boolean): number {
    let fns = t.functions;
    let fn = fns ? fns.find(a) : -1;
    // Not found in a shallow scan: #functionsAt scans deep (searched once when found, the common case).
    if (fn < 0 && fns && fns.shallow) {
      fns = this.#functionsAt(t, a);
      fn = fns ? fns.find(a) : -1;
    }
    const lines = t.lines;
    const row = lines ? lines.find(a) : -1;
    if (fn < 0 && row < 0) return 0;
    let until = fns ? fns.until : Infinity;
    if (lines && lines.until < until) until = lines.until;
    let file = "", line = 0, column = 0, disc = 0;
    if (lines && row >= 0) {
      file = lines.path(lines.file[row]);
      line = lines.line[row];
      column = lines.column[row];
      disc = lines.discriminator(row);
    }
    if (!fns || fn < 0) {
      this.until = until;
      this.#put(0, "", file, line, column, disc);
      return 1;
    }
    const tree = inlines ? fns.inlines(fn) : undefined;
    const depth = tree ? tree.chain(a, CHAIN) : 0;
    if (tree && tree.until < until) until = tree.until;
    this.until = until;
    if (depth === 0 || !tree) {
      this.#put(0, fns.name(fn), file, line, column, disc);
      return 1;
    }
    const chain = CHAIN;
    // The call_file numbering is the split unit's version's (0 is a file from DWARF 5 on).
    const v5 = fns.unit.version >= 5;
    for (let i = depth - 1, k = 0; i >= 0; i--, k++) {
      const e = chain[i];
      this.#put(k, tree.name(e), file, line, column, disc);
      const cf = tree.callFile[e];
      file = lines && cf >= 0 && (cf > 0 || v5) ? lines.path(cf) : "";
      line = tree.callLine[e];
      column = tree.callColumn[e];
      disc = tree.callDisc[e];
    }
    this.#put(depth, fns.name(fn), file, line, column, disc);
    return depth + 1;
  }

  #ensureIndex(): Index {
    if (this.#index) return this.#index;
    const setOffsets: number[] = [];
    const flat: number[] = [];
    const covered = new Set<number>();
    const aranges = this.#main.section("debug_aranges");
    if (aranges) {
      for (const set of readAranges(aranges, this.#main.le)) {
        // A sound set without ranges says the unit has no code (data-only units): believed too,
        // as the own-ranges index still answers where .debug_aranges does not.
        const item = setOffsets.length;
        setOffsets.push(set.unitOffset);
        covered.add(set.unitOffset);
        for (let k = 0; k < set.ranges.length; k += 2) flat.push(set.ranges[k], set.ranges[k + 1], item);
      }
    }
    const ranges = new RangeIndex(flat);
    const sortedOffsets = [...covered].sort((x, y) => x - y);
    this.#indexBytes = ranges.byteSize + setOffsets.length * 24;
    return this.#index = {
      setOffsets,
      setUnits: [],
      sortedOffsets,
      ranges,
      units: undefined,
      rest: undefined,
      own: undefined,
      covered,
      error: this.#indexError,
    };
  }

  /**
   * Before the index is built: visits the units of the .debug_aranges sets
   * holding `a` (as {@link #setUnit} finds them, in the order the index
   * would), until `visit` returns true; whether one did.
   */
  #scanFirst(a: number, visit: (u: Unit) => boolean): boolean {
    // Once: the next lookup builds the index (a scan per lookup would cost a batch the whole section each time).
    this.#scanned = true;
    const aranges = this.#main.section("debug_aranges");
    if (!aranges) return false;
    const { offsets, hits } = arangesHolding(aranges, this.#main.le, a);
    for (const [, , set] of hits) {
      const offset = offsets[set];
      // The next set's unit: .debug_info read that far at once (as #setUnit).
      let ahead = Infinity;
      for (const o of offsets) if (o > offset && o < ahead) ahead = o;
      const u = this.#main.unitStartingAt(offset, ahead === Infinity ? offset : ahead);
      if (u && visit(u)) return true;
    }
    return false;
  }

  /** The unit set `i` of .debug_aranges names, walking .debug_info up to it; undefined when there is none. */
  #setUnit(index: Index, i: number): Unit | undefined {
    const known = index.setUnits[i];
    if (known !== undefined) return known ?? undefined;
    const offset = index.setOffsets[i];
    // The unit should end where the next set's starts: .debug_info is read that far at once.
    const sorted = index.sortedOffsets;
    let lo = 0, hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid] <= offset) lo = mid + 1;
      else hi = mid;
    }
    const ahead = lo < sorted.length ? sorted[lo] : offset;
    const u = this.#main.unitStartingAt(offset, ahead);
    index.setUnits[i] = u ?? null;
    return u;
  }

  /** Every unit (the whole of .debug_info walked), with those no sound set names indexed by their own ranges. */
  #allUnits(index: Index): Unit[] {
    if (index.units) return index.units;
    const units = this.#main.units;
    const flat: number[] = [];
    units.forEach((u, i) => {
      if (!index.covered.has(u.offset)) this.#ownRanges(u, i, flat);
    });
    index.rest = new RangeIndex(flat);
    this.#indexBytes += index.rest.byteSize + units.length * 64;
    return index.units = units;
  }

  /** The units .debug_aranges covered, indexed by their own ranges (built once, when first needed). */
  #ownIndex(): RangeIndex {
    const index = this.#ensureIndex();
    if (!index.own) {
      const flat: number[] = [];
      this.#allUnits(index).forEach((u, i) => {
        if (index.covered.has(u.offset)) this.#ownRanges(u, i, flat);
      });
      index.own = new RangeIndex(flat);
      this.#indexBytes += index.own.byteSize;
    }
    return index.own;
  }

  /** Pushes a unit's own ranges (root entry, else its line sequences, as gimli) to `flat` as item `i`. */
  #ownRanges(u: Unit, i: number, flat: number[]): void {
    const before = flat.length;
    try {
      u.root();
      if (u.unitType === C.DW_UT_partial || u.unitType === C.DW_UT_type || u.unitType === C.DW_UT_split_type) return;
      const sink = (b: number, e: number) => flat.push(b, e, i);
      const budget = { left: MAX_RANGE_ENTRIES };
      if (
        entryRanges(u, u.hasLowPc ? u.lowPc : NaN, u.highPc, u.highPcSize, u.rangesKind, u.rangesValue, budget, sink)
      ) return;
      if (u.stmtList < 0) return;
      const t = this.#tables(u);
      const lines = t.lines;
      if (lines) { for (let s = 0; s < lines.seqStart.length; s++) sink(lines.seqStart[s], lines.seqEnd[s]); }
    } catch (e) {
      // A unit whose root cannot be read covers nothing; the first such failure is remembered.
      flat.length = before;
      this.#indexError ??= asDwarfError(e);
      if (this.#index) this.#index.error ??= this.#indexError;
    }
  }

  /** A unit's tables, parsed on first use and kept within the byte budget. */
  #tables(u: Unit): Tables {
    const last = this.#last;
    if (last && last.unit === u) return last;
    const hit = this.#lru.get(u);
    if (hit) {
      hit.used = ++this.#clock;
      return this.#last = hit;
    }
    let error: DwarfError | undefined;
    let functions: Functions | undefined, lines: LineTable | undefined;
    let splitMissing = false;
    try {
      u.root();
      let fu: Unit | undefined = u;
      if (u.isSkeleton) {
        fu = this.#split(u);
        splitMissing = !fu;
      }
      try {
        if (fu) functions = new Functions(fu);
      } catch (e) {
        error = asDwarfError(e);
      }
      try {
        if (u.stmtList >= 0) lines = new LineTable(u, u.stmtList, this.#maxBytes);
      } catch (e) {
        error ??= asDwarfError(e);
      }
    } catch (e) {
      error = asDwarfError(e);
    }
    const bytes = 64 + (functions?.byteSize ?? 0) + (lines?.byteSize ?? 0);
    const t: Tables = { unit: u, functions, lines, error, splitMissing, bytes, used: ++this.#clock };
    this.#lru.set(u, t);
    this.#tableBytes += bytes;
    this.#evict(t);
    return this.#last = t;
  }

  /** Counts a unit's tables again (an inline tree parsed since grows them), then keeps the budget. */
  #recount(t: Tables): void {
    const bytes = 64 + (t.functions?.byteSize ?? 0) + (t.lines?.byteSize ?? 0);
    if (bytes === t.bytes) return;
    this.#tableBytes += bytes - t.bytes;
    t.bytes = bytes;
    this.#evict(t);
  }

  /**
   * Past the budget, drops the least recently used tables (never `keep`)
   * down to 7/8 of it (so that evictions come in batches: each sorts the
   * tables), then the shared caches.
   */
  #evict(keep: Tables): void {
    if (this.byteSize <= this.#maxBytes) return;
    const target = this.#maxBytes - (this.#maxBytes >> 3);
    const byAge = [...this.#lru.values()].sort((x, y) => x.used - y.used);
    for (const t of byAge) {
      if (this.byteSize <= target) break;
      if (t === keep) continue;
      if (t === this.#last) this.#last = undefined;
      this.#lru.delete(t.unit);
      this.#tableBytes -= t.bytes;
    }
    if (this.byteSize > this.#maxBytes) {
      this.#main.clearCaches();
      this.#main.alt?.clearCaches();
    }
  }

  /** The split unit of skeleton `u` from the .dwp or its .dwo, or undefined. */
  #split(u: Unit): Unit | undefined {
    // Once per skeleton, found or not: its tables may be evicted and made again.
    if (u.split === undefined) {
      u.split = this.#loadSplit(u) ?? null;
      if (u.split) this.#splitFiles.push(u.split.file);
    }
    return u.split ?? undefined;
  }

  #loadSplit(u: Unit): Unit | undefined {
    const id = u.dwoId;
    if (id === undefined) return undefined;
    if (this.#dwp === undefined) {
      this.#dwp = null;
      const s = this.#options.loadDwp?.();
      if (s) {
        try {
          this.#dwp = new DwpIndex(s);
        } catch {
          this.#dwp = null;
        }
      }
    }
    const fromDwp = this.#dwp?.find(id);
    if (fromDwp) {
      const su = splitUnitOf(fromDwp, u);
      if (su) return su;
    }
    const dwo = this.#options.loadDwo?.({ name: u.dwoName, compDir: u.compDir, dwoId: id });
    return dwo ? splitUnitOf(dwo, u) : undefined;
  }
}

/** The inline chain of the lookup in progress (lookups do not nest): its first `depth` items. */
const CHAIN: number[] = [];

/** The default {@link FrameMaker}: a {@link DwarfFrame}. */
function dwarfFrame(
  name: string,
  file: string,
  line: number,
  column: number,
  inlined: boolean,
  discriminator: number,
): DwarfFrame {
  return { name, file, line, column, discriminator, inlined };
}

function miss(reason: DwarfReason, message: string): DwarfMiss {
  return { reason, message };
}

/** Any failure inside a parse as a DwarfError (a RangeError from a read past a section is broken data). */
function asDwarfError(e: unknown): DwarfError {
  if (e instanceof DwarfError) return e;
  if (e instanceof RangeError) return new DwarfError(`read past the end of a section (${e.message})`);
  throw e;
}
