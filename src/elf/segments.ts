/**
 * The PT_LOAD segments of an ELF file, to turn a file offset into the
 * address the ELF file itself uses (what symbol tables hold): only through
 * the segment the VMA itself maps ({@link segmentForVma}), so that page
 * padding shared by two segments (gcc `-z noseparate-code`) is not named
 * after the other one, and `.bss` in the last file-backed page (past
 * p_filesz, within p_memsz) is. Unlike the
 * build-ID reader this is a plain, careful ELF reader: it honours EI_DATA
 * (either byte order) and both classes, and rejects headers that lie about
 * sizes or offsets.
 * @module
 */

/** A loadable segment: file bytes [offset, offset + fileSize) appear at vaddr, zeros up to vaddr + memSize. */
export interface LoadSegment {
  offset: bigint;
  vaddr: bigint;
  fileSize: bigint;
  memSize: bigint;
  /** p_flags: PF_X 1, PF_W 2, PF_R 4. */
  flags: number;
}

/** Reads `len` bytes at `offset` (fewer at end of file), or null on error. */
export type ReadAt = (offset: number, len: number) => Uint8Array | null;

const PT_LOAD = 1;
const PN_XNUM = 0xffff;
/** Program header tables larger than this are not real (64 KiB = 1170 ELF64 headers). */
const MAX_PHDR_BYTES = 65536;

/** PT_LOAD segments in file order, or null when the file is not a usable ELF file. */
export function loadSegments(read: ReadAt): LoadSegment[] | null {
  const eh = read(0, 64);
  if (!eh || eh.length < 52) return null;
  if (eh[0] !== 0x7f || eh[1] !== 0x45 || eh[2] !== 0x4c || eh[3] !== 0x46) return null;
  const is64 = eh[4] === 2;
  if (!is64 && eh[4] !== 1) return null;
  if (eh[5] !== 1 && eh[5] !== 2) return null;
  const le = eh[5] === 1;
  if (is64 && eh.length < 64) return null;
  const v = new DataView(eh.buffer, eh.byteOffset, eh.length);
  const phoff = is64 ? v.getBigUint64(32, le) : BigInt(v.getUint32(28, le));
  const phentsize = v.getUint16(is64 ? 54 : 42, le);
  let phnum = v.getUint16(is64 ? 56 : 44, le);
  const minEntry = is64 ? 56 : 32;
  if (phentsize < minEntry) return null;
  if (phnum === PN_XNUM) {
    // The real count is in sh_info of section header 0.
    const shoff = is64 ? v.getBigUint64(40, le) : BigInt(v.getUint32(32, le));
    if (shoff === 0n || shoff > BigInt(Number.MAX_SAFE_INTEGER)) return null;
    const sh = read(Number(shoff), is64 ? 64 : 40);
    if (!sh || sh.length < (is64 ? 48 : 32)) return null;
    phnum = new DataView(sh.buffer, sh.byteOffset, sh.length).getUint32(is64 ? 44 : 28, le);
  }
  const bytes = phnum * phentsize;
  if (phnum === 0 || bytes > MAX_PHDR_BYTES || phoff > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  const table = read(Number(phoff), bytes);
  if (!table || table.length < bytes) return null;
  const t = new DataView(table.buffer, table.byteOffset, table.length);
  const out: LoadSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = i * phentsize;
    if (t.getUint32(at, le) !== PT_LOAD) continue;
    out.push(
      is64
        ? {
          offset: t.getBigUint64(at + 8, le),
          vaddr: t.getBigUint64(at + 16, le),
          fileSize: t.getBigUint64(at + 32, le),
          memSize: t.getBigUint64(at + 40, le),
          flags: t.getUint32(at + 4, le),
        }
        : {
          offset: BigInt(t.getUint32(at + 4, le)),
          vaddr: BigInt(t.getUint32(at + 8, le)),
          fileSize: BigInt(t.getUint32(at + 16, le)),
          memSize: BigInt(t.getUint32(at + 20, le)),
          flags: t.getUint32(at + 24, le),
        },
    );
  }
  return out;
}

/** What {@link segmentForVma} needs of a VMA. */
export interface VmaLayout {
  start: bigint;
  end: bigint;
  /** File offset of `start`. */
  offset: bigint;
  /** The VMA's page size (mmap's offset and address granularity). */
  pageSize: number;
  readable: boolean;
  writable: boolean;
  executable: boolean;
}

/**
 * The one segment a VMA maps, as file offsets: an address's file offset
 * `o` has ELF address `o + shift` when `fileStart <= o < fileEnd`.
 */
export interface MappedSegment {
  /** p_offset: bytes before it in the VMA's first page are padding. */
  fileStart: bigint;
  /** p_offset + p_memsz: up to here the segment's memory (.bss in the last file page included). */
  fileEnd: bigint;
  /** p_vaddr - p_offset. */
  shift: bigint;
}

const PF_X = 1;
const PF_W = 2;
const PF_R = 4;

/**
 * The file offset mapped at `addr` when the VMA covering it maps the same
 * file, else undefined: lets {@link segmentForVma} check a guess at the
 * load address against the process's other VMAs.
 */
export type FileOffsetAt = (addr: bigint) => bigint | undefined;

/**
 * The PT_LOAD segment a VMA maps, or undefined when none (or no single one)
 * fits. A segment fits when the VMA's file range lies within the segment's
 * page-aligned file range (the loader maps exactly that) and the VMA's
 * address minus its offset is congruent to p_vaddr - p_offset modulo the
 * page size (mmap keeps address and offset congruent).
 *
 * Two segments can both fit when they share a file page: the RELRO page
 * (`r--p`, the data segment's first page) often holds the end of the
 * read-only segment's file bytes, and with `-z noseparate-code` the text's.
 * Each candidate implies a load bias; with `offsetAt` the bias is checked
 * against the other segments' first pages (each must map its own page-aligned
 * offset there), which only the true one passes. Left then with several,
 * the one whose p_flags match the VMA's permissions wins (RELRO's mprotect
 * may have dropped write); a tie gives none rather than a guess.
 */
export function segmentForVma(
  segments: readonly LoadSegment[],
  vma: VmaLayout,
  offsetAt?: FileOffsetAt,
): MappedSegment | undefined {
  const page = BigInt(vma.pageSize);
  if (page <= 0n || (page & (page - 1n)) !== 0n) return undefined;
  const mask = page - 1n;
  const vmaFileEnd = vma.offset + (vma.end - vma.start);
  let candidates: LoadSegment[] = [];
  for (const s of segments) {
    if (s.fileSize > s.memSize) continue; // malformed: file bytes past the segment's memory
    const lo = s.offset & ~mask;
    const hi = (s.offset + s.fileSize + mask) & ~mask;
    if (vma.offset < lo || vmaFileEnd > hi) continue;
    if (((vma.start - vma.offset - (s.vaddr - s.offset)) & mask) !== 0n) continue;
    candidates.push(s);
  }
  if (candidates.length > 1 && offsetAt) {
    const checked = candidates.filter((c) => {
      const bias = vma.start - vma.offset - (c.vaddr - c.offset);
      // A bounded number of checks: real files have a handful of segments.
      return segments.slice(0, 16).every((s) =>
        s.fileSize === 0n || s.fileSize > s.memSize || offsetAt(bias + (s.vaddr & ~mask)) === (s.offset & ~mask)
      );
    });
    if (checked.length > 0) candidates = checked;
  }
  let best: LoadSegment | undefined;
  let bestScore = -1;
  let tie = false;
  for (const s of candidates) {
    const r = (s.flags & PF_R) !== 0, w = (s.flags & PF_W) !== 0, x = (s.flags & PF_X) !== 0;
    let score = 0;
    if (r === vma.readable && x === vma.executable) score = w === vma.writable ? 2 : w ? 1 : 0;
    if (score > bestScore) {
      best = s;
      bestScore = score;
      tie = false;
    } else if (score === bestScore) tie = true;
  }
  if (!best || tie) return undefined;
  return { fileStart: best.offset, fileEnd: best.offset + best.memSize, shift: best.vaddr - best.offset };
}

/** The ELF address of file offset `fileOffset` through `seg`, or undefined when it lies outside the segment. */
export function elfAddrOf(seg: MappedSegment, fileOffset: bigint): bigint | undefined {
  return fileOffset >= seg.fileStart && fileOffset < seg.fileEnd ? fileOffset + seg.shift : undefined;
}
