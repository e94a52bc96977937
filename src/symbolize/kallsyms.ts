/**
 * Kernel symbols from `/proc/kallsyms` (the kernel's own and loaded
 * modules', `name\t[module]`), sorted once; each symbol reaches up to the
 * next one of its region (the kernel image, or its module), and the last of
 * a region to the page boundary after the next one from its start, as perf
 * sizes them.
 *
 * The kernel shows real addresses only to readers it trusts
 * (`kallsyms_show_value()`, checked when the file is opened): with
 * `kernel.kptr_restrict` 0, to CAP_SYSLOG or when
 * `kernel.perf_event_paranoid` <= 1; with 1, to CAP_SYSLOG only; with 2, to
 * no one. Everyone else reads zeros: the table is then empty and
 * {@link Kallsyms.hidden} says why.
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import { readFileText } from "../procfs/read.ts";
import type { RawSymbol, SymbolTable } from "./types.ts";

/** A kernel symbol, with the module it belongs to (none for the kernel image). */
export interface KernelSymbol extends RawSymbol {
  /** The module's name (`"nf_tables"`), or undefined for the kernel itself. */
  readonly module?: string;
  /** The kallsyms type letter (`T`, `t`, `W`, ...). */
  readonly type: string;
}

/** Why the kernel's addresses are not available. */
export interface KallsymsHidden {
  /**
   * - `"kptr_restrict"`: `kernel.kptr_restrict` is 2: hidden from everyone;
   * - `"no-cap-syslog"`: hidden from this process, which lacks CAP_SYSLOG
   *   (with kptr_restrict 0, `perf_event_paranoid` <= 1 would also do);
   * - `"unreadable"`: the file could not be read at all (no procfs, permission);
   * - `"too-large"`: the file exceeds the size limit.
   */
  readonly reason: "kptr_restrict" | "no-cap-syslog" | "unreadable" | "too-large";
  /** Said for people. */
  readonly message: string;
}

/** Reading limits. */
export interface KallsymsLimits {
  /** Bytes read at most (default 128 MiB; a large kernel has about 15 MiB). */
  maxBytes?: number;
}

const PAGE = 4096n;

/** The kernel's symbol table, by absolute address. */
export class Kallsyms implements SymbolTable {
  /** Which source this is. */
  readonly source = "kallsyms" as const;
  /** Why addresses are hidden (the table is then empty), or undefined. */
  readonly hidden: KallsymsHidden | undefined;
  readonly #starts: BigUint64Array;
  readonly #ends: BigUint64Array;
  // Names stay bytes of the file until asked for.
  readonly #text: Uint8Array;
  readonly #line: Int32Array;
  readonly #symbols: (KernelSymbol | undefined)[];

  /** @internal Use {@link readKallsyms}. */
  constructor(
    starts: BigUint64Array,
    ends: BigUint64Array,
    text: Uint8Array,
    line: Int32Array,
    hidden: KallsymsHidden | undefined,
  ) {
    this.hidden = hidden;
    this.#starts = starts;
    this.#ends = ends;
    this.#text = text;
    this.#line = line;
    // Filled (JavaScriptCore makes `new Array(n)` sparse, and slow, from n = 100,000).
    this.#symbols = Array.from({ length: starts.length }, () => undefined);
  }

  /** Number of symbols (one per address). */
  get size(): number {
    return this.#starts.length;
  }

  /** The symbol covering `addr`, or undefined. */
  find(addr: bigint): KernelSymbol | undefined {
    const starts = this.#starts;
    let lo = 0, hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid] <= addr) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0 || addr >= this.#ends[lo - 1]) return undefined;
    return this.#symbol(lo - 1);
  }

  /** Every symbol, sorted by address (one per address). */
  symbols(): KernelSymbol[] {
    const out: KernelSymbol[] = [];
    for (let i = 0; i < this.#starts.length; i++) out.push(this.#symbol(i));
    return out;
  }

  #symbol(i: number): KernelSymbol {
    const cached = this.#symbols[i];
    if (cached) return cached;
    const t = this.#text;
    const at = this.#line[i];
    const sp = t.indexOf(0x20, at);
    const type = String.fromCharCode(t[sp + 1]);
    const nameAt = sp + 3;
    let end = nameAt;
    while (end < t.length && t[end] !== 0x0a && t[end] !== 0x09) end++;
    const name = decoder.decode(t.subarray(nameAt, end));
    let module: string | undefined;
    if (t[end] === 0x09 && t[end + 1] === 0x5b) {
      const close = t.indexOf(0x5d, end + 2);
      const nl = t.indexOf(0x0a, end);
      if (close > 0 && (nl < 0 || close < nl)) module = decoder.decode(t.subarray(end + 2, close));
    }
    const start = this.#starts[i];
    const size = this.#ends[i] - start;
    const sym: KernelSymbol = module === undefined ? { name, start, size, type } : { name, start, size, type, module };
    this.#symbols[i] = sym;
    return sym;
  }
}

const decoder = new TextDecoder();

/**
 * Reads and sorts `/proc/kallsyms` (or a file in its format). Keeps what
 * perf keeps: text (`T`, `t`), weak (`W`, `w`), data (`D`, `d`) and bss
 * (`B`, `b`) symbols. Where several share an address, one is kept:
 * text over data, global over weak over local, fewer leading underscores,
 * then the longer name (perf's choice among aliases), then the first.
 */
export function readKallsyms(libc: Libc, path = "/proc/kallsyms", limits: KallsymsLimits = {}): Kallsyms {
  const maxBytes = limits.maxBytes ?? 128 << 20;
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
    throw new RangeError(`readKallsyms: maxBytes must be a positive integer, got ${maxBytes}`);
  }
  const empty = (hidden: KallsymsHidden) =>
    new Kallsyms(new BigUint64Array(0), new BigUint64Array(0), new Uint8Array(0), new Int32Array(0), hidden);
  const text = readBounded(libc, path, maxBytes);
  if (typeof text === "string") {
    return empty({
      reason: text === "too-large" ? "too-large" : "unreadable",
      message: text === "too-large" ? `${path} is larger than ${maxBytes} bytes` : `cannot read ${path}`,
    });
  }
  // One pass over the bytes: address halves, the line's offset, its rank.
  let cap = 1024;
  let his = new Uint32Array(cap), los = new Uint32Array(cap), lineAt = new Int32Array(cap);
  let count = 0, lines = 0, zeros = 0;
  for (let at = 0; at < text.length;) {
    let nl = text.indexOf(0x0a, at);
    if (nl < 0) nl = text.length;
    const from = at;
    at = nl + 1;
    let i = from, hi = 0, lo = 0;
    for (; i < nl && i - from < 17; i++) {
      const c = text[i];
      const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
      if (d < 0) break;
      hi = ((hi << 4) | (lo >>> 28)) >>> 0;
      lo = ((lo << 4) | d) >>> 0;
    }
    if (i === from || i - from > 16 || text[i] !== 0x20 || text[i + 2] !== 0x20 || i + 3 >= nl) continue;
    lines++;
    if (hi === 0 && lo === 0) {
      zeros++;
      continue;
    }
    const type = text[i + 1] | 0x20; // lower case
    if (type !== 0x74 && type !== 0x77 && type !== 0x64 && type !== 0x62) continue; // t w d b
    if (text[i + 3] === 0x09) continue; // no name
    if (count === cap) {
      cap *= 2;
      his = grow(his, cap);
      los = grow(los, cap);
      lineAt = grow(lineAt, cap);
    }
    his[count] = hi;
    los[count] = lo;
    lineAt[count] = from;
    count++;
  }
  if (lines > 0 && zeros === lines) return empty(hiddenReason(libc));
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  order.sort((a, b) => his[a] - his[b] || los[a] - los[b] || a - b);
  // One symbol per address.
  const keep: number[] = [];
  for (let k = 0; k < count;) {
    let best = order[k];
    let j = k + 1;
    for (; j < count && his[order[j]] === his[best] && los[order[j]] === los[best]; j++) {
      if (better(text, lineAt[order[j]], lineAt[best])) best = order[j];
    }
    keep.push(best);
    k = j;
  }
  const n = keep.length;
  const starts = new BigUint64Array(n), ends = new BigUint64Array(n);
  const halves = new Uint32Array(starts.buffer);
  const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  const line = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const e = keep[k];
    halves[2 * k + (little ? 0 : 1)] = los[e];
    halves[2 * k + (little ? 1 : 0)] = his[e];
    line[k] = lineAt[e];
  }
  for (let k = 0; k < n; k++) {
    // Up to the next symbol of the same region (the kernel image, or one module); the last of a
    // region, as perf sizes it (symbols__fixup_end), up to the page boundary after the next one
    // from its start: a garbage address past the image (or a module) gets no name.
    ends[k] = k + 1 < n && sameModule(text, line[k], line[k + 1])
      ? starts[k + 1]
      : ((starts[k] + PAGE + PAGE - 1n) / PAGE) * PAGE;
  }
  return new Kallsyms(starts, ends, text, line, undefined);
}

function grow<T extends Uint32Array | Int32Array>(a: T, cap: number): T {
  const b = new (a.constructor as new (n: number) => T)(cap);
  b.set(a);
  return b;
}

/** Rank of a line's type letter: text before data, global before weak before local. */
function rank(text: Uint8Array, at: number): number {
  const c = text[text.indexOf(0x20, at) + 1];
  const lower = c | 0x20;
  const kind = lower === 0x74 || lower === 0x77 ? 0 : 4;
  const binding = lower === 0x77 ? 1 : c === lower ? 2 : 0;
  return kind + binding;
}

/** True when the symbol on line `a` is the better name for the address it shares with line `b`. */
function better(text: Uint8Array, a: number, b: number): boolean {
  const ra = rank(text, a), rb = rank(text, b);
  if (ra !== rb) return ra < rb;
  const na = text.indexOf(0x20, a) + 3, nb = text.indexOf(0x20, b) + 3;
  let ua = 0, ub = 0;
  while (text[na + ua] === 0x5f) ua++;
  while (text[nb + ub] === 0x5f) ub++;
  if (ua !== ub) return ua < ub;
  return nameEnd(text, na) - na > nameEnd(text, nb) - nb;
}

/** The module of the line at `at` (`[name]` after a tab), as [start, end) in `text`, or [0, 0] for the kernel. */
function moduleSpan(text: Uint8Array, at: number): [number, number] {
  const e = nameEnd(text, text.indexOf(0x20, at) + 3);
  if (text[e] !== 0x09 || text[e + 1] !== 0x5b) return [0, 0];
  const close = text.indexOf(0x5d, e + 2);
  return close < 0 ? [0, 0] : [e + 2, close];
}

/** True when the lines at `a` and `b` belong to the same region: both the kernel's, or the same module's. */
function sameModule(text: Uint8Array, a: number, b: number): boolean {
  const [as, ae] = moduleSpan(text, a), [bs, be] = moduleSpan(text, b);
  if (ae - as !== be - bs) return false;
  for (let i = 0; i < ae - as; i++) if (text[as + i] !== text[bs + i]) return false;
  return true;
}

function nameEnd(text: Uint8Array, at: number): number {
  let e = at;
  while (e < text.length && text[e] !== 0x0a && text[e] !== 0x09) e++;
  return e;
}

function hiddenReason(libc: Libc): KallsymsHidden {
  const restrict = readFileText(libc, "/proc/sys/kernel/kptr_restrict")?.trim();
  if (restrict === "2") {
    return {
      reason: "kptr_restrict",
      message: "kernel.kptr_restrict is 2: the kernel hides its addresses from every reader",
    };
  }
  return {
    reason: "no-cap-syslog",
    message: `kernel addresses are hidden from this process (kernel.kptr_restrict is ${restrict ?? "unknown"}): ` +
      "run with CAP_SYSLOG" + (restrict === "0" ? " or set kernel.perf_event_paranoid <= 1" : ""),
  };
}

/** The file's bytes, or why not. */
function readBounded(libc: Libc, path: string, maxBytes: number): Uint8Array | "unreadable" | "too-large" {
  const fd = libc.openRead(path);
  if (fd < 0) return "unreadable";
  try {
    let buf = new Uint8Array(1 << 20);
    let len = 0;
    for (;;) {
      if (len === buf.length) {
        if (buf.length >= maxBytes) {
          const probe = libc.pread(fd, new Uint8Array(1), len);
          if (probe === 0) break;
          return probe < 0 ? "unreadable" : "too-large";
        }
        const grown = new Uint8Array(Math.min(buf.length * 2, maxBytes));
        grown.set(buf);
        buf = grown;
      }
      const n = libc.pread(fd, buf.subarray(len), len);
      if (n < 0) return "unreadable";
      if (n === 0) break;
      len += n;
    }
    return buf.subarray(0, len);
  } finally {
    libc.close(fd);
  }
}
