/**
 * Hand-made ELF files as bytes, for build-ID tests: an ELF header, a program
 * header table and note segments, each field settable (including wrong
 * ones), in either class and byte order.
 */

export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const PT_LOAD = 1;
export const PT_NOTE = 4;
export const NT_GNU_BUILD_ID = 3;

const encoder = new TextEncoder();

/** One program header (only the fields build-ID lookup reads). */
export interface Phdr {
  type: number;
  offset: bigint;
  filesz: bigint;
}

export interface ElfSpec {
  /** ELFCLASS: 32 or 64 (default 64). */
  bits?: 32 | 64;
  /** Encode every field big-endian and set EI_DATA to ELFDATA2MSB (default false). */
  bigEndian?: boolean;
  /** e_type (default ET_DYN). */
  type?: number;
  /** e_phoff (default: right after the ELF header). */
  phoff?: bigint;
  /** Program headers, written at e_phoff. */
  phdrs: Phdr[];
  /** e_phnum as written (default phdrs.length). */
  phnum?: number;
  /** Bytes placed at file offsets, e.g. note segments. */
  chunks?: { at: number; bytes: Uint8Array }[];
  /** File size: the file is cut or zero-padded to it (default: just past the last byte written). */
  size?: number;
}

/** Size of the ELF header for a class. */
export const ehdrSize = (bits: 32 | 64) => (bits === 64 ? 64 : 52);
/** Size of one program header for a class. */
export const phdrSize = (bits: 32 | 64) => (bits === 64 ? 56 : 32);

/** The bytes of the ELF file `spec` describes. */
export function buildElf(spec: ElfSpec): Uint8Array {
  const bits = spec.bits ?? 64;
  const le = !spec.bigEndian;
  const eh = ehdrSize(bits);
  const ph = phdrSize(bits);
  const phoff = spec.phoff ?? BigInt(eh);
  const tableAt = Number(phoff);
  let natural = Math.max(eh, spec.phdrs.length ? tableAt + spec.phdrs.length * ph : 0);
  for (const c of spec.chunks ?? []) natural = Math.max(natural, c.at + c.bytes.length);
  const out = new Uint8Array(Math.max(natural, spec.size ?? 0));
  const v = new DataView(out.buffer);

  out.set([0x7f, 0x45, 0x4c, 0x46, bits === 64 ? 2 : 1, le ? 1 : 2, 1 /* EV_CURRENT */]);
  v.setUint16(16, spec.type ?? ET_DYN, le);
  v.setUint16(18, 62, /* EM_X86_64; irrelevant to the lookup */ le);
  v.setUint32(20, 1, le); // e_version
  if (bits === 64) {
    v.setBigUint64(32, phoff, le); // e_phoff
    v.setUint16(52, eh, le); // e_ehsize
    v.setUint16(54, ph, le); // e_phentsize
    v.setUint16(56, spec.phnum ?? spec.phdrs.length, le);
  } else {
    v.setUint32(28, Number(phoff), le);
    v.setUint16(40, eh, le);
    v.setUint16(42, ph, le);
    v.setUint16(44, spec.phnum ?? spec.phdrs.length, le);
  }
  spec.phdrs.forEach((p, i) => {
    const at = tableAt + i * ph;
    v.setUint32(at, p.type, le);
    if (bits === 64) {
      v.setUint32(at + 4, 4, /* PF_R */ le);
      v.setBigUint64(at + 8, p.offset, le);
      v.setBigUint64(at + 32, p.filesz, le);
      v.setBigUint64(at + 40, p.filesz, le); // p_memsz
      v.setBigUint64(at + 48, 4n, le); // p_align
    } else {
      v.setUint32(at + 4, Number(p.offset), le);
      v.setUint32(at + 16, Number(p.filesz), le);
      v.setUint32(at + 20, Number(p.filesz), le);
      v.setUint32(at + 24, 4, /* PF_R */ le);
      v.setUint32(at + 28, 4, le);
    }
  });
  for (const c of spec.chunks ?? []) out.set(c.bytes, c.at);
  return spec.size !== undefined ? out.slice(0, spec.size) : out;
}

export interface NoteSpec {
  /** Name bytes as stored (a string is UTF-8 encoded as is: add "\0" yourself). */
  name: string | Uint8Array;
  type: number;
  desc: Uint8Array;
  /** n_namesz as written (default: the name's length). */
  namesz?: number;
  /** n_descsz as written (default: the descriptor's length). */
  descsz?: number;
  bigEndian?: boolean;
}

const pad4 = (n: number) => (n + 3) & ~3;

/** One ELF note: header, name and descriptor, each padded to 4 bytes. */
export function note(spec: NoteSpec): Uint8Array {
  const name = typeof spec.name === "string" ? encoder.encode(spec.name) : spec.name;
  const out = new Uint8Array(12 + pad4(name.length) + pad4(spec.desc.length));
  const v = new DataView(out.buffer);
  const le = !spec.bigEndian;
  v.setUint32(0, spec.namesz ?? name.length, le);
  v.setUint32(4, spec.descsz ?? spec.desc.length, le);
  v.setUint32(8, spec.type, le);
  out.set(name, 12);
  out.set(spec.desc, 12 + pad4(name.length));
  return out;
}

/** A GNU build-ID note (name "GNU\0", type 3) with this descriptor. */
export function gnuBuildIdNote(desc: Uint8Array, bigEndian = false): Uint8Array {
  return note({ name: "GNU\0", type: NT_GNU_BUILD_ID, desc, bigEndian });
}

/** `n` bytes counting up from `first` (distinct, recognisable build IDs). */
export function counting(n: number, first = 1): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (first + i) & 0xff);
}

/** Concatenation of byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export interface SimpleElf {
  bits?: 32 | 64;
  bigEndian?: boolean;
  type?: number;
  /** The note segment's contents (one or more notes). */
  notes: Uint8Array;
  /** Where the note segment starts (default 0x200). */
  noteAt?: number;
  /** p_filesz of the PT_NOTE header (default notes.length). */
  filesz?: bigint;
  /** p_offset of the PT_NOTE header (default noteAt). */
  offset?: bigint;
  size?: number;
}

/** An ELF file with a PT_LOAD header and one PT_NOTE header holding `notes`. */
export function simpleElf(s: SimpleElf): Uint8Array {
  const noteAt = s.noteAt ?? 0x200;
  return buildElf({
    bits: s.bits,
    bigEndian: s.bigEndian,
    type: s.type,
    phdrs: [
      { type: PT_LOAD, offset: 0n, filesz: BigInt(noteAt + s.notes.length) },
      { type: PT_NOTE, offset: s.offset ?? BigInt(noteAt), filesz: s.filesz ?? BigInt(s.notes.length) },
    ],
    chunks: [{ at: noteAt, bytes: s.notes }],
    size: s.size,
  });
}
