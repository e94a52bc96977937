/**
 * One file's DWARF sections (the main file, its dwz supplementary file, or
 * a split-DWARF `.dwo` / `.dwp` contribution) with what is shared across
 * its units: the unit list, abbreviation tables, strings, and function
 * names resolved through `abstract_origin` / `specification` chains.
 * @module
 */
import { AbbrevTable } from "./abbrev.ts";
import * as C from "./constants.ts";
import { Cursor, DwarfError, stringAt } from "./cursor.ts";
import { type Encoding, K_REF, K_REF_ALT, readValue, skipForm, valueKind } from "./forms.ts";
import type { DwarfSectionName, DwarfSections } from "./types.ts";
import { type StrRef, type Unit, UnitList } from "./unit.ts";

/** How many `abstract_origin` / `specification` links a name is followed through (gimli's bound). */
const MAX_ORIGIN_HOPS = 16;
const EMPTY = new Uint8Array(0);

/** A file's sections and shared caches. */
export class DwarfFile {
  readonly #sections: DwarfSections;
  readonly #cache = new Map<DwarfSectionName, Uint8Array | undefined>();
  readonly le: boolean;
  /** A split-DWARF file (`.dwo` or a `.dwp` unit's contributions). */
  readonly isDwo: boolean;
  /** The dwz supplementary file, when there is one. */
  alt: DwarfFile | undefined;
  readonly #units = new UnitList(this);
  /** `.debug_info` as far as read (a prefix, or the whole section). */
  #info: Uint8Array | undefined;
  readonly #abbrevs = new Map<number, AbbrevTable>();
  readonly #strings = new Map<number, string>();
  readonly #names = new Map<number, string>();
  /** Bytes held by the caches of this file (strings, names, units), abbreviation tables apart. */
  #cacheBytes = 0;
  readonly #abbrevBytes = { bytes: 0 };

  /** Bytes held by the caches of this file: abbreviation tables, strings, names, units. */
  get cacheBytes(): number {
    return this.#cacheBytes + this.#units.count * 200 + this.#abbrevBytes.bytes;
  }

  constructor(sections: DwarfSections, isDwo: boolean) {
    this.#sections = sections;
    this.le = sections.littleEndian ?? true;
    this.isDwo = isDwo;
  }

  /** Forgets the strings and names resolved so far (past the byte budget). */
  clearCaches(): void {
    this.#strings.clear();
    this.#names.clear();
    this.#cacheBytes = 0;
  }

  /** A section's bytes (read from the caller's object once), or undefined. */
  section(name: DwarfSectionName): Uint8Array | undefined {
    if (this.#cache.has(name)) return this.#cache.get(name);
    let b: Uint8Array | undefined;
    try {
      b = this.#sections[name];
    } catch {
      // A getter that throws is a missing section, as one that returns undefined.
      b = undefined;
    }
    if (b !== undefined && !(b instanceof Uint8Array)) b = undefined;
    this.#cache.set(name, b);
    return b;
  }

  /**
   * A section's first `want` bytes at least, or all of it (undefined when
   * absent): a prefix where the caller's sections give one, else the whole.
   */
  prefix(name: DwarfSectionName, want: number): Uint8Array | undefined {
    const get = this.#sections.prefix;
    if (!get || this.#cache.has(name)) return this.section(name);
    let b: Uint8Array | undefined;
    try {
      b = get.call(this.#sections, name, want);
    } catch {
      b = undefined;
    }
    // Shorter than asked (or none): the whole section decides.
    return b instanceof Uint8Array && b.length >= want ? b : this.section(name);
  }

  /** `.debug_info` as far as read so far: every unit walked lies in it (empty when absent). */
  get info(): Uint8Array {
    return this.#info ?? this.infoUpTo(Infinity);
  }

  /** `.debug_info`'s first `want` bytes at least (all of it when shorter; empty when absent). */
  infoUpTo(want: number): Uint8Array {
    const have = this.#info;
    if (have && have.length >= want) return have;
    const b = this.prefix("debug_info", want) ?? EMPTY;
    if (!have || b.length > have.length) this.#info = b;
    return this.#info!;
  }

  /** The units, sorted by offset (all of them walked on first use). */
  get units(): Unit[] {
    return this.#units.all();
  }

  /** Whether every unit has been walked. */
  get allUnitsWalked(): boolean {
    return this.#units.done;
  }

  /** The unit holding the entry at `offset`, or undefined (units walked up to it). */
  unitAt(offset: number): Unit | undefined {
    this.#units.walkTo(offset);
    return this.#units.holding(offset);
  }

  /**
   * The unit whose header is at `offset`, or undefined; units are walked up
   * to it, the section read `ahead` bytes at once (where the unit is expected to end).
   */
  unitStartingAt(offset: number, ahead: number): Unit | undefined {
    this.#units.walkTo(offset, ahead);
    return this.#units.startingAt(offset);
  }

  /** The abbreviation table at `offset` for a unit of encoding `enc` (shared by units of the same encoding). */
  abbrevTable(offset: number, enc: Encoding): AbbrevTable {
    // The encoding decides the attributes' sizes: tables are shared by units of one encoding.
    const key = offset * 64 + enc.addrSize * 4 + (enc.offSize === 8 ? 2 : 0) + (enc.version <= 2 ? 1 : 0);
    let t = this.#abbrevs.get(key);
    if (!t) {
      // A prefix of the section up to the table (and some): a table is read as far as its codes are asked for.
      const sec = this.prefix("debug_abbrev", offset + 4096);
      if (!sec) throw new DwarfError("no .debug_abbrev");
      const more = (want: number) => this.prefix("debug_abbrev", want) ?? sec;
      t = new AbbrevTable(sec, offset, enc, this.#abbrevBytes, more);
      this.#abbrevs.set(key, t);
    }
    return t;
  }

  /** The NUL-terminated string at `offset` of a string section (cached for `.debug_str`). */
  strAt(section: "debug_str" | "debug_line_str", offset: number): string | undefined {
    if (section === "debug_str") {
      const s = this.#strings.get(offset);
      if (s !== undefined) return s;
    }
    const s = stringAt(this.section(section), offset);
    if (s !== undefined && section === "debug_str") {
      this.#strings.set(offset, s);
      this.#cacheBytes += 48 + 2 * s.length;
    }
    return s;
  }

  /** An inline (DW_FORM_string) string starting at `at` in `.debug_info`. */
  inlineStr(at: number): string | undefined {
    return stringAt(this.info, at);
  }

  /**
   * The name of the entry at `offset` of `.debug_info`: its linkage name,
   * else its `DW_AT_name`, else the name of what its `abstract_origin` or
   * `specification` points at (at most {@link MAX_ORIGIN_HOPS} hops, so a
   * cycle ends); `""` when none. Cached per entry.
   */
  nameOf(offset: number, hops = MAX_ORIGIN_HOPS): string {
    const cached = this.#names.get(offset);
    if (cached !== undefined) return cached;
    const name = this.#readName(offset, hops);
    this.#names.set(offset, name);
    this.#cacheBytes += 64 + 2 * name.length;
    return name;
  }

  #readName(offset: number, hops: number): string {
    const unit = this.unitAt(offset);
    if (!unit) return "";
    unit.root();
    const c = new Cursor(this.info, this.le, offset);
    const code = c.uleb();
    const ab = code === 0 ? undefined : unit.abbrevs.get(code);
    if (!ab) return "";
    let name: StrRef | undefined;
    let linkage: StrRef | undefined;
    let next = -1;
    let nextAlt = false;
    const table = unit.abbrevs;
    const attrs = table.attrs;
    for (let i = ab.start; i < ab.end; i += 3) {
      const at = attrs[i];
      if (
        at !== C.DW_AT_name && at !== C.DW_AT_linkage_name && at !== C.DW_AT_MIPS_linkage_name &&
        at !== C.DW_AT_abstract_origin && at !== C.DW_AT_specification
      ) {
        if (attrs[i + 2] >= 0) c.pos += attrs[i + 2];
        else skipForm(c, attrs[i + 1], unit);
        continue;
      }
      const v = readValue(c, attrs[i + 1], unit, unit.offset, table.implicit(i));
      const k = valueKind;
      if (at === C.DW_AT_abstract_origin || at === C.DW_AT_specification) {
        if (k === K_REF || k === K_REF_ALT) {
          next = v;
          nextAlt = k === K_REF_ALT;
        }
      } else if (at === C.DW_AT_name) name = { kind: k, value: v };
      else linkage = { kind: k, value: v };
    }
    if (c.pos > unit.end) throw new DwarfError(`entry at ${offset} runs past its unit`);
    const l = linkage && unit.str(linkage.kind, linkage.value);
    if (l) return l;
    const s = name && unit.str(name.kind, name.value);
    if (s) return s;
    if (next >= 0 && hops > 0) {
      const target = nextAlt ? this.alt : this;
      return target ? target.nameOf(next, hops - 1) : "";
    }
    return "";
  }
}
