/**
 * ELF header and section headers, read through a {@link ReadAt} (a file
 * descriptor or an in-memory image such as the vDSO or a MiniDebugInfo
 * file), for the symbol reader and the debug-file lookup. Everything is
 * attacker input: counts and sizes are bounded, offsets checked, names that
 * run off their table are empty.
 * @module
 */
import type { ReadAt } from "./segments.ts";

/** One section header (the fields procmap reads). */
export interface Section {
  /** Index in the section header table. */
  index: number;
  /** Name from the section-name table; `""` when it cannot be read. */
  name: string;
  type: number;
  flags: bigint;
  addr: bigint;
  /** File offset; beyond 2^53 the section cannot be read and this is -1. */
  offset: number;
  size: bigint;
  link: number;
  info: number;
  entsize: bigint;
}

/** An ELF file's identity and section headers. */
export interface ElfSections {
  is64: boolean;
  /** Little-endian (EI_DATA). */
  le: boolean;
  /** e_type (ET_EXEC 2, ET_DYN 3, ...). */
  type: number;
  /** e_machine (EM_X86_64 62, EM_AARCH64 183, ...). */
  machine: number;
  sections: Section[];
  /** The first section with this name, if any. */
  byName(name: string): Section | undefined;
}

export const SHT_NOBITS = 8;
export const SHT_SYMTAB = 2;
export const SHT_DYNSYM = 11;
export const SHT_RELA = 4;
export const SHT_STRTAB = 3;

/** Section header tables larger than this are not real (65,535 ELF64 headers are 4 MiB). */
const MAX_SHDR_BYTES = 4 << 20;
/** The section-name table is read up to this size. */
const MAX_SHSTRTAB_BYTES = 1 << 20;
const SHN_XINDEX = 0xffff;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Reads exactly `len` bytes at `offset`, or null (a short read is a lying header). */
export function readExact(read: ReadAt, offset: number | bigint, len: number): Uint8Array | null {
  if (typeof offset === "bigint") {
    if (offset < 0n || offset > MAX_SAFE) return null;
    offset = Number(offset);
  }
  if (offset < 0 || len < 0 || offset + len > Number.MAX_SAFE_INTEGER) return null;
  if (len === 0) return new Uint8Array(0);
  const b = read(offset, len);
  return b && b.length === len ? b : null;
}

const decoder = new TextDecoder();

/** The NUL-terminated string at `at` in `table` (at most `max` bytes), or undefined when it is unterminated. */
export function cString(table: Uint8Array, at: number, max = 65536): string | undefined {
  if (at < 0 || at >= table.length) return undefined;
  const end = table.subarray(at, Math.min(table.length, at + max + 1)).indexOf(0);
  if (end < 0) return undefined;
  return decoder.decode(table.subarray(at, at + end));
}

/** Section headers of an ELF file, or null when it is not a readable ELF file. */
export function readSections(read: ReadAt): ElfSections | null {
  const eh = read(0, 64);
  if (!eh || eh.length < ELF_HEADER_BYTES) return null;
  if (eh[0] !== 0x7f || eh[1] !== 0x45 || eh[2] !== 0x4c || eh[3] !== 0x46) return null;
  if (eh[4] !== 1 && eh[4] !== 2) return null;
  if (eh[5] !== 1 && eh[5] !== 2) return null;
  const is64 = eh[4] === 2;
  const le = eh[5] === 1;
  if (is64 && eh.length < 64) return null;
  const v = new DataView(eh.buffer, eh.byteOffset, eh.length);
  const type = v.getUint16(16, le);
  const machine = v.getUint16(18, le);
  const shoff = is64 ? v.getBigUint64(40, le) : BigInt(v.getUint32(32, le));
  const shentsize = v.getUint16(is64 ? 58 : 46, le);
  let shnum = v.getUint16(is64 ? 60 : 48, le);
  let shstrndx = v.getUint16(is64 ? 62 : 50, le);
  const entry = is64 ? 64 : 40;
  const none: ElfSections = { is64, le, type, machine, sections: [], byName: () => undefined };
  if (shoff === 0n) return none;
  if (shentsize < entry) return null;
  if (shnum === 0 || shstrndx === SHN_XINDEX) {
    // More than 0xff00 sections: the real count and index are in section header 0.
    const first = readExact(read, shoff, entry);
    if (!first) return null;
    const f = new DataView(first.buffer, first.byteOffset, first.length);
    if (shnum === 0) {
      const n = is64 ? f.getBigUint64(32, le) : BigInt(f.getUint32(20, le));
      if (n > BigInt(MAX_SHDR_BYTES / entry)) return null;
      shnum = Number(n);
    }
    if (shstrndx === SHN_XINDEX) shstrndx = f.getUint32(is64 ? 40 : 24, le);
  }
  if (shnum === 0) return none;
  if (shnum * shentsize > MAX_SHDR_BYTES) return null;
  const table = readExact(read, shoff, shnum * shentsize);
  if (!table) return null;
  const t = new DataView(table.buffer, table.byteOffset, table.length);
  const sections: Section[] = [];
  const nameOffsets: number[] = [];
  for (let i = 0; i < shnum; i++) {
    const at = i * shentsize;
    const off = is64 ? t.getBigUint64(at + 24, le) : BigInt(t.getUint32(at + 16, le));
    nameOffsets.push(t.getUint32(at, le));
    sections.push({
      index: i,
      name: "",
      type: t.getUint32(at + 4, le),
      flags: is64 ? t.getBigUint64(at + 8, le) : BigInt(t.getUint32(at + 8, le)),
      addr: is64 ? t.getBigUint64(at + 16, le) : BigInt(t.getUint32(at + 12, le)),
      offset: off > MAX_SAFE ? -1 : Number(off),
      size: is64 ? t.getBigUint64(at + 32, le) : BigInt(t.getUint32(at + 20, le)),
      link: t.getUint32(at + (is64 ? 40 : 24), le),
      info: t.getUint32(at + (is64 ? 44 : 28), le),
      entsize: is64 ? t.getBigUint64(at + 56, le) : BigInt(t.getUint32(at + 36, le)),
    });
  }
  const strs = shstrndx < shnum ? sectionBytes(read, sections[shstrndx], MAX_SHSTRTAB_BYTES) : null;
  if (strs) sections.forEach((s, i) => (s.name = cString(strs, nameOffsets[i], 256) ?? ""));
  const byName = (name: string) => sections.find((s) => s.name === name);
  return { is64, le, type, machine, sections, byName };
}

/** The smallest ELF file: an ELF32 header (an ELF64 one is 64 bytes). */
export const ELF_HEADER_BYTES = 52;

/** The ELF type of a relocatable object (`.o`, kernel module). */
export const ET_REL = 1;
/** Executables and shared objects: the ELF types whose addresses are ELF addresses. */
const ET_EXEC = 2, ET_DYN = 3;

/**
 * Whether the file's symbol values and DWARF addresses are ELF addresses:
 * an executable or shared object. In a relocatable object (ET_REL, a `.o`
 * or kernel module) they are offsets in sections that overlap until linked.
 */
export function linkedAddresses(elf: Pick<ElfSections, "type">): boolean {
  return elf.type === ET_EXEC || elf.type === ET_DYN;
}

/**
 * A section's bytes, or null when it has none in the file (NOBITS), lies
 * outside the file, or is larger than `max`.
 */
export function sectionBytes(read: ReadAt, s: Section, max: number): Uint8Array | null {
  if (s.type === SHT_NOBITS || s.offset < 0 || s.size > BigInt(max)) return null;
  return readExact(read, s.offset, Number(s.size));
}
