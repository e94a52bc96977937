/**
 * Inputs for fuzz tests: valid maps lines in the kernel's exact format (with
 * the rows they stand for), small ELF images with known build IDs, and
 * mutations of both (random bytes, and lies in the fields a reader trusts).
 */
import type { Row } from "./ground_truth.ts";
import type { Rng } from "./rng.ts";
import { concat } from "./elf_files.ts";

const encoder = new TextEncoder();

// ---------------------------------------------------------------- maps text

const U64_MAX = (1n << 64n) - 1n;

/** Pieces names are made of: what real paths contain, and what trips parsers. */
const NAME_PIECES = [
  "lib",
  "x86_64-linux-gnu",
  "libc.so.6",
  "a",
  "Z",
  "0",
  "9",
  ".",
  "-",
  "_",
  ":",
  "/",
  " ",
  "  ",
  "\t",
  "\\",
  "\n",
  "é",
  "日本",
  "😀",
  "\u00a0",
  "(deleted)",
  " (deleted)",
  "[",
  "]",
  "012",
  "0x1000",
  "-",
  "rwxp",
];
const NAME_STARTS = ["/", "/usr/lib/", "/memfd:", "[", "[anon:", "[heap]", "[stack]", "[vdso]", "/dev/zero"];

/**
 * A raw VMA name as the kernel holds it (the text escapes `\n` as `\012`).
 * It starts with `/` or `[` as every kernel name does, and never contains a
 * literal `\012` (the text could not tell it from an escaped newline) nor
 * `\r`, U+2028 or U+2029 (line breaks to the ground truth's regex).
 */
export function vmaName(rng: Rng): string {
  let s = rng.pick(NAME_STARTS);
  const n = rng.chance(0.05) ? rng.range(300, 1200) : rng.range(0, 12);
  for (let i = 0; i < n; i++) s += rng.pick(NAME_PIECES);
  return s.replaceAll("\\012", "\\0x12");
}

function hex(v: bigint | number, width: number): string {
  return v.toString(16).padStart(width, "0");
}

/** A random u64 biased to the interesting ends of the range. */
function u64(rng: Rng): bigint {
  switch (rng.int(6)) {
    case 0:
      return 0n;
    case 1:
      return U64_MAX - BigInt(rng.int(3));
    default:
      return rng.bigint(64);
  }
}

/**
 * One maps line exactly as fs/proc/task_mmu.c prints it (hex of at least 8
 * digits, device of at least 2, the name padded to column 73), and the row it
 * stands for.
 */
export function mapsLine(rng: Rng): { line: string; row: Row } {
  // Also the widths the kernel usually prints (12 digits for user space, its minimum of 8),
  // which the parser reads on a fast path of its own.
  let start = rng.chance(0.1)
    ? 0xffffffffff600000n
    : rng.chance(0.4)
    ? 0x550000000000n + rng.bigint(41)
    : rng.chance(0.2)
    ? rng.bigint(32)
    : rng.bigint(64);
  if (start === U64_MAX) start--;
  let end = start + 1n + rng.bigint(rng.chance(0.8) ? 24 : 64);
  if (end > U64_MAX) end = U64_MAX;
  const perms = rng.pick(["r", "-"]) + rng.pick(["w", "-"]) + rng.pick(["x", "-"]) + rng.pick(["p", "s"]);
  const anonymous = rng.chance(0.3);
  const offset = anonymous ? 0n : rng.chance(0.5) ? rng.bigint(32) : u64(rng);
  const devMajor = anonymous ? 0 : rng.chance(0.9) ? rng.int(0x1000) : rng.u32();
  const devMinor = anonymous ? 0 : rng.chance(0.9) ? rng.int(0x100000) : rng.u32();
  const inode = anonymous ? 0n : u64(rng);
  const name = anonymous && rng.chance(0.5) ? "" : vmaName(rng);
  const head = `${hex(start, 8)}-${hex(end, 8)} ${perms} ${hex(offset, 8)} ${hex(devMajor, 2)}:${
    hex(devMinor, 2)
  } ${inode} `;
  const line = name === "" ? head : head.padEnd(72, " ") + " " + name.replaceAll("\n", "\\012");
  return { line, row: { start, end, perms, offset, devMajor, devMinor, inode, name } };
}

/** A maps text of `lines` generated lines (UTF-8), with its rows. */
export function mapsText(rng: Rng, lines: number): { text: Uint8Array; rows: Row[] } {
  const rows: Row[] = [];
  let s = "";
  for (let i = 0; i < lines; i++) {
    const g = mapsLine(rng);
    rows.push(g.row);
    s += g.line + "\n";
  }
  return { text: encoder.encode(s), rows };
}

// ---------------------------------------------------------------- bytes

/** Bytes that mean something to a maps or ELF parser. */
const INTERESTING_BYTES = [
  0x00,
  0x0a,
  0x20,
  0x2d,
  0x3a,
  0x30,
  0x39,
  0x61,
  0x66,
  0x41,
  0x46,
  0x67,
  0x5c,
  0x7f,
  0x80,
  0xc3,
  0xff,
  0x72,
  0x77,
  0x78,
  0x70,
  0x73,
  0x09,
  0x0d,
];

/** Applies 1-4 random mutations; returns a new array. */
export function mutateBytes(rng: Rng, input: Uint8Array): Uint8Array {
  let b: Uint8Array = input.slice();
  const rounds = rng.range(1, 4);
  for (let r = 0; r < rounds; r++) {
    const at = rng.int(b.length + 1);
    switch (rng.int(9)) {
      case 0: // flip one bit
        if (b.length) b[Math.min(at, b.length - 1)] ^= 1 << rng.int(8);
        break;
      case 1: // an interesting byte
        if (b.length) b[Math.min(at, b.length - 1)] = rng.pick(INTERESTING_BYTES);
        break;
      case 2: // delete a range
        b = concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + rng.range(1, 64))));
        break;
      case 3: // insert random bytes
        b = concat(b.subarray(0, at), rng.bytes(rng.range(1, 32)), b.subarray(at));
        break;
      case 4: { // duplicate a range (repeated lines, repeated fields)
        const from = rng.int(b.length + 1);
        const piece = b.slice(from, from + rng.range(1, 200));
        b = concat(b.subarray(0, at), piece, b.subarray(at));
        break;
      }
      case 5: // truncate
        b = b.slice(0, at);
        break;
      case 6: // an overlong number
        b = concat(b.subarray(0, at), encoder.encode("f".repeat(rng.range(15, 40))), b.subarray(at));
        break;
      case 7: // an overlong name (beyond PATH_MAX)
        b = concat(b.subarray(0, at), encoder.encode(" /" + "n".repeat(rng.range(4090, 9000))), b.subarray(at));
        break;
      default: // overwrite with interesting bytes
        for (let i = at; i < Math.min(b.length, at + rng.range(1, 8)); i++) b[i] = rng.pick(INTERESTING_BYTES);
    }
  }
  return b;
}

// ---------------------------------------------------------------- ELF

/** A generated ELF image, where its trusted fields are, and its build ID. */
export interface ElfImage {
  bytes: Uint8Array;
  is64: boolean;
  /** The build ID the kernel would report (hex), or null. */
  buildId: string | null;
  /** Byte offsets of e_phoff and e_phnum. */
  phoffAt: number;
  phnumAt: number;
  /** Offsets of each program header. */
  phdrs: number[];
  /** Offsets of each note header (namesz, descsz, type). */
  notes: number[];
}

interface Note {
  name: Uint8Array; // including its NUL
  type: number;
  desc: Uint8Array;
}

const GNU = new Uint8Array([0x47, 0x4e, 0x55, 0]);
const NT_GNU_BUILD_ID = 3;
const PT_LOAD = 1;
const PT_NOTE = 4;

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** A note that is not a usable build ID (the kernel skips it and reads on). */
function decoyNote(rng: Rng): Note {
  switch (rng.int(5)) {
    case 0: // ABI tag
      return { name: GNU, type: 1, desc: rng.bytes(16) };
    case 1: // build ID type, wrong owner
      return { name: new Uint8Array([0x47, 0x4e, 0x56, 0]), type: NT_GNU_BUILD_ID, desc: rng.bytes(20) };
    case 2: // build ID too long for the kernel (> 20 bytes)
      return { name: GNU, type: NT_GNU_BUILD_ID, desc: rng.bytes(rng.range(21, 40)) };
    case 3: // empty build ID
      return { name: GNU, type: NT_GNU_BUILD_ID, desc: new Uint8Array(0) };
    default: // another vendor
      return { name: encoder.encode("stapsdt\0"), type: 3, desc: rng.bytes(rng.range(0, 24)) };
  }
}

/**
 * A little-endian ELF32 or ELF64 executable with PT_LOAD and PT_NOTE program
 * headers and notes, some of them decoys; `buildId` is what the kernel's
 * rules (first PT_NOTE in order, first GNU type-3 note of 1-20 bytes) find.
 */
export function elfImage(rng: Rng): ElfImage {
  const is64 = rng.chance(0.7);
  const ehsize = is64 ? 64 : 52;
  const phentsize = is64 ? 56 : 32;
  const phnum = rng.range(1, 6);
  const segments: { type: number; notes: Note[] }[] = [];
  for (let i = 0; i < phnum; i++) {
    if (rng.chance(0.4)) {
      segments.push({ type: PT_LOAD, notes: [] });
      continue;
    }
    const notes: Note[] = [];
    const n = rng.range(0, 3);
    for (let j = 0; j < n; j++) {
      notes.push(
        rng.chance(0.5) ? decoyNote(rng) : { name: GNU, type: NT_GNU_BUILD_ID, desc: rng.bytes(rng.range(1, 20)) },
      );
    }
    segments.push({ type: PT_NOTE, notes });
  }

  let size = ehsize + phnum * phentsize;
  const noteAreas = segments.map((s) => {
    const at = size;
    for (const n of s.notes) size += 12 + align4(n.name.length) + align4(n.desc.length);
    return { at, len: size - at };
  });
  size += rng.range(0, 64); // trailing bytes
  const bytes = new Uint8Array(size);
  const v = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, 1, 1]);
  v.setUint16(16, rng.chance(0.9) ? rng.pick([2, 3]) : rng.pick([0, 1, 4]), true); // e_type
  v.setUint16(18, is64 ? 62 : 3, true); // e_machine
  v.setUint32(20, 1, true);
  const phoffAt = is64 ? 32 : 28;
  const phnumAt = is64 ? 56 : 44;
  if (is64) v.setBigUint64(phoffAt, BigInt(ehsize), true);
  else v.setUint32(phoffAt, ehsize, true);
  v.setUint16(is64 ? 52 : 40, ehsize, true);
  v.setUint16(is64 ? 54 : 42, phentsize, true);
  v.setUint16(phnumAt, phnum, true);

  const phdrs: number[] = [];
  const notesAt: number[] = [];
  let buildId: string | null = null;
  segments.forEach((s, i) => {
    const ph = ehsize + i * phentsize;
    phdrs.push(ph);
    const { at, len } = noteAreas[i];
    v.setUint32(ph, s.type, true);
    if (is64) {
      v.setBigUint64(ph + 8, BigInt(at), true); // p_offset
      v.setBigUint64(ph + 32, BigInt(len), true); // p_filesz
      v.setBigUint64(ph + 40, BigInt(len), true); // p_memsz
    } else {
      v.setUint32(ph + 4, at, true);
      v.setUint32(ph + 16, len, true);
      v.setUint32(ph + 20, len, true);
    }
    let p = at;
    for (const n of s.notes) {
      notesAt.push(p);
      v.setUint32(p, n.name.length, true);
      v.setUint32(p + 4, n.desc.length, true);
      v.setUint32(p + 8, n.type, true);
      bytes.set(n.name, p + 12);
      bytes.set(n.desc, p + 12 + align4(n.name.length));
      const usable = n.type === NT_GNU_BUILD_ID && n.name.length === 4 && n.name.every((c, k) => c === GNU[k]) &&
        n.desc.length >= 1 && n.desc.length <= 20;
      if (usable && buildId === null && s.type === PT_NOTE) buildId = toHex(n.desc);
      p += 12 + align4(n.name.length) + align4(n.desc.length);
    }
  });
  const type = v.getUint16(16, true);
  if (type !== 2 && type !== 3) buildId = null;
  return { bytes, is64, buildId, phoffAt, phnumAt, phdrs, notes: notesAt };
}

function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Values that make offset and size arithmetic overflow, wrap or point nowhere. */
const LIES_32 = [0, 1, 3, 11, 12, 13, 16, 17, 0x7fffffff, 0x80000000, 0xfffffff0, 0xfffffffc, 0xfffffffd, 0xffffffff];
const LIES_64 = [
  ...LIES_32.map(BigInt),
  0x100000000n,
  0xffffffff_00000000n,
  0x7fffffff_ffffffffn,
  0x80000000_00000000n,
  0xffffffff_ffffffffn,
  0x1fffffffffffffn,
  0x20000000000000n,
];

/**
 * Copies `img` with 1-3 of its trusted fields set to lies: e_phoff, e_phnum,
 * a program header's offset or size, a note's name or descriptor size.
 */
export function lieAboutElf(rng: Rng, img: ElfImage): Uint8Array {
  const b = img.bytes.slice();
  const v = new DataView(b.buffer);
  const lie32 = () => (rng.chance(0.8) ? rng.pick(LIES_32) : rng.u32());
  const lie64 = () => (rng.chance(0.8) ? rng.pick(LIES_64) : rng.bigint(64));
  const rounds = rng.range(1, 3);
  for (let r = 0; r < rounds; r++) {
    switch (rng.int(6)) {
      case 0:
        if (img.is64) v.setBigUint64(img.phoffAt, lie64(), true);
        else v.setUint32(img.phoffAt, lie32(), true);
        break;
      case 1:
        v.setUint16(img.phnumAt, rng.pick([0, 255, 256, 257, 0xffff, rng.int(0x10000)]), true);
        break;
      case 2: { // p_offset
        const ph = rng.pick(img.phdrs);
        if (img.is64) v.setBigUint64(ph + 8, lie64(), true);
        else v.setUint32(ph + 4, lie32(), true);
        break;
      }
      case 3: { // p_filesz
        const ph = rng.pick(img.phdrs);
        if (img.is64) v.setBigUint64(ph + 32, lie64(), true);
        else v.setUint32(ph + 16, lie32(), true);
        break;
      }
      default: { // namesz or descsz
        if (img.notes.length === 0) break;
        const n = rng.pick(img.notes);
        v.setUint32(n + (rng.chance(0.5) ? 0 : 4), lie32(), true);
      }
    }
  }
  return b;
}
