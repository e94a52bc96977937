/**
 * Hand-made ELF64 files with section headers and a symbol table, every
 * field settable (including lying ones), for the symbol reader's tests.
 * Sections: 0 null, 1 .text (alloc+exec, [0x1000, 0x2000)), 2 .symtab
 * (link 3), 3 .strtab, 4 .shstrtab.
 */
const encoder = new TextEncoder();

export interface Sym {
  /** A name (added to the string table) or a raw st_name offset. */
  name: string | number;
  value: bigint;
  size: bigint;
  /** st_info: bind << 4 | type (default global function). */
  info?: number;
  /** Default 1 (.text). */
  shndx?: number;
}

export interface SymElfSpec {
  syms: Sym[];
  /** Overrides the string table's bytes (names given as strings are appended after it). */
  strtabPrefix?: Uint8Array;
  /** Cut the string table's trailing NUL (its last string is unterminated). */
  unterminated?: boolean;
  symtabSize?: bigint;
  symtabLink?: number;
  strtabSize?: bigint;
  shoff?: bigint;
  shnum?: number;
}

export const FUNC_GLOBAL = 0x12;
export const FUNC_WEAK = 0x22;
export const FUNC_LOCAL = 0x02;
export const OBJECT_GLOBAL = 0x11;

export function buildSymElf(spec: SymElfSpec): Uint8Array {
  const strParts: number[] = [...(spec.strtabPrefix ?? [0])];
  const nameOff = spec.syms.map((s) => {
    if (typeof s.name === "number") return s.name;
    const at = strParts.length;
    strParts.push(...encoder.encode(s.name), 0);
    return at;
  });
  if (spec.unterminated) strParts.pop();
  const strtab = Uint8Array.from(strParts);
  const shstr = encoder.encode("\0.text\0.symtab\0.strtab\0.shstrtab\0");
  const symtab = new Uint8Array(24 * (spec.syms.length + 1));
  const sv = new DataView(symtab.buffer);
  spec.syms.forEach((s, i) => {
    const at = 24 * (i + 1);
    sv.setUint32(at, nameOff[i], true);
    symtab[at + 4] = s.info ?? FUNC_GLOBAL;
    sv.setUint16(at + 6, s.shndx ?? 1, true);
    sv.setBigUint64(at + 8, s.value, true);
    sv.setBigUint64(at + 16, s.size, true);
  });
  const symAt = 64;
  const strAt = symAt + symtab.length;
  const shstrAt = strAt + strtab.length;
  const shAt = (shstrAt + shstr.length + 7) & ~7;
  const out = new Uint8Array(shAt + 5 * 64);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setUint16(16, 3, true); // ET_DYN
  v.setUint16(18, 62, true); // EM_X86_64
  v.setUint32(20, 1, true);
  v.setBigUint64(40, spec.shoff ?? BigInt(shAt), true);
  v.setUint16(52, 64, true);
  v.setUint16(58, 64, true);
  v.setUint16(60, spec.shnum ?? 5, true);
  v.setUint16(62, 4, true);
  out.set(symtab, symAt);
  out.set(strtab, strAt);
  out.set(shstr, shstrAt);
  const sh = (
    i: number,
    name: number,
    type: number,
    flags: bigint,
    addr: bigint,
    off: number,
    size: bigint,
    link = 0,
  ) => {
    const at = shAt + i * 64;
    v.setUint32(at, name, true);
    v.setUint32(at + 4, type, true);
    v.setBigUint64(at + 8, flags, true);
    v.setBigUint64(at + 16, addr, true);
    v.setBigUint64(at + 24, BigInt(off), true);
    v.setBigUint64(at + 32, size, true);
    v.setUint32(at + 40, link, true);
    v.setBigUint64(at + 56, type === 2 ? 24n : 0n, true);
  };
  sh(1, 1, 8, /* NOBITS */ 6n, 0x1000n, 0, 0x1000n);
  sh(2, 7, 2, 0n, 0n, symAt, spec.symtabSize ?? BigInt(symtab.length), spec.symtabLink ?? 3);
  sh(3, 15, 3, 0n, 0n, strAt, spec.strtabSize ?? BigInt(strtab.length));
  sh(4, 23, 3, 0n, 0n, shstrAt, BigInt(shstr.length));
  return out;
}
