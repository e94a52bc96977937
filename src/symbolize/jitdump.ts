/**
 * JIT symbols from a jitdump file (perf's binary format,
 * tools/perf/Documentation/jitdump-specification.txt), as JavaScriptCore
 * writes it with `BUN_JSC_useJITDump=1` (Bun) and other JITs with their own
 * flags. Bun 1.4 names the file `/tmp/jit-<tid>-<pid>-<random>` (not perf's
 * `jit-<pid>.dump`) and, as the format asks, maps it executable, so the
 * file is found through the process's maps. JavaScriptCore buffers its
 * writes: code shows up in the file a while after it was compiled (a
 * lookup that misses reads what was appended since).
 *
 * Only `JIT_CODE_LOAD` records (address, size, name) and `JIT_CODE_MOVE`
 * name code; the others are skipped by their size. Later records win where
 * code memory is reused, as in perf maps. The file is the target's: it is
 * opened as the mapped file it is (elf/mapped_file.ts: through the
 * process's pinned `/proc/<pid>` directory, O_PATH first, checked to be the
 * mapping's own device and inode), must be owned by one of its user IDs and
 * have a header naming its pid; reading is bounded (bytes, record size, name
 * length, entries, bytes held) and a malformed record ends reading (the
 * format cannot resynchronise). Like perf maps, a lookup that misses reads
 * what was appended once per {@link JitDump.rearm}.
 * @module
 */
import { nativeLittleEndian } from "../../ffi/common.ts";
import { emptyFileId, type FileId, type Libc } from "../../ffi/mod.ts";
import { ERRNO, errnoName, isTransient } from "../errors.ts";
import { openMappedFile } from "../elf/mapped_file.ts";
import { readFileText } from "../procfs/read.ts";
import { openTargetFile } from "../procfs/target_files.ts";
import { S_IFMT, S_IFREG } from "../../ffi/constants.ts";
import { namespacePid, statusFields } from "./proc_status.ts";
import type { JitProcess } from "./perf_map.ts";
import { LatestRanges } from "./latest_ranges.ts";
import type { RawSymbol, SymbolTable } from "./types.ts";

/** Limits on what is read. */
export interface JitDumpLimits {
  /** Bytes of the file read at most (default 1 GiB: records carry the code). */
  maxBytes?: number;
  /** Entries kept at most (default 2,000,000). */
  maxEntries?: number;
  /** Bytes the table may hold (entries, names, index; default 128 MiB): a Symbolizer's maxCacheBytes. */
  maxTableBytes?: number;
}

/** Why a process's jitdump could not be opened. */
export interface JitDumpUnavailable {
  /**
   * `"no-process"` (maps unreadable), `"no-file"` (none mapped), `"no-access"`,
   * `"not-regular-file"`, `"foreign-owner"` (not owned by the process),
   * `"bad-header"` (not a jitdump of this process, or of another byte order),
   * `"transient"` (a temporary shortage: try again).
   */
  readonly reason:
    | "no-process"
    | "no-file"
    | "no-access"
    | "not-regular-file"
    | "foreign-owner"
    | "bad-header"
    | "transient";
  /** The path tried. */
  readonly path: string;
  /** Said for people. */
  readonly message: string;
}

const MAGIC = 0x4a695444; // "JiTD" in the writer's byte order
const HEADER_MIN = 40;
const RECORD_HEADER = 16;
const JIT_CODE_LOAD = 0;
const JIT_CODE_MOVE = 1;
/** Bytes of a record's start read to find its name (fixed fields + name). */
const LOAD_FIXED = RECORD_HEADER + 40;
const MOVE_SIZE = RECORD_HEADER + 48;
const NAME_MAX = 4096;
const CHUNK = 1 << 20;
const TWO32 = 4294967296;

/** A jitdump file, read so far; absolute addresses. */
export class JitDump implements SymbolTable {
  /** Which source this is. */
  readonly source = "jitdump" as const;
  /** The file's path. */
  readonly path: string;
  /** The pid the header names (the writer's, in its own PID namespace). */
  readonly pid: number;
  readonly #libc: Libc;
  #fd: number;
  readonly #maxBytes: number;
  readonly #maxEntries: number;
  readonly #maxTableBytes: number;
  readonly #ranges = new LatestRanges();
  /** The entry of each code_index, for JIT_CODE_MOVE. */
  readonly #byIndex = new Map<number, number>();
  #offset: number;
  #buf: Uint8Array | undefined;
  #stopped: string | undefined;
  #dropped = 0;
  /** A missing lookup may read what was appended (once per {@link rearm}). */
  #armed = true;

  private constructor(libc: Libc, fd: number, path: string, pid: number, headerSize: number, limits: JitDumpLimits) {
    this.#libc = libc;
    this.#fd = fd;
    this.path = path;
    this.pid = pid;
    this.#offset = headerSize;
    this.#maxBytes = positive(limits.maxBytes, 1 << 30, "maxBytes");
    this.#maxEntries = positive(limits.maxEntries, 2_000_000, "maxEntries");
    this.#maxTableBytes = positive(limits.maxTableBytes, 128 << 20, "maxTableBytes");
  }

  /**
   * Opens the jitdump the process has mapped (the last one, if it maps
   * several), as the mapped file it is.
   */
  static open(libc: Libc, proc: JitProcess, limits: JitDumpLimits = {}): JitDump | JitDumpUnavailable {
    const where = `/proc/${proc.pid}`;
    const status = readFileText(libc, "status", proc.dirfd);
    const maps = readFileText(libc, "maps", proc.dirfd);
    if (status === undefined || maps === undefined) {
      return { reason: "no-process", path: `${where}/maps`, message: `cannot read ${where}/status and maps` };
    }
    let m: RegExpExecArray | undefined;
    for (const x of maps.matchAll(MAPPED_JITDUMP)) m = x;
    if (!m) return { reason: "no-file", path: `${where}/maps`, message: `process ${proc.pid} maps no jit-* file` };
    const path = `${where}/root${m[6]}`;
    const fd = openMappedFile(libc, proc.dirfd, {
      start: BigInt("0x" + m[1]),
      end: BigInt("0x" + m[2]),
      devMajor: parseInt(m[3], 16),
      devMinor: parseInt(m[4], 16),
      inode: BigInt(m[5]),
      path: new TextEncoder().encode(m[6]),
    });
    if (fd < 0) {
      const message = `cannot open ${path}, the jitdump the process maps (${errnoName(-fd)})`;
      return { reason: fd === -ERRNO.ENOENT ? "no-file" : isTransient(-fd) ? "transient" : "no-access", path, message };
    }
    const uids = (statusFields(status, "Uid:") ?? []).map(Number).filter(Number.isSafeInteger);
    return JitDump.#over(libc, fd, path, limits, uids, Number(namespacePid(status)));
  }

  /**
   * Opens a jitdump file by path, the caller's own (a regular file, checked
   * before it is opened; no owner or pid check).
   */
  static openFile(libc: Libc, path: string, limits: JitDumpLimits = {}): JitDump | JitDumpUnavailable {
    const f = openTargetFile(libc, undefined, path);
    if ("reason" in f) {
      return {
        reason: f.reason === "stale" || f.reason === "too-large" || f.reason === "too-small" ? "no-access" : f.reason,
        path,
        message: f.message,
      };
    }
    return JitDump.#over(libc, f.fd, path, limits, undefined, undefined);
  }

  /** A JitDump over the open `fd` (closed here unless it is kept), after checking its owner and header. */
  static #over(
    libc: Libc,
    fd: number,
    path: string,
    limits: JitDumpLimits,
    uids: readonly number[] | undefined,
    pid: number | undefined,
  ): JitDump | JitDumpUnavailable {
    let keep = false;
    try {
      const id = emptyFileId();
      const st = libc.fstat(fd, id);
      if (st < 0) return { reason: "no-access", path, message: `cannot stat ${path} (${errnoName(-st)})` };
      if ((id.mode & S_IFMT) !== S_IFREG) {
        return { reason: "not-regular-file", path, message: `${path} is not a regular file` };
      }
      if (uids && !uids.includes(id.uid)) {
        return {
          reason: "foreign-owner",
          path,
          message: `${path} is owned by uid ${id.uid}, not by the process (uids ${uids.join(" ")})`,
        };
      }
      const head = new Uint8Array(HEADER_MIN);
      if (libc.pread(fd, head, 0) !== HEADER_MIN) {
        return { reason: "bad-header", path, message: `${path} is shorter than a jitdump header` };
      }
      const v = new DataView(head.buffer);
      const le = nativeLittleEndian;
      if (v.getUint32(0, le) !== MAGIC) {
        return {
          reason: "bad-header",
          path,
          message: `${path} is not a jitdump in this machine's byte order`,
        };
      }
      const headerSize = v.getUint32(8, le);
      const filePid = v.getUint32(20, le);
      if (headerSize < HEADER_MIN || headerSize > 4096) {
        return { reason: "bad-header", path, message: `${path}: header size ${headerSize}` };
      }
      if (pid !== undefined && filePid !== pid) {
        return { reason: "bad-header", path, message: `${path} was written by pid ${filePid}, not ${pid}` };
      }
      const dump = new JitDump(libc, fd, path, filePid, headerSize, limits);
      keep = true;
      dump.refresh();
      return dump;
    } finally {
      if (!keep) libc.close(fd);
    }
  }

  /** Code entries read. */
  get size(): number {
    return this.#ranges.size;
  }

  /** Records skipped because their code lies above 2^53. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Why reading stopped for good (a limit, a malformed record), or undefined. */
  get stopped(): string | undefined {
    return this.#stopped;
  }

  /** Bytes held (entries, names, index). */
  get byteSize(): number {
    return this.#ranges.byteSize + this.#byIndex.size * 48;
  }

  /** Lets the next lookup that misses read what was appended (once). */
  rearm(): void {
    this.#armed = true;
  }

  /** Reads the records appended since the last read; true when new code was named. */
  refresh(): boolean {
    if (this.#fd < 0 || this.#stopped) return false;
    const id: FileId = emptyFileId();
    if (this.#libc.fstat(this.#fd, id) < 0 || id.size === undefined) return false;
    // Only records the file holds whole (the writer may be mid-record).
    const fileEnd = Math.min(Number(id.size), this.#maxBytes);
    const before = this.#ranges.size;
    const buf = this.#buf ??= new Uint8Array(CHUNK);
    while (this.#offset + RECORD_HEADER <= fileEnd && !this.#stopped) {
      const n = this.#libc.pread(this.#fd, buf, this.#offset);
      if (n < RECORD_HEADER) break;
      let p = 0;
      while (p + RECORD_HEADER <= n) {
        const v = new DataView(buf.buffer, buf.byteOffset + p, n - p);
        const le = nativeLittleEndian;
        const kind = v.getUint32(0, le);
        const size = v.getUint32(4, le);
        if (size < RECORD_HEADER) {
          this.#stopped = `malformed record at byte ${this.#offset + p} (size ${size})`;
          break;
        }
        if (this.#offset + p + size > fileEnd) break; // not whole yet
        const need = kind === JIT_CODE_LOAD
          ? Math.min(size, LOAD_FIXED + NAME_MAX)
          : kind === JIT_CODE_MOVE
          ? MOVE_SIZE
          : 0;
        if (p + need > n) break; // re-read from this record
        if (kind === JIT_CODE_LOAD) this.#load(buf.subarray(p, p + need), size);
        else if (kind === JIT_CODE_MOVE && size >= MOVE_SIZE) this.#move(buf.subarray(p, p + need));
        p += size;
        if (this.#stopped) break;
      }
      if (p === 0) break;
      this.#offset += p;
    }
    if (this.#offset >= this.#maxBytes && !this.#stopped) this.#stopped = `maxBytes (${this.#maxBytes})`;
    if (this.#ranges.size === before) return false;
    this.#ranges.reindex();
    return true;
  }

  /**
   * The code covering `addr` (the latest record that covers it), or
   * undefined. A miss reads what was appended, once per {@link rearm}.
   */
  find(addr: bigint): RawSymbol | undefined {
    const hit = this.#ranges.find(addr);
    if (hit !== undefined || this.#fd < 0 || !this.#armed) return hit;
    this.#armed = false;
    return this.refresh() ? this.#ranges.find(addr) : undefined;
  }

  /** Closes the file; lookups then answer from what was read. Idempotent. */
  close(): void {
    if (this.#fd >= 0) this.#libc.close(this.#fd);
    this.#fd = -1;
    this.#buf = undefined;
  }

  /** Closes the file (`using`). */
  [Symbol.dispose](): void {
    this.close();
  }

  /** JIT_CODE_LOAD: pid, tid, vma, code_addr, code_size, code_index, name\0, code. */
  #load(r: Uint8Array, size: number): void {
    if (r.length < LOAD_FIXED + 1) {
      this.#stopped = `malformed JIT_CODE_LOAD record (size ${size})`;
      return;
    }
    const v = new DataView(r.buffer, r.byteOffset, r.length);
    const le = nativeLittleEndian;
    const addr = u64(v, 32, le);
    const codeSize = u64(v, 40, le);
    const index = u64(v, 48, le);
    const nul = r.indexOf(0, LOAD_FIXED);
    if (nul < 0) return; // a name over NAME_MAX, or unterminated: skipped
    this.#add(addr, codeSize, r.subarray(LOAD_FIXED, nul), index);
  }

  /** JIT_CODE_MOVE: pid, tid, vma, old_code_addr, new_code_addr, code_size, code_index. */
  #move(r: Uint8Array): void {
    const v = new DataView(r.buffer, r.byteOffset, r.length);
    const le = nativeLittleEndian;
    const e = this.#byIndex.get(u64(v, 56, le));
    // A copy: adding may move the arena the name lies in.
    if (e !== undefined) this.#add(u64(v, 40, le), u64(v, 48, le), this.#ranges.nameBytesOf(e).slice(), undefined);
  }

  #add(addr: number, size: number, name: Uint8Array, index: number | undefined): void {
    if (!(addr + size <= Number.MAX_SAFE_INTEGER) || name.length === 0) {
      this.#dropped++;
      return;
    }
    if (this.#ranges.size >= this.#maxEntries) {
      this.#stopped = `maxEntries (${this.#maxEntries})`;
      return;
    }
    if (this.byteSize + 48 > this.#maxTableBytes || this.#ranges.byteSizeWith(name.length) + 48 > this.#maxTableBytes) {
      this.#stopped = `maxTableBytes (${this.#maxTableBytes})`;
      return;
    }
    if (index !== undefined) this.#byIndex.set(index, this.#ranges.size);
    this.#ranges.add(addr, addr + size, name);
  }
}

/** A mapped jit-* file: start, end, device major and minor, inode, path. */
const MAPPED_JITDUMP = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ ([0-9a-f]+):([0-9a-f]+) ([1-9]\d*) +(\/\S*\/jit-[^/\n]*)$/gm;

/** A u64 field as a double (NaN-free: values above 2^53 come out inexact and are dropped by the caller). */
function u64(v: DataView, at: number, le: boolean): number {
  const lo = v.getUint32(at + (le ? 0 : 4), le);
  const hi = v.getUint32(at + (le ? 4 : 0), le);
  return hi * TWO32 + lo;
}

function positive(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`JitDump: ${name} must be a positive integer, got ${v}`);
  return v;
}

/** Opens the jitdump a process has mapped (see {@link JitDump.open}). */
export function openJitDump(libc: Libc, proc: JitProcess, limits: JitDumpLimits = {}): JitDump | JitDumpUnavailable {
  return JitDump.open(libc, proc, limits);
}
