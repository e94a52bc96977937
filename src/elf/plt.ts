/**
 * `name@plt` symbols for PLT stubs, named as objdump and gdb name them (both
 * through BFD's synthetic symbols): each stub is decoded to the GOT slot it
 * jumps through, and the dynamic relocation of that slot names it, so the
 * stubs' order and the relocations' order need not agree.
 *
 * - x86_64: `.plt` (lazy stubs, after a 16-byte header), `.plt.sec` (the
 *   stubs when IBT is on), `.plt.got` (non-lazy stubs through a GLOB_DAT
 *   slot, e.g. `__cxa_finalize@plt` in a PIE), `.plt.bnd`; a stub is a
 *   `jmp *disp32(%rip)`, optionally after `endbr64` and/or with a `bnd`
 *   prefix, within an entry of the section's entry size.
 * - AArch64: `.plt` (after a 32-byte header), 16-byte stubs of
 *   `adrp x16, page; ldr x17, [x16, #off]; add; br x17`, or 24-byte ones
 *   with BTI (`bti c` first) or PAC (`autia1716` before the branch).
 * - A slot relocated by `R_*_JUMP_SLOT` or `R_*_GLOB_DAT` names the stub
 *   after its `.dynsym` symbol; an `R_*_IRELATIVE` slot (an ifunc resolved
 *   at load time) after its resolver's address, as gdb does:
 *   `*ABS*+0x9f550@plt`.
 * Other machines and ELF32: none.
 *
 * Hostile files: a PLT section is read whole from the file or not at all
 * (one claiming bytes the file does not have names nothing), at most
 * {@link MAX_PLT_BYTES}, so the stub count is bounded by the file;
 * relocation tables at most MAX_TABLE_BYTES each; names are decoded once
 * per distinct string-table offset, and all names together are held to
 * {@link MAX_PLT_NAME_BYTES} (stubs past it are not named).
 * @module
 */
import type { SymbolSource } from "../symbol.ts";
import type { ReadAt } from "./segments.ts";
import { type ElfSections, type Section, sectionBytes, SHT_DYNSYM, SHT_NOBITS, SHT_RELA } from "./sections.ts";
import { MAX_TABLE_BYTES, type TableProblem } from "./symbols.ts";
import { Columns, sortedByStart } from "./symbol_sort.ts";
import { ElfSymbolTable } from "./symbol_table.ts";

/** PLT sections larger than this are not read (16 MiB: a million stubs; real ones are a few KiB to a few 100 KiB). */
export const MAX_PLT_BYTES = 16 << 20;
/** Bytes of stub names held per file at most. */
export const MAX_PLT_NAME_BYTES = 4 << 20;

const EM_X86_64 = 62;
const EM_AARCH64 = 183;
const SHT_PROGBITS = 1;
const SHF_EXECINSTR = 4n;
const TWO_53 = 2 ** 53;

/** Relocation types that fill a stub's slot, per machine: [JUMP_SLOT, GLOB_DAT, IRELATIVE]. */
const SLOT_RELOCS: Record<number, readonly [number, number, number]> = {
  [EM_X86_64]: [7, 6, 37],
  [EM_AARCH64]: [1026, 1025, 1032],
};

/** The dynamic relocations that fill GOT slots, sorted by slot address. */
interface Slots {
  n: number;
  /** Slot addresses (doubles: exact below 2^53, larger ones are dropped), ascending. */
  at: Float64Array;
  /** `.dynsym` index of each, or -1 for IRELATIVE. */
  sym: Int32Array;
  /** IRELATIVE's addend (the resolver), as its two 32-bit halves. */
  addendLo: Uint32Array;
  addendHi: Uint32Array;
}

/** Reads the slot-filling relocations of every SHT_RELA section that names the dynamic symbol table. */
function readSlots(read: ReadAt, elf: ElfSections, dynsymIndex: number, types: readonly number[]): Slots | null {
  const [jumpSlot, globDat, irelative] = types;
  const le = elf.le;
  // 32-bit halves of each 64-bit field (no bigints per relocation).
  const lo = le ? 0 : 4, hi = le ? 4 : 0;
  let cap = 64, n = 0;
  let at = new Float64Array(cap), sym = new Int32Array(cap);
  let addendLo = new Uint32Array(cap), addendHi = new Uint32Array(cap);
  for (const s of elf.sections) {
    // .rela.plt and .rela.dyn (linked to .dynsym; IRELATIVE-only tables of static binaries may link to 0).
    if (s.type !== SHT_RELA || (s.link !== dynsymIndex && s.link !== 0)) continue;
    if (s.size > BigInt(MAX_TABLE_BYTES)) continue;
    const bytes = sectionBytes(read, s, MAX_TABLE_BYTES);
    if (!bytes) continue;
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    for (let i = 0; i + 24 <= bytes.length; i += 24) {
      // r_info: type in the low half, symbol index in the high half.
      const type = v.getUint32(i + 8 + lo, le);
      if (type !== jumpSlot && type !== globDat && type !== irelative) continue;
      const offsetHi = v.getUint32(i + hi, le);
      const index = v.getUint32(i + 8 + hi, le);
      if (offsetHi >= 1 << 21 || (type !== irelative && index >= 1 << 30)) continue; // 2^53 and above; no such symbol
      if (n === cap) {
        cap *= 2;
        at = grow(at, new Float64Array(cap));
        sym = grow(sym, new Int32Array(cap));
        addendLo = grow(addendLo, new Uint32Array(cap));
        addendHi = grow(addendHi, new Uint32Array(cap));
      }
      at[n] = offsetHi * 2 ** 32 + v.getUint32(i + lo, le);
      sym[n] = type === irelative ? -1 : index;
      addendLo[n] = v.getUint32(i + 16 + lo, le);
      addendHi[n] = v.getUint32(i + 16 + hi, le);
      n++;
    }
  }
  if (n === 0) return null;
  const order = sortedByStart(at, n, n);
  const sorted: Slots = {
    n,
    at: new Float64Array(n),
    sym: new Int32Array(n),
    addendLo: new Uint32Array(n),
    addendHi: new Uint32Array(n),
  };
  for (let k = 0; k < n; k++) {
    const o = order[k];
    sorted.at[k] = at[o];
    sorted.sym[k] = sym[o];
    sorted.addendLo[k] = addendLo[o];
    sorted.addendHi[k] = addendHi[o];
  }
  return sorted;
}

function grow<T extends Float64Array | Int32Array | Uint32Array>(a: T, b: T): T {
  b.set(a as never);
  return b;
}

/** The relocation filling the slot at `addr`, or -1. */
function slotAt(s: Slots, addr: number): number {
  let lo = 0, hi = s.n - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = s.at[mid];
    if (v === addr) return mid;
    if (v < addr) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** The slot address an x86_64 stub at `pc` (its bytes from `at` in `b`) jumps through, or -1. */
function x86Slot(b: Uint8Array, at: number, size: number, pc: number): number {
  // jmp *disp32(%rip) is ff 25; before it, endbr64 (f3 0f 1e fa) and/or a bnd prefix (f2).
  const endbr = b[at] === 0xf3 && b[at + 1] === 0x0f && b[at + 2] === 0x1e && b[at + 3] === 0xfa;
  let o = endbr ? 4 : 0;
  if (b[at + o] === 0xf2) o++;
  if (o + 6 > size || b[at + o] !== 0xff || b[at + o + 1] !== 0x25) return -1;
  const disp = b[at + o + 2] | (b[at + o + 3] << 8) | (b[at + o + 4] << 16) | (b[at + o + 5] << 24);
  return pc + o + 6 + disp;
}

/** The slot address an AArch64 stub at `pc` loads its target from (adrp x16; ldr x17, [x16, #off]), or -1. */
function arm64Slot(v: DataView, at: number, pc: number, le: boolean): number {
  let k = 0;
  if (v.getUint32(at, le) === 0xd503245f) k = 4; // bti c
  const adrp = v.getUint32(at + k, le);
  const ldr = v.getUint32(at + k + 4, le);
  if (((adrp & 0x9f00001f) >>> 0) !== 0x90000010 || ((ldr & 0xffc003ff) >>> 0) !== 0xf9400211) return -1;
  const imm = (((adrp >> 5) & 0x7ffff) << 2) | ((adrp >>> 29) & 3); // 21 bits, signed
  const pages = imm >= 1 << 20 ? imm - (1 << 21) : imm;
  const page = Math.floor((pc + k) / 4096) * 4096 + pages * 4096;
  return page + ((ldr >> 10) & 0xfff) * 8;
}

/**
 * The size of x86-64 stubs: the section's entry size when it says 8 or 16;
 * else (older linkers leave it 0) 8 for a `.plt.got` whose first stub is a
 * bare `jmp *disp32(%rip)`, `bnd` prefixed or not (binutils' 8-byte non-lazy
 * stubs: the jump and a nop), else 16.
 */
function x86Entry(sec: Section, b: Uint8Array): number {
  if (sec.entsize === 8n || sec.entsize === 16n) return Number(sec.entsize);
  const o = b[0] === 0xf2 ? 1 : 0;
  return sec.name === ".plt.got" && b[o] === 0xff && b[o + 1] === 0x25 ? 8 : 16;
}

/**
 * The size of AArch64 stubs, from the first: 24 bytes when it begins with
 * `bti c` or authenticates with `autia1716` (GNU ld's BTI and PAC stubs, a
 * `nop` at their end), else 16.
 */
function arm64Entry(b: Uint8Array, first: number, le: boolean): number {
  if (first + 16 > b.length) return 16;
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  return v.getUint32(first, le) === 0xd503245f || v.getUint32(first + 12, le) === 0xd503219f ? 24 : 16;
}

/** The PLT sections of a machine, with the size of the header before their first stub. */
function pltSections(elf: ElfSections): [Section, number][] {
  const names: [string, number][] = elf.machine === EM_X86_64
    ? [[".plt", 16], [".plt.sec", 0], [".plt.got", 0], [".plt.bnd", 0]]
    : [[".plt", 32]];
  const out: [Section, number][] = [];
  for (const [name, header] of names) {
    const s = elf.byName(name);
    if (s && s.type === SHT_PROGBITS && (s.flags & SHF_EXECINSTR) !== 0n && s.size > BigInt(header)) {
      out.push([s, header]);
    }
  }
  return out;
}

/**
 * `name@plt` symbols for the file's PLT stubs (see the module docs), or
 * `"none"`.
 */
export function readPltTable(read: ReadAt, elf: ElfSections, source: SymbolSource): ElfSymbolTable | TableProblem {
  const types = SLOT_RELOCS[elf.machine];
  if (!elf.is64 || !types) return "none";
  const dynsymSec = elf.sections.find((s) => s.type === SHT_DYNSYM);
  const plts = pltSections(elf);
  if (plts.length === 0) return "none";
  // Each stub's bytes, read whole or not at all: a section's claimed size is bounded by the file.
  const code = plts.map(([s]) => sectionBytes(read, s, MAX_PLT_BYTES));
  if (code.every((c) => c === null)) return "none";
  const slots = readSlots(read, elf, dynsymSec?.index ?? -1, types);
  if (!slots) return "none";
  const syms = dynsymSec && dynsymSec.type !== SHT_NOBITS ? sectionBytes(read, dynsymSec, MAX_TABLE_BYTES) : null;
  const strSec = dynsymSec && dynsymSec.link < elf.sections.length ? elf.sections[dynsymSec.link] : undefined;
  const strtab = strSec ? sectionBytes(read, strSec, MAX_TABLE_BYTES) : null;
  const sv = syms && new DataView(syms.buffer, syms.byteOffset, syms.length);
  const names = new Names();
  const c = new Columns(64);
  plts.forEach(([sec, header], p) => {
    const b = code[p];
    if (!b || sec.addr >= BigInt(TWO_53)) return;
    const entry = elf.machine === EM_X86_64 ? x86Entry(sec, b) : arm64Entry(b, header, elf.le);
    const base = Number(sec.addr);
    const bv = new DataView(b.buffer, b.byteOffset, b.length);
    for (let at = header; at + entry <= b.length; at += entry) {
      const pc = base + at;
      const slot = elf.machine === EM_X86_64 ? x86Slot(b, at, entry, pc) : arm64Slot(bv, at, pc, elf.le);
      const r = slot < 0 ? -1 : slotAt(slots, slot);
      if (r < 0) continue;
      const symIndex = slots.sym[r];
      let nameAt: number;
      if (symIndex < 0) {
        const addend = (BigInt(slots.addendHi[r]) << 32n) | BigInt(slots.addendLo[r]);
        nameAt = names.add(`*ABS*+0x${addend.toString(16)}@plt`);
      } else {
        if (!sv || !strtab || symIndex === 0 || (symIndex + 1) * 24 > sv.byteLength) continue;
        nameAt = names.fromTable(strtab, sv.getUint32(symIndex * 24, elf.le));
      }
      if (nameAt < 0) continue;
      c.push(Math.floor(pc / 2 ** 32), pc % 2 ** 32, entry, 2, 1, nameAt, -1);
    }
  });
  if (c.n === 0) return "none";
  return new ElfSymbolTable(source, { columns: c, strtab: names.table(), sectionEnds: [], plt: true });
}

const encoder = new TextEncoder();
const PLT = encoder.encode("@plt");

/** Longer `.dynsym` names give no stub name (with `@plt`, longer than a table name may be). */
const MAX_NAME = 65536 - 4;

/**
 * A string table of stub names built as they come: each distinct name once,
 * all within MAX_PLT_NAME_BYTES; the bytes scanned for names are bounded
 * too (a name that runs on without its NUL costs its scan).
 */
class Names {
  #bytes = new Uint8Array(4096);
  #used = 1; // offset 0: the empty name
  #scanBudget = 4 * MAX_PLT_NAME_BYTES;
  readonly #byText = new Map<string, number>();
  readonly #byOffset = new Map<number, number>();

  /** `name@plt` for the `.dynsym` name at `off` of `strtab`: its offset here, or -1 (no name, or over budget). */
  fromTable(strtab: Uint8Array, off: number): number {
    const known = this.#byOffset.get(off);
    if (known !== undefined) return known;
    let at = -1;
    if (off > 0 && off < strtab.length && this.#scanBudget > 0) {
      const len = strtab.subarray(off, Math.min(strtab.length, off + MAX_NAME + 1)).indexOf(0);
      this.#scanBudget -= len < 0 ? MAX_NAME : len;
      if (len > 0) at = this.#put(strtab.subarray(off, off + len), PLT);
    }
    this.#byOffset.set(off, at);
    return at;
  }

  /** A name given as text: its offset here, or -1 over budget. */
  add(text: string): number {
    let at = this.#byText.get(text);
    if (at === undefined) {
      at = this.#put(encoder.encode(text), new Uint8Array(0));
      this.#byText.set(text, at);
    }
    return at;
  }

  #put(a: Uint8Array, b: Uint8Array): number {
    const need = this.#used + a.length + b.length + 1;
    if (need > MAX_PLT_NAME_BYTES) return -1;
    if (need > this.#bytes.length) {
      const grown = new Uint8Array(Math.min(MAX_PLT_NAME_BYTES, Math.max(need, this.#bytes.length * 2)));
      grown.set(this.#bytes.subarray(0, this.#used));
      this.#bytes = grown;
    }
    const at = this.#used;
    this.#bytes.set(a, at);
    this.#bytes.set(b, at + a.length);
    this.#bytes[at + a.length + b.length] = 0;
    this.#used = need;
    return at;
  }

  /** The table (its bytes so far). */
  table(): Uint8Array {
    return this.#bytes.subarray(0, this.#used);
  }
}
