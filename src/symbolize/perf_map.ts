/**
 * JIT symbols from a `perf-<pid>.map` file: one `START SIZE name` line per
 * piece of generated code, hex without `0x`, as V8 writes them with
 * `--perf-basic-prof` (Node; Deno with `--v8-flags=--perf-basic-prof`) and
 * perf reads them.
 *
 * The file lives in the target's own `/tmp` under the pid its own PID
 * namespace gives it (`NSpid` in `/proc/<pid>/status`), and the target
 * writes it: everything in it is hostile. It must be a regular file owned by
 * one of the target's user IDs (not a link to someone else's file), it is
 * read in bounded pieces (file bytes, line length, entry count), and every
 * malformed line is skipped.
 *
 * Where lines overlap, the later line wins over the earlier ones for the
 * range it covers: JIT engines reuse code memory after a collection, and
 * append the new code's line. Lines are only ever appended, so the map is
 * re-read from where it ended when it grows ({@link PerfMap.refresh}; a
 * lookup that misses refreshes once by itself).
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import type { Pid } from "../options.ts";
import { readFileText } from "../procfs/read.ts";
import { namespacePid, statusFields } from "./proc_status.ts";
import { openJitFile } from "./jit_file.ts";
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
}

/** Why a process's perf map could not be opened. */
export interface PerfMapUnavailable {
  /**
   * - `"no-process"`: the process's status could not be read;
   * - `"no-file"`: there is no such map (the process does not write one);
   * - `"no-access"`: it exists but cannot be opened (permission);
   * - `"not-regular-file"`: a FIFO, device, directory or the like (refused);
   * - `"foreign-owner"`: not owned by any of the process's user IDs (a link
   *   to another user's file is refused, as perf refuses maps it does not own).
   */
  readonly reason: "no-process" | "no-file" | "no-access" | "not-regular-file" | "foreign-owner";
  /** The path tried. */
  readonly path: string;
  /** Said for people. */
  readonly message: string;
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

  readonly #ranges = new LatestRanges();

  /** Bytes consumed up to the end of the last whole line. */
  #offset = 0;
  #carry: Uint8Array = new Uint8Array(0);
  #skippingLine = false;
  #buf: Uint8Array | undefined;
  #limited: string | undefined;
  #dropped = 0;

  private constructor(libc: Libc, fd: number, path: string, limits: PerfMapLimits) {
    this.#libc = libc;
    this.#fd = fd;
    this.path = path;
    this.#maxBytes = limit(limits.maxBytes, 256 << 20, "maxBytes");
    this.#maxLineBytes = limit(limits.maxLineBytes, 4096, "maxLineBytes");
    this.#maxEntries = limit(limits.maxEntries, 2_000_000, "maxEntries");
  }

  /**
   * Opens the perf map of process `pid`: `/proc/<pid>/root/tmp/perf-<nspid>.map`.
   * Returns why not where it cannot.
   */
  static open(libc: Libc, pid: Pid, limits: PerfMapLimits = {}): PerfMap | PerfMapUnavailable {
    const proc = `/proc/${pid}`;
    const status = readFileText(libc, `${proc}/status`);
    if (status === undefined) {
      return { reason: "no-process", path: `${proc}/status`, message: `cannot read ${proc}/status` };
    }
    const nspid = namespacePid(status);
    const uids = statusFields(status, "Uid:");
    const path = `${proc}/root/tmp/perf-${nspid}.map`;
    return PerfMap.#openPath(libc, path, limits, uids);
  }

  /**
   * Opens a map file by path (a regular file; no owner check). For maps
   * kept elsewhere, and tests.
   */
  static openFile(libc: Libc, path: string, limits: PerfMapLimits = {}): PerfMap | PerfMapUnavailable {
    return PerfMap.#openPath(libc, path, limits, undefined);
  }

  static #openPath(
    libc: Libc,
    path: string,
    limits: PerfMapLimits,
    uids: string[] | undefined,
  ): PerfMap | PerfMapUnavailable {
    const fd = openJitFile(libc, path, uids);
    if (typeof fd !== "number") return fd;
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

  /** The symbol covering `addr` (the latest line that covers it), or undefined. */
  find(addr: bigint): RawSymbol | undefined {
    const hit = this.#lookup(addr);
    if (hit !== undefined || this.#fd < 0) return hit;
    return this.refresh() ? this.#lookup(addr) : undefined;
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

  #lookup(addr: bigint): RawSymbol | undefined {
    return this.#ranges.find(addr);
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
    this.#ranges.add(start, start + size, decoder.decode(b.subarray(i, end)));
  }
}

const decoder = new TextDecoder();

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
 * Opens the perf map of process `pid` (see {@link PerfMap.open}); the
 * result is a {@link PerfMap} or why there is none.
 */
export function openPerfMap(libc: Libc, pid: Pid, limits: PerfMapLimits = {}): PerfMap | PerfMapUnavailable {
  return PerfMap.open(libc, pid, limits);
}
