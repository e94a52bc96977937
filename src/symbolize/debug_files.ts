/**
 * Finding a stripped file's separate debug file, as gdb does:
 * 1. by build ID: `<dir>/.build-id/NN/REST.debug` in each debug directory;
 * 2. by `.gnu_debuglink` (name and CRC32 of the debug file): next to the
 *    file, in `.debug/` next to it, and as `<dir>/<path of the file's
 *    directory>/<name>` in each debug directory.
 * A candidate must be a regular file and an ELF file; by build ID it must
 * carry the same build ID, by debug link its CRC32 must match (and its
 * build ID too when both files have one). Debug files are attacker input as
 * well (a target can plant one next to its binary): they go through the
 * same bounded reader, and a debug file's own debug link is never followed,
 * so there are no loops.
 *
 * Paths next to the file are the target's: they are opened under
 * `/proc/<pid>/root` (its mount namespace) and only when the path has no
 * `.` or `..` components.
 * @module
 */
import { emptyFileId, type FileId, type Libc } from "../../ffi/mod.ts";
import { crc32, type DebugLink, sectionBuildId } from "../elf/debug_link.ts";
import { fdReader, TRANSIENT_ERRNOS } from "../elf/read_at.ts";
import { type ElfSections, readSections } from "../elf/sections.ts";
import type { ReadAt } from "../elf/segments.ts";

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
/** Debug files larger than this are not checksummed (nor used by debug link). */
const MAX_CRC_BYTES = 2 ** 30;
const CRC_CHUNK = 1 << 20;

/** What is known about the file whose debug file is wanted. */
export interface DebugQuery {
  /** The file's build ID (lowercase hex), if it has one. */
  buildId: string | undefined;
  /** Its `.gnu_debuglink`, if any. */
  link: DebugLink | undefined;
  /** Its absolute path as the target names it; undefined when it has none (deleted, memfd). */
  path: string | undefined;
  /** Prefix for opening the target's own paths (`/proc/<pid>/root`, or `""` for the caller's). */
  root: string;
  /** Directories holding debug files (`/usr/lib/debug`). */
  debugDirs: readonly string[];
}

/** An opened debug file; the caller closes `fd`. */
export interface DebugFile {
  fd: number;
  read: ReadAt;
  elf: ElfSections;
  via: "build-id" | "debuglink";
  path: string;
}

/** An absolute path with no empty, `.` or `..` components. */
function plainPath(p: string): boolean {
  return p.startsWith("/") && p.slice(1).split("/").every((c) => c !== "" && c !== "." && c !== "..");
}

/** Opens `path` when it is a regular file; a descriptor, or -errno (-1 when it is not a regular file). */
function openRegular(libc: Libc, path: string): number {
  const id: FileId = emptyFileId();
  const r = libc.stat(path, id);
  if (r < 0) return r;
  if ((id.mode & S_IFMT) !== S_IFREG) return -1;
  const fd = libc.openRead(path);
  if (fd < 0) return fd;
  if (libc.fstat(fd, id) !== 0 || (id.mode & S_IFMT) !== S_IFREG) {
    libc.close(fd);
    return -1;
  }
  return fd;
}

/** CRC32 of the whole file, or undefined when it cannot be read (or is too large). */
function fileCrc(libc: Libc, fd: number): number | undefined {
  const buf = new Uint8Array(CRC_CHUNK);
  let crc = 0;
  for (let at = 0; at < MAX_CRC_BYTES;) {
    const n = libc.pread(fd, buf, at);
    if (n < 0) return undefined;
    if (n === 0) return crc;
    crc = crc32(buf.subarray(0, n), crc);
    at += n;
  }
  return undefined;
}

/**
 * The debug file for `q`, or undefined; `transient` is set when a lookup
 * failed in a way worth retrying (EMFILE, ENOMEM, ...), so that the miss
 * is not cached.
 */
export function openDebugFile(libc: Libc, q: DebugQuery): { file: DebugFile | undefined; transient: boolean } {
  let transient = false;
  const tryOpen = (path: string, via: DebugFile["via"], check: (f: DebugFile) => boolean): DebugFile | undefined => {
    const fd = openRegular(libc, path);
    if (fd < 0) {
      if (TRANSIENT_ERRNOS.has(-fd)) transient = true;
      return undefined;
    }
    const reader = fdReader(libc, fd);
    const elf = readSections(reader.read);
    const f = elf && { fd, read: reader.read, elf, via, path };
    if (f && check(f)) return f;
    if (reader.transient) transient = true;
    libc.close(fd);
    return undefined;
  };
  if (q.buildId && q.buildId.length >= 4 && /^[0-9a-f]+$/.test(q.buildId)) {
    for (const dir of q.debugDirs) {
      const path = `${dir}/.build-id/${q.buildId.slice(0, 2)}/${q.buildId.slice(2)}.debug`;
      const f = tryOpen(path, "build-id", (f) => sectionBuildId(f.read, f.elf) === q.buildId);
      if (f) return { file: f, transient };
    }
  }
  const link = q.link;
  if (link) {
    const candidates: string[] = [];
    if (q.path && plainPath(q.path)) {
      const dir = q.path.slice(0, q.path.lastIndexOf("/"));
      candidates.push(`${q.root}${dir}/${link.name}`, `${q.root}${dir}/.debug/${link.name}`);
      for (const d of q.debugDirs) candidates.push(`${d}${dir}/${link.name}`);
    }
    for (const path of candidates) {
      const f = tryOpen(path, "debuglink", (f) => {
        const id = sectionBuildId(f.read, f.elf);
        if (q.buildId && id && id !== q.buildId) return false;
        return fileCrc(libc, f.fd) === link.crc;
      });
      if (f) return { file: f, transient };
    }
  }
  return { file: undefined, transient };
}
