/**
 * The PT_LOAD segments of an ELF file, to turn a file offset into the
 * address the ELF file itself uses (what symbol tables hold): through the
 * segment whose file bytes (p_filesz, not p_memsz: bytes past p_filesz are
 * not in the file) contain it. Unlike the
 * build-ID reader this is a plain, careful ELF reader: it honours EI_DATA
 * (either byte order) and both classes, and rejects headers that lie about
 * sizes or offsets.
 * @module
 */

/** A loadable segment: file bytes [offset, offset + fileSize) appear at vaddr. */
export interface LoadSegment {
  offset: bigint;
  vaddr: bigint;
  fileSize: bigint;
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
        }
        : {
          offset: BigInt(t.getUint32(at + 4, le)),
          vaddr: BigInt(t.getUint32(at + 8, le)),
          fileSize: BigInt(t.getUint32(at + 16, le)),
        },
    );
  }
  return out;
}
