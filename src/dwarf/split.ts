/**
 * Split DWARF (DWARF 5 section 7.3.2, and GCC's DWARF 4 draft): a skeleton
 * unit in the main file names a `.dwo` holding its entries, matched by DWO
 * id; a `.dwp` package holds many, found through its `.debug_cu_index`
 * (7.3.5, versions 2 and 5). The split unit takes its addresses
 * (`.debug_addr`), base address and, in DWARF 4, range lists from the
 * skeleton's file.
 * @module
 */
import * as C from "./constants.ts";
import { Cursor, DwarfError } from "./cursor.ts";
import { DwarfFile } from "./file.ts";
import type { DwarfSectionName, DwarfSections } from "./types.ts";
import type { Unit } from "./unit.ts";

/** A `.dwp` package: its unit index and sections. */
export class DwpIndex {
  readonly #sections: DwarfSections;
  readonly #c: Cursor;
  readonly #version: number;
  readonly #ncols: number;
  readonly #nunits: number;
  readonly #nslots: number;
  readonly #columns: (DwarfSectionName | undefined)[] = [];

  constructor(sections: DwarfSections) {
    this.#sections = sections;
    const idx = sections.debug_cu_index;
    if (!(idx instanceof Uint8Array) || idx.length < 16) throw new DwarfError(".dwp without a .debug_cu_index");
    const c = new Cursor(idx, sections.littleEndian ?? true);
    const v = c.u32();
    this.#version = v === 2 ? 2 : (v & 0xffff) === 5 || (v >>> 16) === 5 ? 5 : 0;
    if (this.#version === 0) throw new DwarfError(`.debug_cu_index version ${v}`);
    this.#ncols = c.u32();
    this.#nunits = c.u32();
    this.#nslots = c.u32();
    const ncols = this.#ncols, nunits = this.#nunits, nslots = this.#nslots;
    // Power-of-two slots, and tables that fit the section (counts are attacker input).
    if (nslots !== 0 && (nslots & (nslots - 1)) !== 0) throw new DwarfError(`.debug_cu_index: ${nslots} slots`);
    const need = 16 + nslots * 12 + ncols * 4 + 2 * nunits * ncols * 4;
    if (need > idx.length) throw new DwarfError(".debug_cu_index: tables run past the section");
    this.#c = c;
    c.pos = 16 + nslots * 12;
    for (let i = 0; i < ncols; i++) this.#columns.push(columnName(c.u32(), this.#version));
  }

  /** The sections of the unit with DWO id `id`, or undefined. */
  find(id: bigint): DwarfSections | undefined {
    const c = this.#c;
    const nslots = this.#nslots;
    if (nslots === 0) return undefined;
    const mask = BigInt(nslots - 1);
    let h = Number(id & mask);
    const step = Number(((id >> 32n) & mask) | 1n);
    for (let i = 0; i < nslots; i++) {
      c.pos = 16 + nslots * 8 + h * 4;
      const row = c.u32();
      if (row === 0) return undefined;
      c.pos = 16 + h * 8;
      if (c.u64Big() === id) return row <= this.#nunits ? this.#row(row - 1) : undefined;
      h = (h + step) & (nslots - 1);
    }
    return undefined;
  }

  #row(row: number): DwarfSections {
    const c = this.#c;
    const ncols = this.#ncols;
    const offsets = 16 + this.#nslots * 12 + ncols * 4;
    const sizes = offsets + this.#nunits * ncols * 4;
    const out: Record<string, Uint8Array | boolean | undefined> = {
      debug_str: this.#sections.debug_str,
      littleEndian: this.#sections.littleEndian ?? true,
    };
    for (let k = 0; k < ncols; k++) {
      const name = this.#columns[k];
      if (!name) continue;
      c.pos = offsets + (row * ncols + k) * 4;
      const off = c.u32();
      c.pos = sizes + (row * ncols + k) * 4;
      const size = c.u32();
      const sec = this.#sections[name];
      if (sec instanceof Uint8Array && off + size <= sec.length) out[name] = sec.subarray(off, off + size);
    }
    return out as DwarfSections;
  }
}

function columnName(id: number, version: number): DwarfSectionName | undefined {
  switch (id) {
    case C.DW_SECT_INFO:
      return "debug_info";
    case C.DW_SECT_ABBREV:
      return "debug_abbrev";
    case C.DW_SECT_LINE:
      return "debug_line";
    case C.DW_SECT_STR_OFFSETS:
      return "debug_str_offsets";
    case C.DW_SECT_RNGLISTS:
      // Column 8 is DW_SECT_MACRO in version 2.
      return version === 5 ? "debug_rnglists" : undefined;
  }
  return undefined;
}

/** The unit of a split file whose DWO id is `id`, linked to its skeleton, or undefined. */
export function splitUnitOf(sections: DwarfSections, skeleton: Unit): Unit | undefined {
  const file = new DwarfFile(sections, true);
  const id = skeleton.dwoId;
  for (const u of file.units) {
    if (u.version >= 5 && u.unitType !== C.DW_UT_split_compile) continue;
    // DWARF 4 (GNU) split units carry the id in DW_AT_GNU_dwo_id: read the root to learn it.
    link(u, skeleton);
    u.root();
    link(u, skeleton);
    if (u.dwoId === id) return u;
  }
  return undefined;
}

function link(u: Unit, skeleton: Unit): void {
  u.skeleton = skeleton;
  u.addrFile = skeleton.file;
  u.addrBase = skeleton.addrBase;
}
