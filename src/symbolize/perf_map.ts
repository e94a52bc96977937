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
import type { FileId, Libc } from "../../ffi/mod.ts";
import type { Pid } from "../errors.ts";
import { readFileText } from "../procfs/read.ts";
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

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const CHUNK = 1 << 20;
const ENOENT = 2;

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

  // Entries in file order (a later index wins), addresses as doubles: maps
  // are only read below 2^53 (user space on x86_64 and aarch64 is below 2^57;
  // JIT code above 2^53 would be dropped, see `dropped`).
  #starts: number[] = [];
  #ends: number[] = [];
  #names: string[] = [];
  #symbols: (RawSymbol | undefined)[] = [];
  // The winner of every address range, disjoint and sorted.
  #segStarts = new Float64Array(0);
  #segEnds = new Float64Array(0);
  #segEntry = new Int32Array(0);
  #indexed = 0;

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
    const nspid = lastField(status, "NSpid:") ?? lastField(status, "Pid:");
    const uids = fields(status, "Uid:");
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
    // openRead uses O_NONBLOCK: a FIFO put there cannot block the open.
    const fd = libc.openRead(path);
    if (fd < 0) {
      return fd === -ENOENT
        ? { reason: "no-file", path, message: `${path} does not exist` }
        : { reason: "no-access", path, message: `cannot open ${path} (errno ${-fd})` };
    }
    let keep = false;
    try {
      const id: FileId = { devMajor: 0, devMinor: 0, inode: 0n, mode: 0, mountId: 0n };
      const r = libc.fstat(fd, id);
      if (r < 0) return { reason: "no-access", path, message: `cannot fstat ${path} (errno ${-r})` };
      if ((id.mode & S_IFMT) !== S_IFREG) {
        return { reason: "not-regular-file", path, message: `${path} is not a regular file` };
      }
      if (uids && id.uid !== undefined && !uids.includes(String(id.uid))) {
        return {
          reason: "foreign-owner",
          path,
          message: `${path} is owned by uid ${id.uid}, not by the process (uids ${uids.join(" ")})`,
        };
      }
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
    return this.#starts.length;
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
    const before = this.#starts.length;
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
    if (this.#starts.length !== before) this.#reindex();
    return this.#starts.length !== before;
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

  [Symbol.dispose](): void {
    this.close();
  }

  #lookup(addr: bigint): RawSymbol | undefined {
    if (addr < 0n || addr > 9007199254740991n) return undefined;
    const a = Number(addr);
    const starts = this.#segStarts;
    let lo = 0, hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid] <= a) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0 || a >= this.#segEnds[lo - 1]) return undefined;
    const e = this.#segEntry[lo - 1];
    return this.#symbols[e] ??= {
      name: this.#names[e],
      start: BigInt(this.#starts[e]),
      size: BigInt(this.#ends[e] - this.#starts[e]),
    };
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
    if (this.#starts.length >= this.#maxEntries) {
      this.#limited = `maxEntries (${this.#maxEntries})`;
      return;
    }
    this.#starts.push(start);
    this.#ends.push(start + size);
    this.#names.push(decoder.decode(b.subarray(i, end)));
    this.#symbols.push(undefined);
  }

  /**
   * Rebuilds the disjoint ranges: a sweep over all range boundaries with a
   * heap of the entries covering the current point, the latest on top
   * (entries that ended are dropped when they surface). O(n log n).
   */
  #reindex(): void {
    const n = this.#starts.length;
    const starts = this.#starts, ends = this.#ends;
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => starts[a] - starts[b]);
    const bounds = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      bounds[2 * i] = starts[i];
      bounds[2 * i + 1] = ends[i];
    }
    bounds.sort();
    const heap: number[] = [];
    const segS: number[] = [], segE: number[] = [], segI: number[] = [];
    let p = 0;
    for (let k = 0; k < bounds.length; k++) {
      const x = bounds[k];
      if (k > 0 && x === bounds[k - 1]) continue;
      while (p < n && starts[order[p]] <= x) heapPush(heap, order[p++]);
      while (heap.length && ends[heap[0]] <= x) heapPop(heap);
      if (!heap.length) continue;
      let next = x;
      for (let j = k + 1; j < bounds.length; j++) {
        if (bounds[j] !== x) {
          next = bounds[j];
          break;
        }
      }
      if (next === x) continue;
      const w = heap[0];
      const last = segS.length - 1;
      if (last >= 0 && segI[last] === w && segE[last] === x) segE[last] = next;
      else {
        segS.push(x);
        segE.push(next);
        segI.push(w);
      }
    }
    this.#segStarts = Float64Array.from(segS);
    this.#segEnds = Float64Array.from(segE);
    this.#segEntry = Int32Array.from(segI);
    this.#indexed = n;
  }

  /** Entries indexed for lookup (for tests). */
  get indexedEntries(): number {
    return this.#indexed;
  }
}

const decoder = new TextDecoder();

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

// A max-heap of entry indices (a later line has a larger index and wins).
function heapPush(h: number[], v: number): void {
  let i = h.push(v) - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (h[parent] >= v) break;
    h[i] = h[parent];
    i = parent;
  }
  h[i] = v;
}

function heapPop(h: number[]): void {
  const last = h.pop()!;
  if (!h.length) return;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= h.length) break;
    const c = l + 1 < h.length && h[l + 1] > h[l] ? l + 1 : l;
    if (h[c] <= last) break;
    h[i] = h[c];
    i = c;
  }
  h[i] = last;
}

function limit(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`PerfMap: ${name} must be a positive integer, got ${v}`);
  return v;
}

/** The whitespace-separated values of the status line `key` (e.g. "NSpid:"), or undefined. */
function fields(status: string, key: string): string[] | undefined {
  for (const line of status.split("\n")) {
    if (line.startsWith(key)) return line.slice(key.length).trim().split(/\s+/).filter(Boolean);
  }
  return undefined;
}

function lastField(status: string, key: string): string | undefined {
  const f = fields(status, key);
  return f && f.length ? f[f.length - 1] : undefined;
}

/**
 * Opens the perf map of process `pid` (see {@link PerfMap.open}); the
 * result is a {@link PerfMap} or why there is none.
 */
export function openPerfMap(libc: Libc, pid: Pid, limits: PerfMapLimits = {}): PerfMap | PerfMapUnavailable {
  return PerfMap.open(libc, pid, limits);
}
