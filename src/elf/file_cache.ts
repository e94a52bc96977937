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
 *
 * Hostile files: the kernel's build-ID parser has no note limit (256
 * PT_NOTE headers over a 1 MiB file of empty notes cost it 10 s per query),
 * ours stops after MAX_NOTES (elf/build_id.ts). Before the kernel is asked
 * about a file procmap can open, {@link MappedFiles.mayAskKernel} scans it
 * here once per handle; a file that exhausts the limit is never handed to
 * the kernel, and its (bounded) user-space answer is kept for the handle's
 * life, so it costs one bounded scan per handle.
 *
 * Every file is opened relative to the handle's `/proc/<pid>` descriptor,
 * and after each open or read the maps descriptor is checked alive: what
 * was read belongs to the process the handle opened, or the call throws
 * ESRCH.
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import { isTransient } from "../errors.ts";
import type { ProcessRef } from "../procfs/process.ts";
import { toHex } from "../util/names.ts";
import { scanBuildId } from "./build_id.ts";
import { livesAtPath, type MappedFile, openMappedFile } from "./mapped_file.ts";
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
  /** undefined: not scanned yet; true: exhausted the note limit (never ask the kernel). */
  hostile: boolean | undefined;
  /** Generation `livesAtPath` was answered in, and the answer. */
  livesGeneration: number;
  lives: boolean;
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
  readonly #proc: ProcessRef;
  readonly #entries = new Map<string, Entry>();
  #generation = 0;
  /** Files scanned from user space so far (tests count them). */
  scans = 0;

  constructor(libc: Libc, proc: ProcessRef) {
    this.#libc = libc;
    this.#proc = proc;
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
        hostile: undefined,
        livesGeneration: -1,
        lives: false,
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
    const proc = this.#proc;
    const fd = openMappedFile(this.#libc, proc.dirfd, f);
    if (fd < 0) {
      if (isTransient(-fd)) throw proc.error(-fd, "open", "the file of a mapping");
      // ENOENT from a process that is gone is ESRCH, not "no such file".
      proc.requireAlive();
      return fallback;
    }
    const reader = new Reader(this.#libc, fd);
    let result: T;
    try {
      result = read(reader);
    } finally {
      this.#libc.close(fd);
    }
    if (reader.transient) throw proc.error(reader.transient, "read", "the file of a mapping");
    proc.requireAlive();
    return result;
  }

  /** Scans the file's notes once per handle (see the module docs); returns the entry. */
  #scan(f: MappedFile, e: Entry): void {
    const scan = this.#withFile(f, null, (r) => scanBuildId((offset, len) => r.exact(offset, len)));
    this.scans++;
    // A file that cannot be opened here cannot be judged: the kernel is asked.
    e.hostile = scan !== null && scan.exhausted;
    e.buildId = scan?.id ? toHex(scan.id, scan.id.length) : undefined;
    e.buildIdGeneration = this.#generation;
  }

  /**
   * Whether the kernel may be asked for the build ID of the VMA's file:
   * true, or (for a hostile file) the user-space answer to use instead.
   * Scans the file once per handle.
   */
  mayAskKernel(key: FileKey, file: () => MappedFile): true | { buildId: string | undefined } {
    const e = this.#entry(key);
    if (e.hostile === undefined) this.#scan(file(), e);
    return e.hostile ? { buildId: e.buildId } : true;
  }

  /**
   * True when the process's root holds the VMA's own file at exactly its
   * name (a live file named `x (deleted)`); answered once per generation.
   */
  livesAtPath(key: FileKey, file: () => MappedFile): boolean {
    const e = this.#entry(key);
    if (e.livesGeneration === this.#generation) return e.lives;
    const proc = this.#proc;
    e.lives = livesAtPath(this.#libc, proc.dirfd, file());
    proc.requireAlive();
    e.livesGeneration = this.#generation;
    return e.lives;
  }

  /**
   * The GNU build ID of the VMA's file read from user space, parsed exactly
   * as the kernel does (elf/build_id.ts); undefined when it has none or
   * cannot be read here. Kept for the current generation.
   */
  buildId(key: FileKey, file: () => MappedFile): string | undefined {
    const e = this.#entry(key);
    // A hostile file's bounded answer holds for the handle's life: it is not scanned again.
    if (e.buildIdGeneration === this.#generation || e.hostile) return e.buildId;
    this.#scan(file(), e);
    return e.buildId;
  }

  /** True when {@link buildId} would answer without reading (read in this generation, or hostile). */
  hasBuildId(f: FileKey): boolean {
    const e = this.#entries.get(`${f.devMajor}:${f.devMinor}:${f.inode}`);
    return e !== undefined && (e.buildIdGeneration === this.#generation || e.hostile === true);
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
