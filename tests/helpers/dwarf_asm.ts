/**
 * A small DWARF assembler for hand-made (and hostile) sections: bytes with
 * LEB128, abbreviation tables, units and line programs, every length
 * settable so it can lie.
 */

/** A growing byte buffer (little-endian). */
export class Asm {
  #b: number[] = [];
  get length(): number {
    return this.#b.length;
  }
  u8(...v: number[]): this {
    for (const x of v) this.#b.push(x & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.u8(v, v >>> 8);
  }
  u32(v: number): this {
    return this.u8(v, v >>> 8, v >>> 16, v >>> 24);
  }
  u64(v: bigint | number): this {
    const b = BigInt.asUintN(64, BigInt(v));
    return this.u32(Number(b & 0xffffffffn)).u32(Number(b >> 32n));
  }
  uleb(v: bigint | number): this {
    let x = BigInt(v);
    do {
      const byte = Number(x & 0x7fn);
      x >>= 7n;
      this.u8(x === 0n ? byte : byte | 0x80);
    } while (x !== 0n);
    return this;
  }
  sleb(v: number): this {
    let x = BigInt(v);
    for (;;) {
      const byte = Number(x & 0x7fn);
      x >>= 7n;
      const done = (x === 0n && !(byte & 0x40)) || (x === -1n && (byte & 0x40));
      this.u8(done ? byte : byte | 0x80);
      if (done) return this;
    }
  }
  str(s: string): this {
    return this.bytes(new TextEncoder().encode(s)).u8(0);
  }
  bytes(b: Uint8Array | number[]): this {
    for (const x of b) this.#b.push(x & 0xff);
    return this;
  }
  /** Overwrites a u32 at `at`. */
  patch32(at: number, v: number): this {
    for (let i = 0; i < 4; i++) this.#b[at + i] = (v >>> (8 * i)) & 0xff;
    return this;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.#b);
  }
}

/** One abbreviation: code, tag, children, and (attribute, form[, implicit const]) triples. */
export interface AbbrevSpec {
  code: number;
  tag: number;
  children?: boolean;
  attrs: [number, number, number?][];
}

/** An abbreviation table. */
export function abbrevs(specs: AbbrevSpec[]): Uint8Array {
  const a = new Asm();
  for (const s of specs) {
    a.uleb(s.code).uleb(s.tag).u8(s.children ? 1 : 0);
    for (const [name, form, c] of s.attrs) {
      a.uleb(name).uleb(form);
      if (form === 0x21) a.sleb(c ?? 0);
    }
    a.u8(0, 0);
  }
  return a.u8(0).done();
}

/** A DWARF 4 (or 5) 32-bit compile unit around `body` (its entries); `length` may lie. */
export function unit(
  body: Uint8Array,
  o: { version?: number; abbrevOffset?: number; length?: number } = {},
): Uint8Array {
  const v = o.version ?? 4;
  const a = new Asm();
  const headerRest = v >= 5 ? 8 : 7; // version, (unit type,) address size, abbrev offset
  a.u32(o.length ?? headerRest + body.length).u16(v);
  if (v >= 5) a.u8(1, 8).u32(o.abbrevOffset ?? 0);
  else a.u32(o.abbrevOffset ?? 0).u8(8);
  return a.bytes(body).done();
}

/** A DWARF 4 line program with one directory-less file list and `program` as its opcodes (opcode_base 13). */
export function lineProgram(files: string[], program: Uint8Array, o: { length?: number } = {}): Uint8Array {
  const hdr = new Asm();
  hdr.u8(1, 1, 1); // min_inst_length, max_ops, default_is_stmt
  hdr.u8(0xfb, 14, 13); // line_base -5, line_range 14, opcode_base 13
  hdr.u8(0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1); // standard_opcode_lengths
  hdr.u8(0); // no include directories
  for (const f of files) hdr.str(f).uleb(0).uleb(0).uleb(0);
  hdr.u8(0);
  const h = hdr.done();
  const a = new Asm();
  a.u32(o.length ?? 2 + 4 + h.length + program.length).u16(4).u32(h.length).bytes(h).bytes(program);
  return a.done();
}

// The constants the hand-made sections use.
export const TAG = { compile_unit: 0x11, subprogram: 0x2e, inlined_subroutine: 0x1d, lexical_block: 0x0b };
export const AT = {
  name: 0x03,
  stmt_list: 0x10,
  low_pc: 0x11,
  high_pc: 0x12,
  comp_dir: 0x1b,
  abstract_origin: 0x31,
  specification: 0x47,
  ranges: 0x55,
  call_file: 0x58,
  call_line: 0x59,
  linkage_name: 0x6e,
};
export const FORM = {
  addr: 0x01,
  data4: 0x06,
  data8: 0x07,
  string: 0x08,
  data1: 0x0b,
  udata: 0x0f,
  ref4: 0x13,
  indirect: 0x16,
  sec_offset: 0x17,
  implicit_const: 0x21,
};
