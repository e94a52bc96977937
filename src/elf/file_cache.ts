/**
 * One per-handle cache of what procmap learns by opening the files behind
 * VMAs: build IDs read from user space (the text backend's), and PT_LOAD
 * headers (resolve()'s ELF addresses). Keyed by device and inode (a file
 * is described, which costs, only when it must be opened), bounded,
 * and never remembering a transient failure: an `EMFILE` or `ENOMEM` while
 * opening or reading is thrown as ProcMapsError and nothing is stored, so
 * the next call tries again.
 *
 * How long an answer holds: a build ID read from user space is kept until
 * the caller starts a new generation (the text backend does at every
 * snapshot: by then the inode may name another file); PT_LOAD headers of a
 * file with a build ID are kept for the handle's life under that build ID
 * (the build ID proves it is the same file), those of a file without one
 * for the current generation only.
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import { errorFromErrno, isTransient } from "../errors.ts";
import type { Pid } from "../options.ts";
import { toHex } from "../util/names.ts";
import { findBuildId } from "./build_id.ts";
import { type MappedFile, openMappedFile } from "./mapped_file.ts";
import { type LoadSegment, loadSegments } from "./segments.ts";

/** What a file is keyed by: the device and inode the maps report. */
export interface FileKey {
  readonly devMajor: number;
  readonly devMinor: number;
  readonly inode: bigint;
}

/** Files remembered per handle at most (a process maps far fewer). */
const MAX_FILES = 4096;

interface Entry {
  /** Generation the user-space build ID was read in; -1: not read. */
  buildIdGeneration: number;
  buildId: string | undefined;
  /** PT_LOAD headers; undefined: not read. */
  segments: LoadSegment[] | null | undefined;
  /** The build ID the headers were read under ("" for none) and when. */
  segmentsBuildId: string;
  segmentsGeneration: number;
}

/** Reads through a descriptor, remembering a transient read error. */
class Reader {
  transient = 0;
  readonly #scratch = new Uint8Array(64);
  constructor(readonly libc: Libc, readonly fd: number) {}

  /** Exactly `len` bytes at `offset` in a reused buffer, or null (see elf/build_id.ts's Fetch). */
  exact(offset: number, len: number): Uint8Array | null {
    if (!Number.isSafeInteger(offset) || offset < 0 || len > this.#scratch.length) return null;
    const buf = this.#scratch.subarray(0, len);
    const n = this.libc.pread(this.fd, buf, offset);
    if (n < 0 && isTransient(-n)) this.transient = -n;
    return n === len ? buf : null;
  }

  /** Up to `len` bytes at `offset` in a new buffer, or null on error (see elf/segments.ts's ReadAt). */
  upTo(offset: number, len: number): Uint8Array | null {
    const buf = new Uint8Array(len);
    const n = this.libc.pread(this.fd, buf, offset);
    if (n < 0) {
      if (isTransient(-n)) this.transient = -n;
      return null;
    }
    return buf.subarray(0, n);
  }
}

/** The per-handle cache; see the module docs. */
export class MappedFiles {
  readonly #libc: Libc;
  readonly #pid: Pid;
  readonly #entries = new Map<string, Entry>();
  #generation = 0;

  constructor(libc: Libc, pid: Pid) {
    this.#libc = libc;
    this.#pid = pid;
  }

  /** Starts a new generation: answers that hold only for one moment are read again. */
  newGeneration(): void {
    this.#generation++;
  }

  /** Forgets everything. */
  clear(): void {
    this.#entries.clear();
  }

  #entry(f: FileKey): Entry {
    const key = `${f.devMajor}:${f.devMinor}:${f.inode}`;
    let e = this.#entries.get(key);
    if (e === undefined) {
      if (this.#entries.size >= MAX_FILES) this.#entries.delete(this.#entries.keys().next().value!);
      e = {
        buildIdGeneration: -1,
        buildId: undefined,
        segments: undefined,
        segmentsBuildId: "",
        segmentsGeneration: -1,
      };
      this.#entries.set(key, e);
    }
    return e;
  }

  /**
   * Runs `read` on the VMA's file, opened as elf/mapped_file.ts does it.
   * Returns `fallback` when no route opens the file (a permanent answer:
   * not readable here, not that file any more); throws ProcMapsError on a
   * transient failure, so the caller stores nothing.
   */
  #withFile<T>(f: MappedFile, fallback: T, read: (r: Reader) => T): T {
    const fd = openMappedFile(this.#libc, this.#pid, f);
    if (fd < 0) {
      if (isTransient(-fd)) throw errorFromErrno(-fd, this.#pid, "open", "the file of a mapping");
      return fallback;
    }
    const reader = new Reader(this.#libc, fd);
    let result: T;
    try {
      result = read(reader);
    } finally {
      this.#libc.close(fd);
    }
    if (reader.transient) throw errorFromErrno(reader.transient, this.#pid, "read", "the file of a mapping");
    return result;
  }

  /**
   * The GNU build ID of the VMA's file read from user space, parsed exactly
   * as the kernel does (elf/build_id.ts); undefined when it has none or
   * cannot be read here. Kept for the current generation.
   */
  buildId(key: FileKey, file: () => MappedFile): string | undefined {
    const e = this.#entry(key);
    if (e.buildIdGeneration === this.#generation) return e.buildId;
    const id = this.#withFile(file(), null, (r) => findBuildId((offset, len) => r.exact(offset, len)));
    e.buildId = id ? toHex(id, id.length) : undefined;
    e.buildIdGeneration = this.#generation;
    return e.buildId;
  }

  /**
   * PT_LOAD headers of the VMA's file, or null when it is not a readable ELF
   * file. `buildId` is the file's build ID as reported for this VMA (it keys
   * the answer for the handle's life; without one, for this generation).
   */
  loadSegments(key: FileKey, buildId: string | undefined, file: () => MappedFile): LoadSegment[] | null {
    const e = this.#entry(key);
    if (
      e.segments !== undefined &&
      (buildId ? e.segmentsBuildId === buildId : e.segmentsGeneration === this.#generation && e.segmentsBuildId === "")
    ) {
      return e.segments;
    }
    const segments = this.#withFile(file(), null, (r) => loadSegments((offset, len) => r.upTo(offset, len)));
    e.segments = segments;
    e.segmentsBuildId = buildId ?? "";
    e.segmentsGeneration = this.#generation;
    return segments;
  }
}
