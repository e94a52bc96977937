/**
 * ELF symbol tables (`.symtab`, `.dynsym`) and PLT stubs, read once per
 * file into sorted typed arrays for binary search.
 *
 * Which symbols: `STT_FUNC`, `STT_GNU_IFUNC` and sized `STT_OBJECT`
 * defined in a section that is loaded (SHF_ALLOC; not undefined, absolute
 * or common; not TLS, whose values are offsets in a TLS block). An address belongs to a symbol when it
 * lies in `[value, value + size)`. A zero-sized symbol (an assembly function
 * without `.size`) reaches up to the next symbol and the end of its section;
 * in `.dynsym`, which lists only exported symbols and so is sparse, only its
 * own address (as blazesym does: reaching to the next export would name
 * static functions after it). A symbol nested in another (or overlapping its
 * end) wins inside its own range; the outer one resumes after it.
 *
 * Aliases (several symbols at one address, e.g. libc's global
 * `__strsep_1c@GLIBC_2.2.5` and local `__old_strsep_1c`): one is picked, by
 * these rules in order: a sized symbol over a zero-sized one; global (and
 * GNU unique) over weak over local; a function over an object; then perf's
 * rules for the name it prints (`choose_best_symbol`): fewer leading
 * underscores, then the longer name; then the earlier entry in the table.
 * nm lists them all; perf and gdb print one.
 *
 * Everything is attacker input: tables are read whole with one read each,
 * up to {@link MAX_TABLE_BYTES}; entries pointing outside their string table
 * or at an unterminated string are dropped; names longer than 64 KiB give
 * no symbol.
 * @module
 */
import type { RawSymbol, SymbolSource, SymbolTable } from "../symbolize/types.ts";
import type { ReadAt } from "./segments.ts";
import { cString, type ElfSections, type Section, sectionBytes, SHT_NOBITS, SHT_RELA } from "./sections.ts";

/** Symbol, string and relocation tables larger than this are refused (64 MiB: 2.8 million ELF64 symbols). */
export const MAX_TABLE_BYTES = 64 << 20;
/** Bytes of names scanned to rank aliases, per table; past it, aliases keep table order. */
const NAME_SCAN_BUDGET = 64 << 20;

const STT_OBJECT = 1;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
const STB_LOCAL = 0;
const STB_GLOBAL = 1;
const STB_WEAK = 2;
const STB_GNU_UNIQUE = 10;
const SHN_UNDEF = 0;
const SHN_LORESERVE = 0xff00;
const SHN_XINDEX = 0xffff;
const SHF_ALLOC = 2n;
const TWO_53 = 2 ** 53;
const TWO_52 = 2 ** 52;
const TWO_32 = 2 ** 32;
const EM_X86_64 = 62;
const EM_AARCH64 = 183;

/** Columns of the symbols a table keeps, before sorting: typed arrays filled up to `n`, grown by doubling. */
class Columns {
  n = 0;
  /** High and low 32 bits of st_value. */
  hi: Uint32Array;
  lo: Uint32Array;
  size: Float64Array;
  /** 2 global/unique, 1 weak, 0 local, -1 other. */
  bind: Int8Array;
  /** 1 function, 0 object. */
  func: Uint8Array;
  nameOff: Uint32Array;
  /** Index into the section ends given to buildTable, or -1 when not known. */
  sectionEnd: Int32Array;

  constructor(capacity: number) {
    const c = Math.max(16, capacity);
    this.hi = new Uint32Array(c);
    this.lo = new Uint32Array(c);
    this.size = new Float64Array(c);
    this.bind = new Int8Array(c);
    this.func = new Uint8Array(c);
    this.nameOff = new Uint32Array(c);
    this.sectionEnd = new Int32Array(c);
  }

  push(hi: number, lo: number, size: number, bind: number, func: number, nameOff: number, sectionEnd: number): void {
    const i = this.n++;
    if (i === this.hi.length) this.#grow();
    this.hi[i] = hi;
    this.lo[i] = lo;
    this.size[i] = size;
    this.bind[i] = bind;
    this.func[i] = func;
    this.nameOff[i] = nameOff;
    this.sectionEnd[i] = sectionEnd;
  }

  #grow(): void {
    const c = this.hi.length * 2;
    const grown = <T extends Uint32Array | Float64Array | Int8Array | Uint8Array | Int32Array>(
      a: T,
      make: new (n: number) => T,
    ) => {
      const b = new make(c);
      b.set(a as never);
      return b;
    };
    this.hi = grown(this.hi, Uint32Array);
    this.lo = grown(this.lo, Uint32Array);
    this.size = grown(this.size, Float64Array);
    this.bind = grown(this.bind, Int8Array);
    this.func = grown(this.func, Uint8Array);
    this.nameOff = grown(this.nameOff, Uint32Array);
    this.sectionEnd = grown(this.sectionEnd, Int32Array);
  }
}

/** A symbol of an ELF table. */
export interface ElfSymbol extends RawSymbol {
  /** `start` as a double (exact below 2^53), for arithmetic without bigints. */
  readonly at: number;
}

/**
 * A sorted symbol table: addresses relative to `base` as doubles (exact
 * below 2^53), a piece list for lookups (each piece names the symbol that
 * covers its range, or none), names decoded on first use.
 */
export class ElfSymbolTable implements SymbolTable {
  readonly source: SymbolSource;
  /** Symbols kept (one per address). */
  readonly count: number;
  /** Approximate memory held, for cache accounting. */
  readonly byteSize: number;
  readonly #base: bigint;
  readonly #baseNumber: number;
  readonly #strtab: Uint8Array;
  readonly #pieceStart: Float64Array;
  readonly #pieceSym: Int32Array;
  readonly #symStart: Float64Array;
  readonly #symSize: Float64Array;
  readonly #symName: Uint32Array;
  readonly #named: (ElfSymbol | null | undefined)[];

  /** @internal Built by {@link buildTable}. */
  constructor(
    source: SymbolSource,
    base: bigint,
    strtab: Uint8Array,
    pieceStart: Float64Array,
    pieceSym: Int32Array,
    symStart: Float64Array,
    symSize: Float64Array,
    symName: Uint32Array,
  ) {
    this.source = source;
    this.#base = base;
    this.#baseNumber = base < BigInt(TWO_53) ? Number(base) : NaN;
    this.#strtab = strtab;
    this.#pieceStart = pieceStart;
    this.#pieceSym = pieceSym;
    this.#symStart = symStart;
    this.#symSize = symSize;
    this.#symName = symName;
    this.count = symStart.length;
    // Filled (JavaScriptCore makes \`new Array(n)\` sparse, and slow, from n = 100,000).
    this.#named = Array.from({ length: symStart.length }, () => undefined);
    this.byteSize = strtab.length + pieceStart.length * 12 + symStart.length * 28 + 256;
  }

  /** The symbol covering `addr` (an ELF address), or undefined. */
  find(addr: bigint): RawSymbol | undefined {
    const a = Number(addr);
    if (a < TWO_52 && this.#baseNumber === this.#baseNumber) return this.symbolOfPiece(this.pieceOf(a, -1));
    const d = addr - this.#base;
    if (d < 0n || d >= BigInt(TWO_53)) return undefined;
    return this.#symbolOfRelative(Number(d));
  }

  /**
   * @internal The piece covering ELF address `a`, a double below 2^52 (so
   * exact), or -1: searched forward from `hint` (the answer for a lower
   * address, or -1), as sorted batches ask, else by binary search.
   */
  pieceOf(a: number, hint: number): number {
    const x = a - this.#baseNumber;
    if (!(x >= 0)) return -1; // below the base, or a base past 2^53 (NaN)
    const starts = this.#pieceStart;
    const n = starts.length;
    let lo: number, hi: number;
    if (hint >= 0 && hint < n && starts[hint] <= x) {
      // Galloping: the next address is usually in the same piece or one close after.
      lo = hint;
      let step = 1;
      hi = hint + 1;
      while (hi < n && starts[hi] <= x) {
        lo = hi;
        step += step;
        hi = lo + step;
      }
      if (hi >= n) hi = n;
      hi--; // starts[hi + 1] > x (or hi + 1 == n)
    } else {
      if (n === 0 || !(x >= starts[0])) return -1;
      lo = 0;
      hi = n - 1;
    }
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid] <= x) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** @internal The symbol of piece `p` ({@link pieceOf}), or undefined for none (or -1). */
  symbolOfPiece(p: number): ElfSymbol | undefined {
    if (p < 0) return undefined;
    const k = this.#pieceSym[p];
    return k < 0 ? undefined : this.#symbol(k) ?? undefined;
  }

  #symbolOfRelative(x: number): RawSymbol | undefined {
    const starts = this.#pieceStart;
    if (starts.length === 0 || !(x >= starts[0])) return undefined;
    let lo = 0, hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid] <= x) lo = mid;
      else hi = mid - 1;
    }
    return this.symbolOfPiece(lo);
  }

  #symbol(k: number): ElfSymbol | null {
    let s = this.#named[k];
    if (s === undefined) {
      const name = cString(this.#strtab, this.#symName[k]);
      s = name === undefined || name === "" ? null : {
        name,
        start: this.#base + BigInt(this.#symStart[k]),
        size: BigInt(this.#symSize[k]),
        demangled: undefined,
        at: this.#baseNumber + this.#symStart[k],
      };
      this.#named[k] = s;
    }
    return s;
  }

  /** Every kept symbol, in address order (for tests and tools). */
  *symbols(): IterableIterator<RawSymbol> {
    for (let k = 0; k < this.count; k++) {
      const s = this.#symbol(k);
      if (s) yield s;
    }
  }
}

/** Counts leading underscores and the length of the name at `off` (into `out`), within a scan budget. */
function nameMetrics(strtab: Uint8Array, off: number, budget: { bytes: number }, out: Int32Array, i: number): void {
  if (budget.bytes <= 0) {
    out[2 * i] = out[2 * i + 1] = 0;
    return;
  }
  const stop = Math.min(strtab.length, off + 4096);
  let end = off;
  while (end < stop && strtab[end] !== 0) end++;
  const len = end < stop ? end - off : 4096;
  budget.bytes -= len + 1;
  let u = 0;
  while (u < len && strtab[off + u] === 0x5f) u++;
  out[2 * i] = u;
  out[2 * i + 1] = len;
}

/**
 * The entries with a finite start (`kept` of them), ordered by start and
 * then by index: a stable LSD radix sort of the starts' 32-bit halves, 11
 * bits at a time, skipping digits that are the same in every start (a
 * table's symbols share their high bits). Linear, and several times faster
 * than the engines' sorts.
 */
function sortedByStart(rel: Float64Array, n: number, kept: number): Uint32Array {
  let order = new Uint32Array(kept);
  const hi = new Uint32Array(n), lo = new Uint32Array(n);
  for (let i = 0, j = 0; i < n; i++) {
    const r = rel[i];
    if (r === Infinity) continue;
    order[j++] = i;
    const h = Math.floor(r / TWO_32);
    hi[i] = h;
    lo[i] = r - h * TWO_32;
  }
  if (kept < 2) return order;
  let next = new Uint32Array(kept);
  const count = new Uint32Array(1 << 11);
  for (const half of [lo, hi]) {
    let diff = 0;
    const first = half[order[0]];
    for (let j = 1; j < kept; j++) diff |= half[order[j]] ^ first;
    for (let shift = 0; shift < 32; shift += 11) {
      if (((diff >>> shift) & 0x7ff) === 0) continue;
      count.fill(0);
      for (let j = 0; j < kept; j++) count[(half[order[j]] >>> shift) & 0x7ff]++;
      let sum = 0;
      for (let d = 0; d < count.length; d++) {
        const c = count[d];
        count[d] = sum;
        sum += c;
      }
      for (let j = 0; j < kept; j++) {
        const i = order[j];
        next[count[(half[i] >>> shift) & 0x7ff]++] = i;
      }
      const t = order;
      order = next;
      next = t;
    }
  }
  return order;
}

/** Longer runs of aliases than this are sorted with Array.prototype.sort (insertion sort below). */
const SHORT_RUN = 16;

/** Sorts, picks one symbol per address, sizes the zero-sized ones and builds the lookup pieces. */
function buildTable(
  source: SymbolSource,
  c: Columns,
  strtab: Uint8Array,
  exactZeroSized: boolean,
  sectionEnds: readonly bigint[] = [],
): ElfSymbolTable {
  const n = c.n;
  // The lowest value is the base; values are kept as doubles relative to it.
  let bhi = 0, blo = 0;
  for (let i = 0; i < n; i++) {
    if (i === 0 || c.hi[i] < bhi || (c.hi[i] === bhi && c.lo[i] < blo)) {
      bhi = c.hi[i];
      blo = c.lo[i];
    }
  }
  const base = (BigInt(bhi) << 32n) | BigInt(blo);
  const rel = new Float64Array(n);
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const d = (c.hi[i] - bhi) * TWO_32 + (c.lo[i] - blo);
    rel[i] = d < TWO_53 ? d : Infinity;
    if (d < TWO_53) kept++;
  }
  const { size, bind: bindOf, func: funcOf } = c;
  const order = sortedByStart(rel, n, kept);
  // Aliases: each run of equal starts sorted by preference, best first. Name
  // metrics are computed for aliases only, within a budget (when it runs
  // out, a run keeps table order) so that the comparison stays consistent.
  const budget = { bytes: NAME_SCAN_BUDGET };
  // Per entry: leading underscores and length of its name (aliases only).
  let metrics: Int32Array | undefined;
  for (let j = 0; j < kept;) {
    let e = j + 1;
    while (e < kept && rel[order[e]] === rel[order[j]]) e++;
    if (e - j > 1) {
      const m = metrics ??= new Int32Array(2 * n);
      for (let x = j; x < e; x++) nameMetrics(strtab, c.nameOff[order[x]], budget, m, order[x]);
      if (budget.bytes <= 0) { for (let x = j; x < e; x++) m[2 * order[x]] = m[2 * order[x] + 1] = 0; }
      const worse = (a: number, b: number): number => {
        const sa = size[a] > 0 ? 1 : 0, sb = size[b] > 0 ? 1 : 0;
        if (sa !== sb) return sb - sa;
        if (bindOf[a] !== bindOf[b]) return bindOf[b] - bindOf[a];
        if (funcOf[a] !== funcOf[b]) return funcOf[b] - funcOf[a];
        const ua = m[2 * a], ub = m[2 * b];
        if (ua !== ub) return ua - ub;
        const la = m[2 * a + 1], lb = m[2 * b + 1];
        if (la !== lb) return lb - la;
        return a - b;
      };
      if (e - j <= SHORT_RUN) {
        // Insertion sort in place: most runs are two or three names.
        for (let x = j + 1; x < e; x++) {
          const v = order[x];
          let y = x - 1;
          while (y >= j && worse(order[y], v) > 0) {
            order[y + 1] = order[y];
            y--;
          }
          order[y + 1] = v;
        }
      } else order.set(Array.from(order.subarray(j, e)).sort(worse), j);
    }
    j = e;
  }
  // One symbol per address: the first of each run of equal starts.
  const groups = new Uint32Array(kept);
  let g = 0;
  for (let j = 0; j < kept; j++) {
    if (j === 0 || rel[order[j]] !== rel[order[j - 1]]) groups[g++] = order[j];
  }
  const symStart = new Float64Array(g);
  const symSize = new Float64Array(g);
  const symEnd = new Float64Array(g);
  const symName = new Uint32Array(g);
  for (let k = 0; k < g; k++) {
    const i = groups[k];
    symStart[k] = rel[i];
    symName[k] = c.nameOff[i];
    if (size[i] > 0) {
      symSize[k] = size[i];
      symEnd[k] = rel[i] + size[i];
    } else if (exactZeroSized) {
      symSize[k] = 0;
      symEnd[k] = rel[i] + 1;
    } else {
      const next = k + 1 < g ? rel[groups[k + 1]] : Infinity;
      const e = c.sectionEnd[i] < 0 ? -1n : sectionEnds[c.sectionEnd[i]] - base;
      const secEnd = e < 0n ? -1 : Number(e);
      const end = Math.min(next, secEnd);
      symEnd[k] = end > rel[i] ? end : rel[i];
      symSize[k] = symEnd[k] - rel[i];
    }
  }
  // Sweep: a stack of open symbols; the innermost (latest started) covers.
  const ps: number[] = [];
  const pk: number[] = [];
  const emit = (pos: number, k: number) => {
    const last = ps.length - 1;
    if (last >= 0 && ps[last] === pos) pk[last] = k;
    else if (last >= 0 && pk[last] === k) return;
    else {
      ps.push(pos);
      pk.push(k);
    }
  };
  const stack: number[] = [];
  const closeUpTo = (limit: number) => {
    while (stack.length && symEnd[stack[stack.length - 1]] <= limit) {
      const pos = symEnd[stack.pop()!];
      while (stack.length && symEnd[stack[stack.length - 1]] <= pos) stack.pop();
      emit(pos, stack.length ? stack[stack.length - 1] : -1);
    }
  };
  for (let k = 0; k < g; k++) {
    if (symEnd[k] <= symStart[k]) continue; // no extent (a zero-sized symbol at its section's end)
    closeUpTo(symStart[k]);
    emit(symStart[k], k);
    stack.push(k);
  }
  closeUpTo(Infinity);
  return new ElfSymbolTable(
    source,
    base,
    strtab,
    Float64Array.from(ps),
    Int32Array.from(pk),
    symStart,
    symSize,
    symName,
  );
}

/** Why a table could not be read. */
export type TableProblem = "none" | "unreadable" | "too-big";

/**
 * Reads the symbol table in section `sym` (`.symtab` or `.dynsym`) with its
 * string table, or says why not.
 */
export function readSymbolTable(
  read: ReadAt,
  elf: ElfSections,
  sym: Section,
  source: SymbolSource,
): ElfSymbolTable | TableProblem {
  const entsize = elf.is64 ? 24 : 16;
  if (sym.type === SHT_NOBITS || sym.size === 0n) return "none";
  if (sym.size > BigInt(MAX_TABLE_BYTES)) return "too-big";
  if (sym.link >= elf.sections.length) return "unreadable";
  const strSec = elf.sections[sym.link];
  if (strSec.size > BigInt(MAX_TABLE_BYTES)) return "too-big";
  const bytes = sectionBytes(read, sym, MAX_TABLE_BYTES);
  const strtab = sectionBytes(read, strSec, MAX_TABLE_BYTES);
  if (!bytes || !strtab) return "unreadable";
  const le = elf.le;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const count = Math.floor(bytes.length / entsize);
  const lastNul = strtab.lastIndexOf(0);
  // Sized for a typical table (most entries are kept); a huge one grows as kept entries come.
  const c = new Columns(Math.min(count, 1 << 16));
  const secEnds = elf.sections.map((s) => (s.flags & SHF_ALLOC) !== 0n ? s.addr + s.size : -1n);
  const secStarts = elf.sections.map((s) => s.addr);
  // The same bounds as doubles where exact (NaN where not: those take the bigint route).
  const exact = (v: bigint) => (v < BigInt(TWO_53) ? Number(v) : NaN);
  const secEndsNum = secEnds.map((e) => (e < 0n ? -1 : exact(e)));
  const secStartsNum = secStarts.map(exact);
  for (let i = 1; i < count; i++) {
    const at = i * entsize;
    let name: number, info: number, shndx: number, hi: number, lo: number, sizeHi: number, size: number;
    if (elf.is64) {
      name = v.getUint32(at, le);
      info = bytes[at + 4];
      shndx = v.getUint16(at + 6, le);
      lo = v.getUint32(at + (le ? 8 : 12), le);
      hi = v.getUint32(at + (le ? 12 : 8), le);
      size = v.getUint32(at + (le ? 16 : 20), le);
      sizeHi = v.getUint32(at + (le ? 20 : 16), le);
    } else {
      name = v.getUint32(at, le);
      hi = 0;
      lo = v.getUint32(at + 4, le);
      size = v.getUint32(at + 8, le);
      sizeHi = 0;
      info = bytes[at + 12];
      shndx = v.getUint16(at + 14, le);
    }
    const type = info & 0xf;
    const bind = info >> 4;
    const isFunc = type === STT_FUNC || type === STT_GNU_IFUNC;
    const sized = size !== 0 || sizeHi !== 0;
    if (!isFunc && !(type === STT_OBJECT && sized)) continue;
    if (shndx === SHN_UNDEF || (shndx >= SHN_LORESERVE && shndx !== SHN_XINDEX)) continue;
    if (name === 0 || name > lastNul) continue; // no name, or one that runs off the table
    if (sizeHi >= 1 << 21) continue; // 2^53 bytes or more: not a real size
    // Symbols of sections not loaded into memory (.gnu.warning.*, ...) name no address.
    if (shndx !== SHN_XINDEX && shndx < secEnds.length && secEndsNum[shndx] === -1) continue;
    let section = -1;
    if (shndx !== SHN_XINDEX && shndx < secEnds.length) {
      const start = secStartsNum[shndx], end = secEndsNum[shndx];
      if (hi < 1 << 21 && start === start && end === end) {
        const value = hi * TWO_32 + lo;
        if (value >= start && value < end) section = shndx;
      } else {
        const value = (BigInt(hi) << 32n) | BigInt(lo);
        if (value >= secStarts[shndx] && value < secEnds[shndx]) section = shndx;
      }
    }
    if (!sized && section < 0) continue; // no way to bound it
    c.push(
      hi,
      lo,
      sizeHi * TWO_32 + size,
      bind === STB_GLOBAL || bind === STB_GNU_UNIQUE ? 2 : bind === STB_WEAK ? 1 : bind === STB_LOCAL ? 0 : -1,
      isFunc ? 1 : 0,
      name,
      section,
    );
  }
  return buildTable(source, c, strtab, source === "dynsym", secEnds);
}

/**
 * `name@plt` symbols for the PLT stubs, from `.rela.plt` and `.dynsym`, as
 * objdump and perf name them. x86_64: `.plt.sec` (IBT) holds the stubs when
 * present, 16 bytes each; else `.plt`, 16 bytes each after a 16-byte header.
 * AArch64: `.plt`, 16 bytes each after a 32-byte header. The stub of each
 * relocation is found from its GOT slot (`(r_offset - .got.plt) / 8 - 3`),
 * which is how the linker lays them out (libc's relocations are not in stub
 * order); IRELATIVE entries have no symbol and get no name. Other machines
 * and ELF32: none.
 */
export function readPltTable(read: ReadAt, elf: ElfSections, source: SymbolSource): ElfSymbolTable | TableProblem {
  if (!elf.is64 || (elf.machine !== EM_X86_64 && elf.machine !== EM_AARCH64)) return "none";
  const rela = elf.byName(".rela.plt");
  const pltSec = elf.machine === EM_X86_64 ? elf.byName(".plt.sec") : undefined;
  const plt = pltSec ?? elf.byName(".plt");
  const gotPlt = elf.byName(".got.plt");
  if (!rela || rela.type !== SHT_RELA || !plt || rela.link >= elf.sections.length) return "none";
  const header = pltSec ? 0n : elf.machine === EM_X86_64 ? 16n : 32n;
  const stubs = plt.size > header ? (plt.size - header) / 16n : 0n;
  if (stubs === 0n) return "none";
  const dynsym = elf.sections[rela.link];
  if (rela.size > BigInt(MAX_TABLE_BYTES) || dynsym.size > BigInt(MAX_TABLE_BYTES)) return "too-big";
  const relas = sectionBytes(read, rela, MAX_TABLE_BYTES);
  const syms = sectionBytes(read, dynsym, MAX_TABLE_BYTES);
  const strSec = dynsym.link < elf.sections.length ? elf.sections[dynsym.link] : undefined;
  const strtab = strSec ? sectionBytes(read, strSec, MAX_TABLE_BYTES) : null;
  if (!relas || !syms || !strtab) return "unreadable";
  const le = elf.le;
  const rv = new DataView(relas.buffer, relas.byteOffset, relas.length);
  const sv = new DataView(syms.buffer, syms.byteOffset, syms.length);
  const lastNul = strtab.lastIndexOf(0);
  const names: string[] = [];
  const values: bigint[] = [];
  const n = Math.floor(relas.length / 24);
  for (let i = 0; i < n; i++) {
    const offset = rv.getBigUint64(i * 24, le);
    const symIndex = Number(rv.getBigUint64(i * 24 + 8, le) >> 32n);
    let slot = BigInt(i);
    if (gotPlt) {
      const s = (offset - gotPlt.addr) / 8n - 3n;
      if (offset >= gotPlt.addr && (offset - gotPlt.addr) % 8n === 0n) slot = s;
    }
    if (slot < 0n || slot >= stubs || symIndex === 0 || (symIndex + 1) * 24 > syms.length) continue;
    const nameOff = sv.getUint32(symIndex * 24, le);
    if (nameOff === 0 || nameOff > lastNul) continue;
    const name = cString(strtab, nameOff);
    if (!name) continue;
    names.push(name + "@plt");
    values.push(plt.addr + header + slot * 16n);
  }
  // The names as a string table of their own.
  const encoder = new TextEncoder();
  const encoded = names.map((s) => encoder.encode(s));
  const table = new Uint8Array(1 + encoded.reduce((a, e) => a + e.length + 1, 0));
  const c = new Columns(encoded.length);
  let at = 1;
  encoded.forEach((e, i) => {
    table.set(e, at);
    c.push(Number(values[i] >> 32n), Number(values[i] & 0xffffffffn), 16, 2, 1, at, -1);
    at += e.length + 1;
  });
  return buildTable(source, c, table, false);
}
