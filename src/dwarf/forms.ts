/**
 * Attribute forms (7.5.6): their sizes, skipping them, and reading a value
 * as a number with its kind (a constant, an address or an index into
 * `.debug_addr`, a string offset or index, a reference, a section offset)
 * without allocating: {@link readValue} leaves the kind in {@link valueKind}.
 * @module
 */
import * as F from "./constants.ts";
import { type Cursor, DwarfError } from "./cursor.ts";

/** What a unit's encoding fixes: the sizes of addresses and offsets, and its version. */
export interface Encoding {
  readonly version: number;
  readonly addrSize: number;
  /** 4 for 32-bit DWARF, 8 for 64-bit. */
  readonly offSize: number;
}

/** The size of a value of `form`, or -1 when it varies (or the form is unknown). */
export function formSize(form: number, enc: Encoding): number {
  switch (form) {
    case F.DW_FORM_addr:
      return enc.addrSize;
    case F.DW_FORM_data1:
    case F.DW_FORM_ref1:
    case F.DW_FORM_flag:
    case F.DW_FORM_strx1:
    case F.DW_FORM_addrx1:
      return 1;
    case F.DW_FORM_data2:
    case F.DW_FORM_ref2:
    case F.DW_FORM_strx2:
    case F.DW_FORM_addrx2:
      return 2;
    case F.DW_FORM_strx3:
    case F.DW_FORM_addrx3:
      return 3;
    case F.DW_FORM_data4:
    case F.DW_FORM_ref4:
    case F.DW_FORM_ref_sup4:
    case F.DW_FORM_strx4:
    case F.DW_FORM_addrx4:
      return 4;
    case F.DW_FORM_data8:
    case F.DW_FORM_ref8:
    case F.DW_FORM_ref_sig8:
    case F.DW_FORM_ref_sup8:
      return 8;
    case F.DW_FORM_data16:
      return 16;
    case F.DW_FORM_flag_present:
    case F.DW_FORM_implicit_const:
      return 0;
    case F.DW_FORM_strp:
    case F.DW_FORM_sec_offset:
    case F.DW_FORM_line_strp:
    case F.DW_FORM_strp_sup:
    case F.DW_FORM_GNU_ref_alt:
    case F.DW_FORM_GNU_strp_alt:
      return enc.offSize;
    case F.DW_FORM_ref_addr:
      return enc.version <= 2 ? enc.addrSize : enc.offSize;
  }
  return -1;
}

/** Skips one value of a variable-size form (or any form) at the cursor. */
export function skipForm(c: Cursor, form: number, enc: Encoding): void {
  for (;;) {
    const s = formSize(form, enc);
    if (s >= 0) {
      c.pos += s;
      return;
    }
    switch (form) {
      case F.DW_FORM_string:
        c.skipCString();
        return;
      case F.DW_FORM_block1:
        c.skip(c.u8());
        return;
      case F.DW_FORM_block2:
        c.skip(c.u16());
        return;
      case F.DW_FORM_block4:
        c.skip(c.u32());
        return;
      case F.DW_FORM_block:
      case F.DW_FORM_exprloc:
        c.skip(c.uleb());
        return;
      case F.DW_FORM_sdata:
      case F.DW_FORM_udata:
      case F.DW_FORM_ref_udata:
      case F.DW_FORM_strx:
      case F.DW_FORM_addrx:
      case F.DW_FORM_loclistx:
      case F.DW_FORM_rnglistx:
      case F.DW_FORM_GNU_addr_index:
      case F.DW_FORM_GNU_str_index:
        c.uleb();
        return;
      case F.DW_FORM_indirect:
        // The form is in the data; a loop, not recursion: each step consumes a byte.
        form = c.uleb();
        continue;
    }
    throw new DwarfError(`unknown attribute form 0x${form.toString(16)} at ${c.pos}`);
  }
}

// Kinds of value readValue() gives.
/** Skipped: a block, an expression, a signature, data16. */
export const K_NONE = 0;
/** A constant (data, udata, sdata, implicit_const, flag). */
export const K_CONST = 1;
/** An address. */
export const K_ADDR = 2;
/** An index into `.debug_addr` (addrx*, GNU_addr_index). */
export const K_ADDRX = 3;
/** An offset into `.debug_str`. */
export const K_STRP = 4;
/** An offset into `.debug_line_str`. */
export const K_LINE_STRP = 5;
/** An index into `.debug_str_offsets` (strx*, GNU_str_index). */
export const K_STRX = 6;
/** An offset into the supplementary (dwz) file's `.debug_str`. */
export const K_STRP_ALT = 7;
/** An inline string: the value is its start in the section being read. */
export const K_STRING = 8;
/** A reference: an offset into this file's `.debug_info`. */
export const K_REF = 9;
/** A reference into the supplementary (dwz) file's `.debug_info`. */
export const K_REF_ALT = 10;
/** A section offset (sec_offset). */
export const K_SEC_OFFSET = 11;
/** An index into the unit's range lists (rnglistx). */
export const K_RNGLISTX = 12;

/** The kind of the last value {@link readValue} returned. */
export let valueKind = K_NONE;

/**
 * Reads one attribute value of `form` for a unit at `unitOffset` (relative
 * references are made absolute) and returns it as a number, its kind in
 * {@link valueKind}.
 */
export function readValue(c: Cursor, form: number, enc: Encoding, unitOffset: number, implicit: number): number {
  for (;;) {
    switch (form) {
      case F.DW_FORM_addr:
        valueKind = K_ADDR;
        return c.addr(enc.addrSize);
      case F.DW_FORM_data1:
        valueKind = K_CONST;
        return c.u8();
      case F.DW_FORM_data2:
        valueKind = K_CONST;
        return c.u16();
      case F.DW_FORM_data4:
        valueKind = K_CONST;
        return c.u32();
      case F.DW_FORM_data8:
        valueKind = K_CONST;
        return c.u64();
      case F.DW_FORM_udata:
        valueKind = K_CONST;
        return c.uleb();
      case F.DW_FORM_sdata:
        valueKind = K_CONST;
        return c.sleb();
      case F.DW_FORM_implicit_const:
        valueKind = K_CONST;
        return implicit;
      case F.DW_FORM_flag:
        valueKind = K_CONST;
        return c.u8();
      case F.DW_FORM_flag_present:
        valueKind = K_CONST;
        return 1;
      case F.DW_FORM_strp:
        valueKind = K_STRP;
        return c.offset(enc.offSize);
      case F.DW_FORM_line_strp:
        valueKind = K_LINE_STRP;
        return c.offset(enc.offSize);
      case F.DW_FORM_strp_sup:
      case F.DW_FORM_GNU_strp_alt:
        valueKind = K_STRP_ALT;
        return c.offset(enc.offSize);
      case F.DW_FORM_string: {
        valueKind = K_STRING;
        const at = c.pos;
        c.skipCString();
        return at;
      }
      case F.DW_FORM_strx:
      case F.DW_FORM_GNU_str_index:
        valueKind = K_STRX;
        return c.uleb();
      case F.DW_FORM_strx1:
        valueKind = K_STRX;
        return c.u8();
      case F.DW_FORM_strx2:
        valueKind = K_STRX;
        return c.u16();
      case F.DW_FORM_strx3:
        valueKind = K_STRX;
        return c.u24();
      case F.DW_FORM_strx4:
        valueKind = K_STRX;
        return c.u32();
      case F.DW_FORM_addrx:
      case F.DW_FORM_GNU_addr_index:
        valueKind = K_ADDRX;
        return c.uleb();
      case F.DW_FORM_addrx1:
        valueKind = K_ADDRX;
        return c.u8();
      case F.DW_FORM_addrx2:
        valueKind = K_ADDRX;
        return c.u16();
      case F.DW_FORM_addrx3:
        valueKind = K_ADDRX;
        return c.u24();
      case F.DW_FORM_addrx4:
        valueKind = K_ADDRX;
        return c.u32();
      case F.DW_FORM_ref1:
        valueKind = K_REF;
        return unitOffset + c.u8();
      case F.DW_FORM_ref2:
        valueKind = K_REF;
        return unitOffset + c.u16();
      case F.DW_FORM_ref4:
        valueKind = K_REF;
        return unitOffset + c.u32();
      case F.DW_FORM_ref8:
        valueKind = K_REF;
        return unitOffset + c.u64();
      case F.DW_FORM_ref_udata:
        valueKind = K_REF;
        return unitOffset + c.uleb();
      case F.DW_FORM_ref_addr:
        valueKind = K_REF;
        return enc.version <= 2 ? c.addr(enc.addrSize) : c.offset(enc.offSize);
      case F.DW_FORM_GNU_ref_alt:
        valueKind = K_REF_ALT;
        return c.offset(enc.offSize);
      case F.DW_FORM_ref_sup4:
        valueKind = K_REF_ALT;
        return c.u32();
      case F.DW_FORM_ref_sup8:
        valueKind = K_REF_ALT;
        return c.u64();
      case F.DW_FORM_sec_offset:
        valueKind = K_SEC_OFFSET;
        return c.offset(enc.offSize);
      case F.DW_FORM_rnglistx:
        valueKind = K_RNGLISTX;
        return c.uleb();
      case F.DW_FORM_indirect:
        form = c.uleb();
        continue;
    }
    skipForm(c, form, enc);
    valueKind = K_NONE;
    return 0;
  }
}
