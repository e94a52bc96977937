/**
 * What an ELF file says about its separate debug file: the `.gnu_debuglink`
 * section (a file name and the CRC32 of that file), and its build ID read
 * from the section headers (debug files keep the note section; the
 * kernel-exact reader in build_id.ts reads program headers and native byte
 * order only).
 * @module
 */
import { cString, type ElfSections, sectionBytes } from "./sections.ts";
import type { ReadAt } from "./segments.ts";

/** The `.gnu_debuglink` section: the debug file's name and CRC32. */
export interface DebugLink {
  /** A plain file name (no `/`). */
  name: string;
  crc: number;
}

const SHT_NOTE = 7;
const NT_GNU_BUILD_ID = 3;

/** The debug link, or undefined when there is none or it is malformed (a name with `/`, `.`, `..`, unterminated). */
export function readDebugLink(read: ReadAt, elf: ElfSections): DebugLink | undefined {
  const s = elf.byName(".gnu_debuglink");
  if (!s) return undefined;
  const b = sectionBytes(read, s, 4096 + 8);
  if (!b) return undefined;
  const name = cString(b, 0, 4096);
  if (!name || name.includes("/") || name === "." || name === "..") return undefined;
  const crcAt = (new TextEncoder().encode(name).length + 1 + 3) & ~3;
  if (crcAt + 4 > b.length) return undefined;
  return { name, crc: new DataView(b.buffer, b.byteOffset, b.length).getUint32(crcAt, elf.le) };
}

/** The `.gnu_debugaltlink` section (dwz): the supplementary file's path and build ID. */
export interface DebugAltLink {
  /** Absolute, or relative to the directory of the file holding the link. */
  path: string;
  /** Lowercase hex. */
  buildId: string;
}

/** The debug alt link, or undefined when there is none or it is malformed (empty or unterminated path, no build ID). */
export function readDebugAltLink(read: ReadAt, elf: ElfSections): DebugAltLink | undefined {
  const s = elf.byName(".gnu_debugaltlink");
  if (!s) return undefined;
  const b = sectionBytes(read, s, 4096 + 65);
  if (!b) return undefined;
  const path = cString(b, 0, 4096);
  if (!path) return undefined;
  const id = b.subarray(new TextEncoder().encode(path).length + 1);
  if (id.length === 0 || id.length > 64) return undefined;
  return { path, buildId: Array.from(id, (x) => x.toString(16).padStart(2, "0")).join("") };
}

/** The GNU build ID from a SHT_NOTE section, as lowercase hex, or undefined. */
export function sectionBuildId(read: ReadAt, elf: ElfSections): string | undefined {
  for (const s of elf.sections) {
    if (s.type !== SHT_NOTE) continue;
    const b = sectionBytes(read, s, 65536);
    if (!b) continue;
    const v = new DataView(b.buffer, b.byteOffset, b.length);
    let at = 0;
    for (let notes = 0; at + 12 <= b.length && notes < 256; notes++) {
      const nameSize = v.getUint32(at, elf.le),
        descSize = v.getUint32(at + 4, elf.le),
        type = v.getUint32(at + 8, elf.le);
      const descAt = at + 12 + ((nameSize + 3) & ~3);
      const next = descAt + ((descSize + 3) & ~3);
      if (nameSize > b.length || descSize > b.length || next > b.length) break;
      if (
        type === NT_GNU_BUILD_ID && nameSize === 4 && b[at + 12] === 0x47 && b[at + 13] === 0x4e &&
        b[at + 14] === 0x55 && b[at + 15] === 0 && descSize > 0 && descSize <= 64
      ) {
        return Array.from(b.subarray(descAt, descAt + descSize), (x) => x.toString(16).padStart(2, "0")).join("");
      }
      at = next;
    }
  }
  return undefined;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, as zlib and gdb compute it) continuing from `crc`. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  const table = (crcTable ??= (() => {
    const t = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      t[n] = c >>> 0;
    }
    return t;
  })());
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = table[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
