/**
 * Hand-made ELF64 (little-endian, x86_64 unless asked) files from a list of sections, every
 * header field settable (including lying sizes), for the hostile-file tests of
 * the symbol sources: PLT tables, dynamic symbols, debug links.
 */
const encoder = new TextEncoder();

export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_DYNSYM = 11;
export const SHF_WRITE = 1n;
export const SHF_ALLOC = 2n;
export const SHF_EXECINSTR = 4n;
export const R_X86_64_GLOB_DAT = 6;
export const R_X86_64_JUMP_SLOT = 7;
export const R_X86_64_IRELATIVE = 37;

/** One section; `data` is written to the file, `size` (default its length) is what the header claims. */
export interface SectionSpec {
  name: string;
  type: number;
  flags?: bigint;
  addr?: bigint;
  data?: Uint8Array;
  size?: bigint;
  /** Section index (1-based, in the order given; 0 is the null section). */
  link?: number;
  info?: number;
  entsize?: bigint;
}

/** The bytes of an ELF file with these sections (after the null one), a section-name table last. */
export function buildSectionElf(sections: SectionSpec[], machine = EM_X86_64): Uint8Array {
  const names: number[] = [0];
  const nameAt = sections.map((s) => {
    const at = names.length;
    names.push(...encoder.encode(s.name), 0);
    return at;
  });
  const shstrName = names.length;
  names.push(...encoder.encode(".shstrtab"), 0);
  const shstr = Uint8Array.from(names);
  let at = 64;
  const offsets = sections.map((s) => {
    at = (at + 7) & ~7;
    const o = at;
    at += s.data?.length ?? 0;
    return o;
  });
  const shstrAt = at;
  at += shstr.length;
  const shAt = (at + 7) & ~7;
  const count = sections.length + 2;
  const out = new Uint8Array(shAt + count * 64);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setUint16(16, 3, true); // ET_DYN
  v.setUint16(18, machine, true);
  v.setUint32(20, 1, true);
  v.setBigUint64(40, BigInt(shAt), true);
  v.setUint16(52, 64, true);
  v.setUint16(58, 64, true);
  v.setUint16(60, count, true);
  v.setUint16(62, count - 1, true);
  const header = (i: number, name: number, s: SectionSpec, off: number, size: bigint) => {
    const h = shAt + i * 64;
    v.setUint32(h, name, true);
    v.setUint32(h + 4, s.type, true);
    v.setBigUint64(h + 8, s.flags ?? 0n, true);
    v.setBigUint64(h + 16, s.addr ?? 0n, true);
    v.setBigUint64(h + 24, BigInt(off), true);
    v.setBigUint64(h + 32, size, true);
    v.setUint32(h + 40, s.link ?? 0, true);
    v.setUint32(h + 44, s.info ?? 0, true);
    v.setBigUint64(h + 56, s.entsize ?? 0n, true);
  };
  sections.forEach((s, i) => {
    if (s.data) out.set(s.data, offsets[i]);
    header(i + 1, nameAt[i], s, offsets[i], s.size ?? BigInt(s.data?.length ?? 0));
  });
  out.set(shstr, shstrAt);
  header(count - 1, shstrName, { name: ".shstrtab", type: SHT_STRTAB }, shstrAt, BigInt(shstr.length));
  return out;
}

/** A string table: its bytes and the offset of each string (the first byte is NUL). */
export function stringTable(strings: string[]): { bytes: Uint8Array; at: number[] } {
  const bytes: number[] = [0];
  const at = strings.map((s) => {
    const o = bytes.length;
    bytes.push(...encoder.encode(s), 0);
    return o;
  });
  return { bytes: Uint8Array.from(bytes), at };
}

/** ELF64 symbols (st_name, st_info, st_shndx, st_value, st_size), after the null entry. */
export function symbolEntries(syms: { name: number; info: number; shndx: number; value: bigint; size: bigint }[]) {
  const out = new Uint8Array(24 * (syms.length + 1));
  const v = new DataView(out.buffer);
  syms.forEach((s, i) => {
    const at = 24 * (i + 1);
    v.setUint32(at, s.name, true);
    out[at + 4] = s.info;
    v.setUint16(at + 6, s.shndx, true);
    v.setBigUint64(at + 8, s.value, true);
    v.setBigUint64(at + 16, s.size, true);
  });
  return out;
}

/** ELF64 RELA entries (r_offset, symbol index, type, addend). */
export function relaEntries(relocs: { offset: bigint; sym: number; type: number; addend?: bigint }[]): Uint8Array {
  const out = new Uint8Array(24 * relocs.length);
  const v = new DataView(out.buffer);
  relocs.forEach((r, i) => {
    v.setBigUint64(24 * i, r.offset, true);
    v.setBigUint64(24 * i + 8, (BigInt(r.sym) << 32n) | BigInt(r.type), true);
    v.setBigInt64(24 * i + 16, r.addend ?? 0n, true);
  });
  return out;
}

/**
 * x86_64 lazy PLT stubs at `pltAddr` (a 16-byte header, then `n` stubs of
 * `jmp *slot(%rip); push i; jmp header`), stub i jumping through the slot at
 * `slotOf(i)`.
 */
export function x86Plt(pltAddr: bigint, n: number, slotOf: (i: number) => bigint): Uint8Array {
  const out = new Uint8Array(16 + 16 * n);
  const v = new DataView(out.buffer);
  out.set([0xff, 0x35, 0, 0, 0, 0, 0xff, 0x25, 0, 0, 0, 0, 0x0f, 0x1f, 0x40, 0x00]);
  for (let i = 0; i < n; i++) {
    const at = 16 + 16 * i;
    const pc = pltAddr + BigInt(at);
    out.set([0xff, 0x25], at);
    v.setInt32(at + 2, Number(slotOf(i) - (pc + 6n)), true);
    out[at + 6] = 0x68;
    v.setUint32(at + 7, i, true);
    out[at + 11] = 0xe9;
    v.setInt32(at + 12, -(at + 16), true);
  }
  return out;
}

export const R_AARCH64_JUMP_SLOT = 1026;
export const R_AARCH64_IRELATIVE = 1032;

/**
 * AArch64 PLT stubs at `pltAddr` (a 32-byte header, then `n` stubs of
 * `adrp x16, slot; ldr x17, [x16, #lo]; add x16, x16, #lo; br x17`, as
 * GNU ld writes them; with `bti`, 24-byte stubs that begin with `bti c` and
 * end with a `nop`), stub i loading through the slot at `slotOf(i)`
 * (8-byte aligned).
 */
export function arm64Plt(pltAddr: bigint, n: number, slotOf: (i: number) => bigint, bti = false): Uint8Array {
  const size = bti ? 24 : 16;
  const out = new Uint8Array(32 + size * n);
  const v = new DataView(out.buffer);
  for (let k = 0; k < 8; k++) v.setUint32(4 * k, 0xd503201f, true); // nop
  for (let i = 0; i < n; i++) {
    let at = 32 + size * i;
    if (bti) {
      v.setUint32(at, 0xd503245f, true); // bti c
      v.setUint32(at + 20, 0xd503201f, true); // nop
      at += 4;
    }
    const pc = pltAddr + BigInt(at);
    const slot = slotOf(i);
    const pages = Number((slot >> 12n) - (pc >> 12n)) & 0x1fffff;
    const lo = Number(slot & 0xfffn);
    v.setUint32(at, (0x90000010 | ((pages & 3) << 29) | ((pages >> 2) << 5)) >>> 0, true);
    v.setUint32(at + 4, (0xf9400211 | ((lo / 8) << 10)) >>> 0, true);
    v.setUint32(at + 8, (0x91000210 | (lo << 10)) >>> 0, true);
    v.setUint32(at + 12, 0xd61f0220, true);
  }
  return out;
}
