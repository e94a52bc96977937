/**
 * Finding a stripped file's separate debug file, as gdb does:
 * 1. by build ID: `<dir>/.build-id/NN/REST.debug` in each debug directory;
 * 2. by build ID in the debuginfod cache (`<cache>/<build-id>/debuginfo`,
 *    what procmap, gdb or `debuginfod-find` fetched), when debuginfod is
 *    configured;
 * 3. by `.gnu_debuglink` (name and CRC32 of the debug file): next to the
 *    file, in `.debug/` next to it, and as `<dir>/<path of the file's
 *    directory>/<name>` in each debug directory.
 * A candidate must be a regular file and an ELF file; by build ID it must
 * carry the same build ID; by debug link its CRC32 must match (and its
 * build ID too when both files have one), as gdb checks it. Debug files are attacker
 * input as well (a target can plant one next to its binary): they go
 * through the same bounded reader, and a debug file's own debug link is
 * never followed, so there are no loops.
 *
 * Every candidate is opened O_PATH first and checked to be a regular file
 * before it is opened for reading (procfs/target_files.ts): no FIFO or
 * device is ever opened. Paths next to the file are the target's: they are
 * resolved inside its root (its symbolic links cannot lead out of it), and
 * only when the path has no `.` or `..` components. Paths in the debug
 * directories are the caller's.
 *
 * Checksums are bounded and remembered: a candidate larger than
 * {@link MAX_CRC_BYTES} is refused by its size without being read, and a
 * checksum is kept per file (device, inode, size, modification and change
 * times) in the caller's {@link CrcMemo}, so a file is read whole at most
 * once while it is unchanged.
 * @module
 */
import type { FileId, Libc } from "../../ffi/mod.ts";
import { crc32, type DebugLink, sectionBuildId } from "../elf/debug_link.ts";
import { fdReader, TRANSIENT_ERRNOS } from "../elf/read_at.ts";
import { ELF_HEADER_BYTES, type ElfSections, readSections } from "../elf/sections.ts";
import type { ReadAt } from "../elf/segments.ts";
import { openTargetFile } from "../procfs/target_files.ts";

/** Debug-link candidates larger than this are not checksummed (nor used): 512 MiB. */
export const MAX_CRC_BYTES = 512 << 20;
const CRC_CHUNK = 1 << 20;
/** Checksums a memo keeps at most (the oldest go first). */
const MEMO_ENTRIES = 4096;

/** What is known about the file whose debug file is wanted. */
export interface DebugQuery {
  /** The file's build ID (lowercase hex), if it has one. */
  buildId: string | undefined;
  /** Its `.gnu_debuglink`, if any. */
  link: DebugLink | undefined;
  /** Its absolute path as the target names it; undefined when it has none (deleted, memfd). */
  path: string | undefined;
  /**
   * The target's pinned `/proc/<pid>` directory: paths next to the file are
   * resolved in its root. Undefined for the caller's own file (its paths are
   * the caller's).
   */
  procDir: number | undefined;
  /** Directories holding debug files (`/usr/lib/debug`). */
  debugDirs: readonly string[];
  /** Checksums of candidates read before (the Symbolizer's). */
  crcs?: CrcMemo;
  /** The debuginfod cache directory, when debuginfod is configured. */
  debuginfodCache?: string;
}

/** An opened debug file; the caller closes `fd`. */
export interface DebugFile {
  fd: number;
  read: ReadAt;
  elf: ElfSections;
  via: "build-id" | "debuginfod" | "debuglink";
  path: string;
  /** The path is in the target's root (next to its file), not in the caller's debug directories. */
  inRoot: boolean;
}

/** CRC32s of whole files, by identity (a file changed in any way has another key); bounded. */
export class CrcMemo {
  readonly #map = new Map<string, number | undefined>();

  /**
   * The CRC32 of the file open on `fd` with identity `id`, read once;
   * undefined when it cannot be read, "transient" (not remembered) after
   * EMFILE, ENOMEM, ....
   */
  of(libc: Libc, fd: number, id: FileId): number | undefined | "transient" {
    const key = `${id.devMajor}:${id.devMinor}:${id.inode}:${id.size}:${id.mtimeNs}:${id.ctimeNs}`;
    if (this.#map.has(key)) return this.#map.get(key);
    const crc = fileCrc(libc, fd);
    if (crc === "transient") return crc;
    if (this.#map.size >= MEMO_ENTRIES) this.#map.delete(this.#map.keys().next().value!);
    this.#map.set(key, crc);
    return crc;
  }
}

/** An absolute path with no empty, `.` or `..` components. */
function plainPath(p: string): boolean {
  return p.startsWith("/") && p.slice(1).split("/").every((c) => c !== "" && c !== "." && c !== "..");
}

type Crc32 = (data: Uint8Array, value?: number) => number;
let nativeCrc: Crc32 | null | undefined;

/** `node:zlib`'s crc32 (every runtime has it: 20-40 times the speed of the table loop), else the table loop. */
function crcFunction(): Crc32 {
  if (nativeCrc === undefined) {
    const g = globalThis as { process?: { getBuiltinModule?(id: string): unknown } };
    const zlib = g.process?.getBuiltinModule?.("node:zlib") as { crc32?: Crc32 } | undefined;
    nativeCrc = typeof zlib?.crc32 === "function" ? zlib.crc32 : null;
  }
  return nativeCrc ?? crc32;
}

/** CRC32 of the whole file, undefined when it cannot be read or is too large, "transient" after EMFILE, ENOMEM, .... */
function fileCrc(libc: Libc, fd: number): number | undefined | "transient" {
  const buf = new Uint8Array(CRC_CHUNK);
  const update = crcFunction();
  let crc = 0;
  for (let at = 0; at <= MAX_CRC_BYTES;) {
    const n = libc.pread(fd, buf, at);
    if (n < 0) return TRANSIENT_ERRNOS.has(-n) ? "transient" : undefined;
    if (n === 0) return crc;
    crc = update(buf.subarray(0, n), crc);
    at += n;
  }
  return undefined; // it grew past the bound since it was checked
}

/**
 * The debug file for `q`, or undefined; `transient` is set when a lookup
 * failed in a way worth retrying (EMFILE, ENOMEM, ...), so that the miss
 * is not cached.
 */
export function openDebugFile(libc: Libc, q: DebugQuery): { file: DebugFile | undefined; transient: boolean } {
  let transient = false;
  const crcs = q.crcs ?? new CrcMemo();
  /** Opens a candidate (inside the target's root when `inRoot`) and keeps it when `check` passes. */
  const tryOpen = (
    path: string,
    inRoot: boolean,
    via: DebugFile["via"],
    check: (f: DebugFile, id: FileId) => boolean,
  ): DebugFile | undefined => {
    const opened = openTargetFile(libc, inRoot ? q.procDir : undefined, path, {
      maxBytes: via === "debuglink" ? MAX_CRC_BYTES : undefined,
      minBytes: ELF_HEADER_BYTES,
    });
    if ("reason" in opened) {
      if (opened.reason === "transient") transient = true;
      return undefined;
    }
    const { fd, id } = opened;
    const reader = fdReader(libc, fd);
    const elf = readSections(reader.read);
    const f = elf && { fd, read: reader.read, elf, via, path, inRoot: inRoot && q.procDir !== undefined };
    if (f && check(f, id)) return f;
    if (reader.transient) transient = true;
    libc.close(fd);
    return undefined;
  };
  if (q.buildId && q.buildId.length >= 4 && /^[0-9a-f]+$/.test(q.buildId)) {
    for (const dir of q.debugDirs) {
      const path = `${dir}/.build-id/${q.buildId.slice(0, 2)}/${q.buildId.slice(2)}.debug`;
      const f = tryOpen(path, false, "build-id", (f) => sectionBuildId(f.read, f.elf) === q.buildId);
      if (f) return { file: f, transient };
    }
    if (q.debuginfodCache !== undefined) {
      // An empty file there is a miss the client recorded: it is no ELF file, so it is skipped.
      const path = `${q.debuginfodCache}/${q.buildId}/debuginfo`;
      const f = tryOpen(path, false, "debuginfod", (f) => sectionBuildId(f.read, f.elf) === q.buildId);
      if (f) return { file: f, transient };
    }
  }
  const link = q.link;
  if (link && q.path && plainPath(q.path)) {
    const dir = q.path.slice(0, q.path.lastIndexOf("/"));
    // Next to the file: the target's (or, for the caller's own file, the caller's) root.
    const candidates: [string, boolean][] = [[`${dir}/${link.name}`, true], [`${dir}/.debug/${link.name}`, true]];
    for (const d of q.debugDirs) candidates.push([`${d}${dir}/${link.name}`, false]);
    for (const [path, inRoot] of candidates) {
      const f = tryOpen(path, inRoot, "debuglink", (f, id) => {
        const fileId = sectionBuildId(f.read, f.elf);
        if (q.buildId && fileId && fileId !== q.buildId) return false;
        const crc = crcs.of(libc, f.fd, id);
        if (crc === "transient") transient = true;
        return crc === link.crc;
      });
      if (f) return { file: f, transient };
    }
  }
  return { file: undefined, transient };
}
