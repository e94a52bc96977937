/**
 * Abbreviation tables (`.debug_abbrev`, 7.5.3), parsed as far as the codes
 * asked for: a unit's root entry needs only the entries up to its own.
 * A table keeps every attribute of its abbreviations in one flat array of
 * (name, form, size) triples, sizes for the unit's encoding, so an entry
 * whose attributes all have fixed sizes is skipped in one step and reading
 * one allocates nothing.
 * @module
 */
import { DW_AT_sibling, DW_FORM_implicit_const } from "./constants.ts";
import { Cursor, DwarfError, lebEnd, uleb } from "./cursor.ts";
import { type Encoding, formSize } from "./forms.ts";

/** Where an abbreviation is in `.debug_abbrev`: its tag, children flag, and attribute specifications. */
export interface AbbrevLocation {
  readonly tag: number;
  readonly children: boolean;
  /** Offset in `.debug_abbrev` of its first (name, form) pair. */
  readonly spec: number;
}

/** One abbreviation: a tag, whether entries have children, and where its attributes are in the table. */
export class Abbrev implements AbbrevLocation {
  readonly tag: number;
  readonly children: boolean;
  readonly spec: number;
  /** Index of its first (name, form, size) triple in {@link AbbrevTable.attrs}. */
  readonly start: number;
  /** One past its last triple's index (start + 3 * attributes). */
  readonly end: number;
  /** Bytes of all attributes when every size is fixed, else -1. */
  readonly fixed: number;
  /**
   * Where DW_AT_sibling's value is among the entry's attribute bytes, when
   * every attribute before it has a fixed size (so it is read without
   * decoding them), else -1; its form in {@link siblingForm}.
   */
  readonly sibling: number;
  readonly siblingForm: number;

  constructor(
    tag: number,
    children: boolean,
    spec: number,
    start: number,
    end: number,
    fixed: number,
    sibling: number,
    siblingForm: number,
  ) {
    this.tag = tag;
    this.children = children;
    this.spec = spec;
    this.start = start;
    this.end = end;
    this.fixed = fixed;
    this.sibling = sibling;
    this.siblingForm = siblingForm;
  }
}

/** Bytes a prefix of the section must hold past a parse's position (more than one attribute's LEB128s). */
const ROOM = 64;

/** Most abbreviation codes are small and dense: looked up in an array below this. */
const DENSE_CODES = 1 << 16;

/** One unit's abbreviation table, parsed on demand. */
export class AbbrevTable {
  #buf: Uint8Array;
  /** A longer prefix of the section (undefined: `#buf` is all of it). */
  #more: ((want: number) => Uint8Array) | undefined;
  readonly #enc: Encoding;
  #pos: number;
  #done = false;
  /** Abbreviations parsed so far by code (below 2^16): hot loops read it before calling {@link get}. */
  readonly dense: (Abbrev | undefined)[] = [];
  #sparse: Map<number, Abbrev> | undefined;
  /** (name, form, size) triples of every abbreviation parsed; size -1 when it varies (small integers: a plain array grows cheaper than a typed one). */
  readonly attrs: number[] = [];
  /** Triples used in {@link attrs}, times 3. */
  #used = 0;
  #count = 0;
  /** How far {@link locate} has skimmed. */
  #skim = 0;
  #located: Map<number, AbbrevLocation> | undefined;
  /** DW_FORM_implicit_const values by triple index / 3 (only when the table has one). */
  consts: Map<number, number> | undefined;
  /** Bytes this table holds (for the memory accounting). */
  byteSize = 64;

  readonly #account: { bytes: number };

  /**
   * `account.bytes` grows with the table (the file's memory accounting).
   * `section` may be a prefix of `.debug_abbrev` when `more` is given: it
   * gives a longer one (at least `want` bytes, or the whole section), asked
   * when the table's parse comes near the prefix's end.
   */
  constructor(
    section: Uint8Array,
    offset: number,
    enc: Encoding,
    account: { bytes: number },
    more?: (want: number) => Uint8Array,
  ) {
    if (!(offset >= 0 && offset < section.length)) {
      throw new DwarfError(`abbreviation table offset ${offset} outside .debug_abbrev (${section.length} bytes)`);
    }
    this.#buf = section;
    this.#more = more;
    this.#pos = offset;
    this.#enc = enc;
    this.#account = account;
    account.bytes += this.byteSize;
  }

  /** The section's bytes the table was read from (all its abbreviations parsed or located so far lie in them). */
  get buf(): Uint8Array {
    return this.#buf;
  }

  /**
   * The section with at least `p + ROOM` bytes when it has them: a prefix
   * is grown before a declaration could run past it (a LEB128 cut at its
   * end would be misread).
   */
  #room(p: number): Uint8Array {
    const more = this.#more;
    if (more === undefined || p + ROOM <= this.#buf.length) return this.#buf;
    const b = more(p + 16 * ROOM);
    if (b.length > this.#buf.length) this.#buf = b;
    // Shorter than asked: the whole section.
    if (b.length < p + 16 * ROOM) this.#more = undefined;
    return this.#buf;
  }

  /** The abbreviation of `code`, or undefined when the table has none. */
  get(code: number): Abbrev | undefined {
    const a = code < DENSE_CODES ? this.dense[code] : this.#sparse?.get(code);
    if (a || this.#done) return a;
    return this.#parseUntil(code);
  }

  /**
   * Where abbreviation `code` is, found by skimming the table (nothing kept
   * but the answer) when it is not parsed yet: a unit's root entry usually
   * has the table's last abbreviation, and most units' tables are never
   * needed past it.
   */
  locate(code: number): AbbrevLocation | undefined {
    const a = code < DENSE_CODES ? this.dense[code] : this.#sparse?.get(code);
    if (a || this.#done) return a;
    const hit = this.#located?.get(code);
    if (hit) return hit;
    let b = this.#buf;
    let p = Math.max(this.#pos, this.#skim);
    while (p < (b = this.#room(p)).length) {
      const c = uleb(b, p);
      if (c === 0) break;
      const tag = uleb(b, lebEnd);
      const children = b[lebEnd] !== 0;
      const spec = lebEnd + 1;
      p = spec;
      for (;;) {
        if (p + ROOM > b.length) b = this.#room(p);
        if (p >= b.length) throw new DwarfError(`abbreviation ${c} runs off .debug_abbrev`);
        const name = uleb(b, p);
        const form = uleb(b, lebEnd);
        p = lebEnd;
        if (name === 0 && form === 0) break;
        if (form === DW_FORM_implicit_const) {
          const cur = new Cursor(b, true, p);
          cur.sleb();
          p = cur.pos;
        }
      }
      this.#skim = p;
      if (c === code) {
        const loc = { tag, children, spec };
        (this.#located ??= new Map()).set(code, loc);
        return loc;
      }
    }
    return this.get(code);
  }

  /** The DW_FORM_implicit_const value of the triple at `i`. */
  implicit(i: number): number {
    return this.consts?.get(i) ?? 0;
  }

  #parseUntil(want: number): Abbrev | undefined {
    let b = this.#room(this.#pos);
    let len = b.length;
    let p = this.#pos;
    let found: Abbrev | undefined;
    while (!found) {
      if (p + ROOM > len) {
        b = this.#room(p);
        len = b.length;
      }
      if (p >= len) {
        // A table that runs off the section: what was read stays usable.
        this.#done = true;
        break;
      }
      const code = uleb(b, p);
      p = lebEnd;
      if (code === 0) {
        this.#done = true;
        break;
      }
      const tag = uleb(b, p);
      p = lebEnd;
      const children = b[p++] !== 0;
      const spec = p;
      const start = this.#used;
      let fixed = 0, sibling = -1, siblingForm = 0;
      for (;;) {
        if (p + ROOM > len) {
          b = this.#room(p);
          len = b.length;
        }
        if (p >= len) throw new DwarfError(`abbreviation ${code} runs off .debug_abbrev`);
        const name = uleb(b, p);
        const form = uleb(b, lebEnd);
        p = lebEnd;
        if (name === 0 && form === 0) break;
        const size = formSize(form, this.#enc);
        const at = this.#used;
        this.attrs.push(name, form, size);
        this.#used = at + 3;
        if (name === DW_AT_sibling && fixed >= 0) {
          sibling = fixed;
          siblingForm = form;
        }
        if (size < 0) fixed = -1;
        else if (fixed >= 0) fixed += size;
        if (form === DW_FORM_implicit_const) {
          const c = new Cursor(b, true, p);
          (this.consts ??= new Map()).set(at, c.sleb());
          p = c.pos;
        }
      }
      const a = new Abbrev(tag, children, spec, start, this.#used, fixed, sibling, siblingForm);
      this.#count++;
      if (code < DENSE_CODES) {
        // The first definition of a code wins (a duplicate is ignored, as readelf does).
        if (!this.dense[code]) this.dense[code] = a;
      } else {
        this.#sparse ??= new Map();
        if (!this.#sparse.has(code)) this.#sparse.set(code, a);
      }
      if (code === want) found = a;
    }
    this.#pos = p;
    const bytes = 64 + this.#count * 48 + this.attrs.length * 8;
    this.#account.bytes += bytes - this.byteSize;
    this.byteSize = bytes;
    return found ?? (want < DENSE_CODES ? this.dense[want] : this.#sparse?.get(want));
  }
}
