/**
 * JIT symbols from a `perf-<pid>.map` file: one `START SIZE name` line per
 * piece of generated code, hex without `0x`, as V8 writes them with
 * `--perf-basic-prof` (Node; Deno with `--v8-flags=--perf-basic-prof`) and
 * perf reads them.
 *
 * The file lives in the target's own `/tmp` under the pid its own PID
 * namespace gives it (`NSpid` in `/proc/<pid>/status`), and the target
 * writes it: everything in it is hostile. Its path is resolved inside the
 * target's root and the file checked before it is opened for reading
 * (procfs/target_files.ts): a regular file owned by one of the target's
 * user IDs, written since the process started (a map left by a dead
 * process whose pid was reused is refused). It is read in bounded pieces
 * (file bytes, line length, entry count, bytes held), and every malformed
 * line is skipped.
 *
 * Where lines overlap, the later line wins over the earlier ones for the
 * range it covers: JIT engines reuse code memory after a collection, and
 * append the new code's line. Lines are only ever appended, so the map is
 * re-read from where it ended when it grows ({@link PerfMap.refresh}); a
 * lookup that misses reads what was appended, once until
 * {@link PerfMap.rearm} (once per `symbolize()` call), so that a target
 * appending while many addresses miss costs one read, not one per miss.
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import type { Pid } from "../options.ts";
import { readFileText } from "../procfs/read.ts";
import { openTargetFile, type TargetFileProblem } from "../procfs/target_files.ts";
import { namespacePid, statusFields } from "./proc_status.ts";
import { LatestRanges } from "./latest_ranges.ts";
import type { RawSymbol, SymbolTable } from "./types.ts";

/** Limits on what is read from a map file (each is also the default's reason to stop). */
export interface PerfMapLimits {
  /** Bytes of the file read at most (default 256 MiB). */
  maxBytes?: number;
  /** Longer lines are skipped (default 4096 bytes). */
  maxLineBytes?: number;
  /** Entries kept at most (default 2,000,000). */
  maxEntries?: number;
  /** Bytes the table may hold (entries, names, index; default 128 MiB): a Symbolizer's maxCacheBytes. */
  maxTableBytes?: number;
}

/** Why a process's perf map could not be opened. */
export interface PerfMapUnavailable {
  /**
   * - `"no-process"`: the process's status could not be read;
   * - `"no-file"`: there is no such map (the process does not write one);
   * - `"no-access"`: it exists but cannot be opened (permission, a magic link);
   * - `"not-regular-file"`: a FIFO, device, directory or the like (refused unopened);
   * - `"foreign-owner"`: not owned by any of the process's user IDs (a link
   *   to another user's file is refused, as perf refuses maps it does not own);
   * - `"stale"`: last written before the process started (left by an earlier
   *   process with the same pid);
   * - `"too-large"`, `"transient"`: see procfs/target_files.ts.
   */
  readonly reason: "no-process" | TargetFileProblem;
  /** The path tried. */
  readonly path: string;
  /** Said for people. */
  readonly message: string;
}

/** The process whose perf map is read: its pinned `/proc/<pid>` directory and start (procfs/process.ts's ProcessRef). */
export interface JitProcess {
  readonly pid: Pid;
  readonly dirfd: number;
  startedAtNs(): bigint | undefined;
}

const CHUNK = 1 << 20;

/** A `perf-<pid>.map` file, read so far; absolute addresses. */
export class PerfMap implements SymbolTable {
  /** Which source this is. */
  readonly source = "perf-map" as const;
  /** The map file's path. */
  readonly path: string;
  readonly #libc: Libc;
  #fd: number;
  readonly #maxBytes: number;
  readonly #maxLineBytes: number;
  readonly #maxEntries: number;
  readonly #maxTableBytes: number;

  readonly #ranges = new LatestRanges();

  /** Bytes consumed up to the end of the last whole line. */
  #offset = 0;
  #carry: Uint8Array = new Uint8Array(0);
  #skippingLine = false;
  #buf: Uint8Array | undefined;
  #limited: string | undefined;
  #dropped = 0;
  /** A missing lookup may read what was appended (once per {@link rearm}). */
  #armed = true;

  private constructor(libc: Libc, fd: number, path: string, limits: PerfMapLimits) {
    this.#libc = libc;
    this.#fd = fd;
    this.path = path;
    this.#maxBytes = limit(limits.maxBytes, 256 << 20, "maxBytes");
    this.#maxLineBytes = limit(limits.maxLineBytes, 4096, "maxLineBytes");
    this.#maxEntries = limit(limits.maxEntries, 2_000_000, "maxEntries");
    this.#maxTableBytes = limit(limits.maxTableBytes, 128 << 20, "maxTableBytes");
  }

  /**
   * Opens the perf map of the process: `/tmp/perf-<nspid>.map` inside its
   * root, through its pinned `/proc/<pid>` directory. Returns why not where
   * it cannot.
   */
  static open(libc: Libc, proc: JitProcess, limits: PerfMapLimits = {}): PerfMap | PerfMapUnavailable {
    const where = `/proc/${proc.pid}`;
    const status = readFileText(libc, "status", proc.dirfd);
    if (status === undefined) {
      return { reason: "no-process", path: `${where}/status`, message: `cannot read ${where}/status` };
    }
    const nspid = namespacePid(status);
    const uids = (statusFields(status, "Uid:") ?? []).map(Number).filter(Number.isSafeInteger);
    const inRoot = `/tmp/perf-${nspid}.map`;
    const path = `${where}/root${inRoot}`;
    const started = proc.startedAtNs();
    const f = openTargetFile(libc, proc.dirfd, inRoot, {
      uids,
      label: path,
      ...(started === undefined ? {} : { notBeforeNs: started }),
    });
    if ("reason" in f) return { reason: f.reason, path, message: f.message };
    return PerfMap.#over(libc, f.fd, path, limits);
  }

  /**
   * Opens a map file by path, the caller's own (a regular file, checked
   * before it is opened; no owner check). For maps kept elsewhere, and tests.
   */
  static openFile(libc: Libc, path: string, limits: PerfMapLimits = {}): PerfMap | PerfMapUnavailable {
    const f = openTargetFile(libc, undefined, path);
    if ("reason" in f) return { reason: f.reason, path, message: f.message };
    return PerfMap.#over(libc, f.fd, path, limits);
  }

  static #over(libc: Libc, fd: number, path: string, limits: PerfMapLimits): PerfMap {
    let keep = false;
    try {
      const map = new PerfMap(libc, fd, path, limits);
      keep = true;
      map.refresh();
      return map;
    } finally {
      if (!keep) libc.close(fd);
    }
  }

  /** Entries read (lines that parsed, including those later lines overrode). */
  get size(): number {
    return this.#ranges.size;
  }

  /** Lines skipped because an address lies above 2^53 (not read). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Which limit stopped reading, or undefined while none has. */
  get limitReached(): string | undefined {
    return this.#limited;
  }

  /** Bytes held (entries, names, index). */
  get byteSize(): number {
    return this.#ranges.byteSize;
  }

  /** Lets the next lookup that misses read what was appended (once). */
  rearm(): void {
    this.#armed = true;
  }

  /**
   * Reads what was appended since the last read (whole lines only; a line
   * still being written waits for its newline). Returns true when new
   * entries were added.
   */
  refresh(): boolean {
    if (this.#fd < 0 || this.#limited) return false;
    const before = this.#ranges.size;
    const buf = this.#buf ??= new Uint8Array(CHUNK);
    let at = this.#offset + this.#carry.length;
    for (;;) {
      if (at >= this.#maxBytes) {
        this.#limited = `maxBytes (${this.#maxBytes})`;
        break;
      }
      const want = Math.min(buf.length, this.#maxBytes - at);
      const n = this.#libc.pread(this.#fd, buf.subarray(0, want), at);
      if (n <= 0) break;
      at += n;
      this.#consume(buf.subarray(0, n));
      if (this.#limited) break;
    }
    if (this.#ranges.size === before) return false;
    this.#ranges.reindex();
    return true;
  }

  /**
   * The symbol covering `addr` (the latest line that covers it), or
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
    this.#carry = new Uint8Array(0);
  }

  /** Closes the file (`using`). */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Splits `chunk` (with what was left of the previous one) into lines. */
  #consume(chunk: Uint8Array): void {
    let data = chunk;
    if (this.#carry.length) {
      data = new Uint8Array(this.#carry.length + chunk.length);
      data.set(this.#carry);
      data.set(chunk, this.#carry.length);
    }
    let lineStart = 0;
    for (;;) {
      const nl = data.indexOf(0x0a, lineStart);
      if (nl < 0) break;
      if (this.#skippingLine) this.#skippingLine = false;
      else if (nl - lineStart <= this.#maxLineBytes) this.#parseLine(data, lineStart, nl);
      this.#offset += nl + 1 - lineStart;
      lineStart = nl + 1;
      if (this.#limited) return;
    }
    const rest = data.length - lineStart;
    if (this.#skippingLine || rest > this.#maxLineBytes) {
      // An overlong line: its bytes are passed over until its newline.
      this.#skippingLine = true;
      this.#offset += rest;
      this.#carry = new Uint8Array(0);
    } else {
      this.#carry = data.slice(lineStart);
    }
  }

  /** One line `START SIZE name` (perf's rules: hex without 0x, single spaces, a non-empty name). */
  #parseLine(b: Uint8Array, from: number, to: number): void {
    let i = from;
    let start = 0;
    let digits = 0;
    for (; i < to; i++, digits++) {
      const d = hexDigit(b[i]);
      if (d < 0) break;
      start = start * 16 + d;
    }
    if (digits === 0 || digits > 16 || b[i] !== 0x20) return;
    i++;
    let size = 0;
    digits = 0;
    for (; i < to; i++, digits++) {
      const d = hexDigit(b[i]);
      if (d < 0) break;
      size = size * 16 + d;
    }
    if (digits === 0 || digits > 16 || b[i] !== 0x20) return;
    i++;
    let end = to;
    if (end > i && b[end - 1] === 0x0d) end--; // CRLF
    if (end <= i) return;
    if (start + size > Number.MAX_SAFE_INTEGER) {
      this.#dropped++;
      return;
    }
    if (this.#ranges.size >= this.#maxEntries) {
      this.#limited = `maxEntries (${this.#maxEntries})`;
      return;
    }
    if (this.#ranges.byteSize >= this.#maxTableBytes || this.#ranges.byteSizeWith(end - i) > this.#maxTableBytes) {
      this.#limited = `maxTableBytes (${this.#maxTableBytes})`;
      return;
    }
    this.#ranges.add(start, start + size, b.subarray(i, end));
  }
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

function limit(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`PerfMap: ${name} must be a positive integer, got ${v}`);
  return v;
}

/**
 * Opens the perf map of a process (see {@link PerfMap.open}); the result is
 * a {@link PerfMap} or why there is none.
 */
export function openPerfMap(libc: Libc, proc: JitProcess, limits: PerfMapLimits = {}): PerfMap | PerfMapUnavailable {
  return PerfMap.open(libc, proc, limits);
}
