/**
 * Where a module's DWARF lives, and its sections' bytes:
 * - the file itself when it has `.debug_info` (built with `-g`, not
 *   stripped), else its separate debug file (debug_files.ts: build-ID
 *   directory, `.gnu_debuglink`);
 * - the dwz supplementary file its `.gnu_debugaltlink` names (the path,
 *   absolute or relative to the holder's directory, then
 *   `<dir>/.build-id/NN/REST.debug` in each debug directory), used only
 *   when its build ID is the one the link gives;
 * - for split DWARF (`-gsplit-dwarf`), the `.dwo` files the skeleton units
 *   name (`DW_AT_dwo_name`, relative to `DW_AT_comp_dir`) and the `.dwp`
 *   package next to the binary, opened when a unit asks for them.
 * Every file a target names is opened inside the root it belongs to,
 * through procfs/target_files.ts (O_PATH first, fstat checked, bounded).
 * @module
 */
import { emptyFileId, type FileId, getZlib, type Libc, type ZlibCalls } from "../../ffi/mod.ts";
import { type DebugAltLink, readDebugAltLink, sectionBuildId } from "../elf/debug_link.ts";
import { fdReader } from "../elf/read_at.ts";
import { ELF_HEADER_BYTES, type ElfSections, readExact, readSections } from "../elf/sections.ts";
import type { ReadAt } from "../elf/segments.ts";
import {
  compressionHeader,
  decompressSection,
  type DwarfSectionName,
  dwarfSectionName,
  type DwarfSections,
  ELFCOMPRESS_ZLIB,
  inflatePrefix,
  inflateSectionFrom,
  maxDecompressed,
  prefixOutputBytes,
  prefixStreamBytes,
  SHF_COMPRESSED,
} from "../dwarf/mod.ts";
import { openTargetFile } from "../procfs/target_files.ts";

/** A section larger than this (decompressed) is not read. */
const MAX_SECTION_BYTES = 1 << 30;
/** The sections of one file are read up to this many bytes in all (as they lie in the file). */
const MAX_FILE_SECTION_BYTES = 2 * 2 ** 30;
/** Supplementary, `.dwo` and `.dwp` files larger than this are not opened. */
const MAX_FILE_BYTES = 4 * 2 ** 30;
const SHT_NOBITS = 8;

/** Compressed sections at least this large are left in the file until needed, when it can be opened again. */
const DEFERRED_MIN_BYTES = 64 << 10;

/**
 * Opens the file a {@link SectionSet} was read from again (undefined: it
 * cannot be, or it is another file now). `readInto`, where given, reads
 * into the caller's buffer (`pread`: the bytes read, 0 at the end of the
 * file, or a negative errno), so that a section can be inflated from the
 * file through one small buffer instead of a copy of its compressed bytes.
 */
export type Reopen = () => {
  read: ReadAt;
  close(): void;
  readInto?(buf: Uint8Array, offset: number): number;
} | undefined;

/**
 * The buffer a deferred section's stream is read into, piece by piece, and
 * inflated from (one per process, reused: on a first lookup a fresh buffer's
 * pages cost more than reading into it; inflating is synchronous, so one at a time).
 */
let pieceBuffer: Uint8Array | undefined;
const PIECE_BYTES = 128 << 10;

interface RawSection {
  name: string;
  flags: bigint;
  /** Its bytes as in the file; undefined: left there (read through the set's Reopen when needed). */
  bytes: Uint8Array | undefined;
  /** The section's size decompressed (its compression header's) when SHF_COMPRESSED; else 0. */
  inflated: number;
  /** Its compression header's type (`ELFCOMPRESS_ZLIB`, ...) when SHF_COMPRESSED; else 0. */
  ctype: number;
  offset: number;
  size: number;
}

/**
 * The DWARF sections of one ELF file: read while the file is open, each
 * decompressed on first use (a getter, as src/dwarf asks), the compressed
 * bytes then let go. With a {@link Reopen}, large compressed sections are
 * not read at first: a lookup near the start of `.debug_info` needs only
 * the start of its stream, read (and inflated) when asked for. `byteSize`
 * counts what is held now.
 */
export class SectionSet {
  readonly #raw = new Map<DwarfSectionName, RawSection>();
  readonly #ready = new Map<DwarfSectionName, Uint8Array | undefined>();
  /** Prefixes of compressed sections inflated so far (the raw bytes kept for the rest). */
  readonly #prefixes = new Map<DwarfSectionName, Uint8Array>();
  /** Bytes inflated in prefixes so far, by section. */
  readonly #spent = new Map<DwarfSectionName, number>();
  readonly #is64: boolean;
  readonly #reopen: Reopen | undefined;
  readonly littleEndian: boolean;
  /** Sections present but unusable, and why (`"too-large"`, `"malformed"`, ...). */
  readonly problems: Map<string, string> = new Map();
  #bytes = 0;

  constructor(read: ReadAt, elf: ElfSections, reopen?: Reopen) {
    this.#is64 = elf.is64;
    this.#reopen = reopen;
    this.littleEndian = elf.le;
    let total = 0;
    for (const s of elf.sections) {
      const key = dwarfSectionName(s.name);
      if (!key || this.#raw.has(key) || s.type === SHT_NOBITS || s.size === 0n) continue;
      const fits = s.size <= BigInt(MAX_SECTION_BYTES) && total + Number(s.size) <= MAX_FILE_SECTION_BYTES;
      const size = Number(s.size);
      const compressed = (s.flags & BigInt(SHF_COMPRESSED)) !== 0n;
      const defer = fits && reopen !== undefined && size >= DEFERRED_MIN_BYTES && compressed;
      // Left in the file: only its compression header read now (the size it inflates to).
      const header = defer ? readExact(read, s.offset, elf.is64 ? 24 : 12) : null;
      const bytes = fits && !defer ? readExact(read, s.offset, size) : null;
      const chdr = header ?? (compressed && bytes) ? compressionHeader(header ?? bytes!, elf.is64, elf.le) : undefined;
      const inflated = chdr && chdr.size <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(chdr.size) : 0;
      if (!bytes && !(defer && header)) {
        this.problems.set(s.name, fits ? "unreadable" : "too-large");
        continue;
      }
      const ctype = chdr?.type ?? 0;
      if (chdr && chdr.size > maxDecompressed(ctype, size - (elf.is64 ? 24 : 12))) {
        // Its header lies (no stream of its size decompresses to that): refused before any buffer of that size.
        this.problems.set(s.name, "malformed");
        continue;
      }
      this.#raw.set(key, {
        name: s.name,
        flags: s.flags,
        bytes: bytes ?? undefined,
        inflated,
        ctype,
        offset: s.offset,
        size,
      });
      total += size;
      if (bytes) this.#bytes += bytes.length;
    }
  }

  /** `len` bytes of a section left in the file, from its start; undefined when the file cannot be read again. */
  #readBack(raw: RawSection, len: number): Uint8Array | undefined {
    const f = this.#reopen?.();
    if (!f) return undefined;
    try {
      return readExact(f.read, raw.offset, Math.min(len, raw.size)) ?? undefined;
    } finally {
      f.close();
    }
  }

  /**
   * A section left in the file, zlib-compressed, inflated from the file
   * through the piece buffer: whole, or with `want` a prefix (see
   * {@link inflateSectionFrom}); a miss saying why (`"unreadable"` when a
   * read failed). Undefined when it cannot be done so (the section is held,
   * or not zlib; no inflater that takes pieces; the file cannot be read into
   * a buffer) or, with `want`, no prefix came of it.
   */
  #inflateFromFile(raw: RawSection, want?: number): Uint8Array | { reason: string } | undefined {
    const z = streamingInflater();
    if (!z || !this.#streams(raw)) return undefined;
    const f = this.#reopen!();
    if (!f) return want === undefined ? { reason: "unreadable" } : undefined;
    try {
      const start = raw.offset + (this.#is64 ? 24 : 12);
      let pos = start;
      const end = raw.offset + raw.size;
      // Into the piece buffer; through `read` (a buffer per piece) where the file gives no readInto.
      const readInto = f.readInto;
      const piece = readInto ? pieceBuffer ??= new Uint8Array(PIECE_BYTES) : undefined;
      let failed = false;
      const next = () => {
        if (pos >= end) return undefined;
        const len = Math.min(PIECE_BYTES, end - pos);
        let got: Uint8Array | undefined;
        if (readInto) {
          const n = readInto(piece!.subarray(0, len), pos);
          got = n > 0 ? piece!.subarray(0, n) : undefined;
        } else {
          const b = f.read(pos, len);
          got = b && b.length > 0 ? b.subarray(0, Math.min(b.length, len)) : undefined;
        }
        if (!got) {
          failed = true;
          return undefined;
        }
        pos += got.length;
        return got;
      };
      const rewind = () => {
        pos = start;
      };
      const r = inflateSectionFrom(next, raw.inflated, MAX_SECTION_BYTES, raw.name, z, want, rewind, end - start);
      if (failed && !(r instanceof Uint8Array)) return want === undefined ? { reason: "unreadable" } : undefined;
      return r;
    } finally {
      f.close();
    }
  }

  /** Whether a section is inflated from the file in pieces: zlib, left in the file, an inflater for it. */
  #streams(raw: RawSection): boolean {
    return !raw.bytes && raw.ctype === ELFCOMPRESS_ZLIB && raw.inflated > 0 && this.#reopen !== undefined &&
      streamingInflater() !== undefined;
  }

  /** Bytes held now. */
  get byteSize(): number {
    return this.#bytes;
  }

  /** A section's contents, decompressed on first use; undefined when absent or unusable. */
  get(key: DwarfSectionName): Uint8Array | undefined {
    if (this.#ready.has(key)) return this.#ready.get(key);
    const raw = this.#raw.get(key);
    let out: Uint8Array | undefined;
    const prefix = this.#prefixes.get(key);
    if (prefix) {
      this.#prefixes.delete(key);
      this.#bytes -= prefix.length;
    }
    const streamed = raw && this.#inflateFromFile(raw);
    const bytes = streamed === undefined ? raw && (raw.bytes ?? this.#readBack(raw, raw.size)) : undefined;
    if (raw && streamed !== undefined) {
      this.#raw.delete(key);
      if (streamed instanceof Uint8Array) {
        out = streamed;
        this.#bytes += out.length;
      } else this.problems.set(raw.name, streamed.reason);
    } else if (raw && !bytes) {
      this.#raw.delete(key);
      this.problems.set(raw.name, "unreadable");
    } else if (raw && bytes) {
      this.#raw.delete(key);
      const r = decompressSection(
        { name: raw.name, flags: raw.flags, bytes, is64: this.#is64, littleEndian: this.littleEndian },
        MAX_SECTION_BYTES,
        getZlib(),
      );
      const held = raw.bytes?.length ?? 0;
      if (r instanceof Uint8Array) {
        out = r;
        this.#bytes += r.length - held;
      } else {
        this.problems.set(raw.name, r.reason);
        this.#bytes -= held;
      }
    }
    this.#ready.set(key, out);
    return out;
  }

  /**
   * A section's first `want` bytes at least, or all of it (undefined when
   * absent or unusable). A compressed section's stream is inflated only as
   * far as asked, from its start each time (zlib has no random access, and
   * node:zlib no resumable stream): each longer prefix at least twice the
   * last, and only while the prefixes inflated so far and the new one come
   * to no more than the whole section (so the prefixes cost at most what the
   * whole does); past that, the whole.
   */
  prefix(key: DwarfSectionName, want: number): Uint8Array | undefined {
    if (this.#ready.has(key)) return this.#ready.get(key);
    const have = this.#prefixes.get(key);
    if (have && have.length >= want) return have;
    const raw = this.#raw.get(key);
    const ask = have ? Math.max(want, 2 * have.length) : want;
    const spent = this.#spent.get(key) ?? 0;
    const hdr = this.#is64 ? 24 : 12;
    if (raw && this.#streams(raw) && spent + ask <= raw.inflated) {
      // Read from the file and inflated only as far as asked (the inflater stops at a byte count); else the whole.
      const p = prefixOutputBytes(ask, raw.inflated) < raw.inflated ? this.#inflateFromFile(raw, ask) : undefined;
      if (!(p instanceof Uint8Array)) return this.get(key);
      this.#bytes += p.length - (have?.length ?? 0);
      this.#prefixes.set(key, p);
      this.#spent.set(key, spent + p.length);
      return p;
    }
    const stream = raw && raw.inflated > 0 && spent + ask <= raw.inflated
      ? prefixStreamBytes(ask, raw.size - hdr, raw.inflated)
      : undefined;
    if (raw && stream !== undefined) {
      // A section left in the file: the start of its stream read back, as much as the prefix takes.
      const bytes = raw.bytes ?? this.#readBack(raw, hdr + stream);
      const p = bytes && inflatePrefix(
        { name: raw.name, flags: raw.flags, bytes, is64: this.#is64, littleEndian: this.littleEndian },
        ask,
        MAX_SECTION_BYTES,
        raw.size - hdr,
        getZlib(),
      );
      if (p) {
        this.#bytes += p.length - (have?.length ?? 0);
        this.#prefixes.set(key, p);
        this.#spent.set(key, spent + p.length);
        return p;
      }
    }
    return this.get(key);
  }

  /** The sections as src/dwarf reads them: each a getter, and {@link prefix}. */
  forReader(): DwarfSections {
    const get = (k: DwarfSectionName) => ({ get: () => this.get(k), enumerable: true });
    return Object.defineProperties({
      littleEndian: this.littleEndian,
      prefix: (k: DwarfSectionName, want: number) => this.prefix(k, want),
    }, {
      debug_info: get("debug_info"),
      debug_abbrev: get("debug_abbrev"),
      debug_str: get("debug_str"),
      debug_line: get("debug_line"),
      debug_line_str: get("debug_line_str"),
      debug_ranges: get("debug_ranges"),
      debug_rnglists: get("debug_rnglists"),
      debug_addr: get("debug_addr"),
      debug_str_offsets: get("debug_str_offsets"),
      debug_aranges: get("debug_aranges"),
      debug_cu_index: get("debug_cu_index"),
    }) as DwarfSections;
  }
}

/** The runtime's inflater through the FFI when it takes its input in pieces; else undefined. */
function streamingInflater(): Required<ZlibCalls> | undefined {
  const z = getZlib();
  return z?.inflateFrom ? z : undefined;
}

/** Whether an ELF file carries DWARF units (`.debug_info`, or its `.zdebug_` form). */
export function hasDwarf(elf: ElfSections): boolean {
  return elf.sections.some((s) => dwarfSectionName(s.name) === "debug_info" && s.type !== SHT_NOBITS && s.size > 0n);
}

/** Where a file lies: the root it belongs to and its path there. */
export interface Place {
  /** The target's pinned `/proc/<pid>` directory (its root holds the path); undefined: the caller's own root. */
  procDir: number | undefined;
  path: string;
}

/** An opened ELF file; the caller closes `fd`. */
export interface OpenedElf {
  fd: number;
  read: ReadAt;
  elf: ElfSections;
  place: Place;
}

/** Opens an ELF file at `place` (bounded, regular files only); undefined, with `transient` set when worth retrying. */
export function openElfAt(libc: Libc, place: Place, out: { transient: boolean }): OpenedElf | undefined {
  if (place.path === "") return undefined;
  const opened = openTargetFile(libc, place.procDir, place.path, {
    maxBytes: MAX_FILE_BYTES,
    minBytes: ELF_HEADER_BYTES,
  });
  if ("reason" in opened) {
    if (opened.reason === "transient") out.transient = true;
    return undefined;
  }
  const fd = opened.fd;
  const reader = fdReader(libc, fd);
  const elf = readSections(reader.read);
  if (elf) return { fd, read: reader.read, elf, place };
  if (reader.transient) out.transient = true;
  libc.close(fd);
  return undefined;
}

/** `path`'s directory joined with `rel` (absolute `rel` as it is). */
export function besides(path: string, rel: string): string {
  if (rel.startsWith("/")) return rel;
  const dir = path.slice(0, path.lastIndexOf("/") + 1);
  return dir + rel;
}

/**
 * A {@link Reopen} of the file open on `fd` at `path` in this process's
 * root: the path opened again (bounded, regular files only) and accepted
 * only while it is the same file, unchanged (device, inode, size,
 * modification and change times as when first read). Undefined when the
 * file's identity cannot be had.
 */
export function reopener(libc: Libc, fd: number, path: string): Reopen | undefined {
  const first = emptyFileId();
  if (path === "" || libc.fstat(fd, first) < 0) return undefined;
  return () => {
    const opened = openTargetFile(libc, undefined, path, { maxBytes: MAX_FILE_BYTES, minBytes: ELF_HEADER_BYTES });
    if ("reason" in opened) return undefined;
    if (!sameFile(first, opened.id)) {
      libc.close(opened.fd);
      return undefined;
    }
    return {
      read: fdReader(libc, opened.fd).read,
      readInto: (buf, offset) => libc.pread(opened.fd, buf, offset),
      close: () => libc.close(opened.fd),
    };
  };
}

function sameFile(a: FileId, b: FileId): boolean {
  return a.devMajor === b.devMajor && a.devMinor === b.devMinor && a.inode === b.inode && a.size === b.size &&
    a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/**
 * The dwz supplementary file of a DWARF holder at `holder`, with its
 * sections, or undefined (none named, none found, or another build ID):
 * the path `.gnu_debugaltlink` names (beside the holder when relative),
 * else by its build ID in the debug directories, else in the debuginfod
 * cache (`<cache>/<build-id>/debuginfo`, where elfutils' client and
 * procmap's keep the supplementary file a server gave for that ID).
 */
export function openSupplementary(
  libc: Libc,
  read: ReadAt,
  elf: ElfSections,
  holder: Place,
  debugDirs: readonly string[],
  out: { transient: boolean },
  debuginfodCache?: string,
): { link: DebugAltLink; sections: SectionSet; place: Place } | undefined {
  const link = readDebugAltLink(read, elf);
  if (!link) return undefined;
  const candidates: Place[] = [{ procDir: holder.procDir, path: besides(holder.path, link.path) }];
  if (/^[0-9a-f]{4,}$/.test(link.buildId)) {
    for (const d of debugDirs) {
      const path = `${d}/.build-id/${link.buildId.slice(0, 2)}/${link.buildId.slice(2)}.debug`;
      candidates.push({ procDir: undefined, path });
    }
    // An empty file there (a miss the client recorded) is no ELF file: skipped.
    if (debuginfodCache !== undefined) {
      candidates.push({ procDir: undefined, path: `${debuginfodCache}/${link.buildId}/debuginfo` });
    }
  }
  for (const place of candidates) {
    const f = openElfAt(libc, place, out);
    if (!f) continue;
    try {
      if (sectionBuildId(f.read, f.elf) !== link.buildId) continue;
      return { link, sections: new SectionSet(f.read, f.elf), place };
    } finally {
      libc.close(f.fd);
    }
  }
  return undefined;
}

/**
 * The DWARF sections of a split-DWARF file (`.dwo`, `.dwp`) at `place`, or
 * undefined when it cannot be opened (src/dwarf checks the DWO id).
 */
export function openSplitFile(libc: Libc, place: Place, out: { transient: boolean }): SectionSet | undefined {
  const f = openElfAt(libc, place, out);
  if (!f) return undefined;
  try {
    return new SectionSet(f.read, f.elf);
  } finally {
    libc.close(f.fd);
  }
}
