/**
 * The GNU build ID of an ELF file, found exactly as the kernel finds it for
 * PROCMAP_QUERY (lib/buildid.c, Linux >= 6.12), so that the text backend
 * reports the same string as the ioctl:
 * - the file must start with `\x7fELF` and have e_type ET_EXEC or ET_DYN;
 * - header fields are read in the machine's byte order (the kernel does not
 *   look at EI_DATA, so a foreign-endian ELF has no build ID);
 * - at most 256 program headers are scanned, in order; in each PT_NOTE
 *   segment the first note of type 3 named "GNU" with 1-20 bytes of
 *   descriptor is the build ID; a note running past its segment ends that
 *   segment's scan;
 * - note offsets and sizes use the kernel's 32-bit arithmetic (a segment must
 *   end below 4 GiB);
 * - a read that reaches past the end of the file fails (it does not read as
 *   zeros): a failed program-header read ends the scan, a failed note read
 *   ends that segment's;
 * - unlike the kernel (which scans the page cache), at most 4096 note
 *   headers are read per file: each is a read system call here, and a
 *   hostile file of 256 segments of empty notes would otherwise take
 *   billions of them. A build ID after that many notes is not found.
 * @module
 */
import { nativeLittleEndian, TWO_32 } from "../util/bytes.ts";

/**
 * Reads `len` bytes at `offset` of the file, or returns null when they cannot
 * all be read (the kernel fails a read that reaches past the end of the
 * file). The returned view is only valid until the next call.
 */
export type Fetch = (offset: number, len: number) => Uint8Array | null;

const ET_EXEC = 2;
const ET_DYN = 3;
const PT_NOTE = 4;
const NT_GNU_BUILD_ID = 3;
const MAX_PHDR_CNT = 256;
const BUILD_ID_SIZE_MAX = 20;
/** Note headers read per file at most (real files have a handful). */
const MAX_NOTES = 4096;

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Build ID bytes, or null when the kernel would find none. */
export function findBuildId(fetch: Fetch): Uint8Array | null {
  return scanBuildId(fetch).id;
}

/**
 * What {@link scanBuildId} found: the build ID (null for none) and whether
 * the scan stopped at procmap's note limit before the kernel's scan would
 * have ended. Such a file is hostile: the kernel, which has no limit, may
 * spend seconds on it per query.
 */
export interface BuildIdScan {
  id: Uint8Array | null;
  exhausted: boolean;
}

/** {@link findBuildId}, also saying whether the note limit cut the scan short. */
export function scanBuildId(fetch: Fetch): BuildIdScan {
  const budget = { notes: MAX_NOTES };
  const id = scan(fetch, budget);
  return { id, exhausted: budget.notes < 0 };
}

function scan(fetch: Fetch, budget: { notes: number }): Uint8Array | null {
  const le = nativeLittleEndian;
  // First 18 bytes: e_ident and e_type.
  const id = fetch(0, 18);
  if (!id) return null;
  if (id[0] !== 0x7f || id[1] !== 0x45 || id[2] !== 0x4c || id[3] !== 0x46) return null;
  const type = view(id).getUint16(16, le);
  if (type !== ET_EXEC && type !== ET_DYN) return null;
  const cls = id[4];
  if (cls !== 1 && cls !== 2) return null;
  const is64 = cls === 2;

  const ehdr = fetch(0, is64 ? 64 : 52);
  if (!ehdr) return null;
  const ev = view(ehdr);
  let phnum = ev.getUint16(is64 ? 56 : 44, le);
  const phoff = is64 ? ev.getBigUint64(32, le) : BigInt(ev.getUint32(28, le));
  if (phnum > MAX_PHDR_CNT) phnum = MAX_PHDR_CNT;
  const phentsize = is64 ? 56 : 32;
  // The kernel rejects a table whose end overflows a u64 (for ELF32 the sum
  // is computed in 64 bits too, so it never does).
  if (phoff + BigInt(phnum * phentsize) >= 1n << 64n) return null;

  for (let i = 0; i < phnum && budget.notes >= 0; i++) {
    const at = phoff + BigInt(i * phentsize);
    if (at > BigInt(Number.MAX_SAFE_INTEGER)) return null;
    const ph = fetch(Number(at), phentsize);
    if (!ph) return null;
    const pv = view(ph);
    if (pv.getUint32(0, le) !== PT_NOTE) continue;
    // p_offset is a signed file offset in the kernel; p_filesz is cut to 32 bits.
    const offset = is64 ? pv.getBigInt64(8, le) : BigInt(pv.getUint32(4, le));
    const size = is64 ? Number(pv.getBigUint64(32, le) & 0xffffffffn) : pv.getUint32(16, le);
    const found = parseNotes(fetch, offset, size, budget);
    if (found) return found;
  }
  return null;
}

/**
 * The GNU build ID in a bare run of ELF notes, such as the kernel's own in
 * `/sys/kernel/notes` (what `perf buildid-list -k` reads), or null.
 */
export function notesBuildId(notes: Uint8Array): Uint8Array | null {
  const fetch: Fetch = (offset, len) =>
    offset >= 0 && len >= 0 && offset + len <= notes.length ? notes.subarray(offset, offset + len) : null;
  return parseNotes(fetch, 0n, notes.length, { notes: MAX_NOTES });
}

/** The kernel's ALIGN(x, 4) on a u32: wraps to 0 near 2^32. */
function align4(x: number): number {
  return ((x + 3) & ~3) >>> 0;
}

/** lib/buildid.c parse_build_id(): scans one PT_NOTE segment. */
function parseNotes(fetch: Fetch, noteOffset: bigint, noteSize: number, budget: { notes: number }): Uint8Array | null {
  const le = nativeLittleEndian;
  // note_end is a u32 in the kernel: the segment must end in [0, 2^32).
  const endBig = noteOffset + BigInt(noteSize);
  if (endBig < 0n || endBig >= BigInt(TWO_32)) return null;
  const noteEnd = Number(endBig);
  if (noteOffset < 0n) return null; // a negative file offset cannot be read
  let off = Number(noteOffset);
  while (noteEnd - off > 12 + 4) {
    if (--budget.notes < 0) return null;
    const head = fetch(off, 16);
    if (!head) return null;
    const hv = view(head);
    const nameSize = hv.getUint32(0, le);
    const descSize = hv.getUint32(4, le);
    const type = hv.getUint32(8, le);
    // u32 arithmetic, as in the kernel: ALIGN() wraps, sums must not overflow.
    let next = off + 12 + align4(nameSize);
    if (next >= TWO_32) break;
    next += align4(descSize);
    if (next >= TWO_32 || next > noteEnd) break;
    if (
      type === NT_GNU_BUILD_ID && nameSize === 4 &&
      head[12] === 0x47 && head[13] === 0x4e && head[14] === 0x55 && head[15] === 0 &&
      descSize > 0 && descSize <= BUILD_ID_SIZE_MAX
    ) {
      const desc = fetch(off + 16, descSize);
      return desc ? desc.slice() : null;
    }
    off = next;
  }
  return null;
}
