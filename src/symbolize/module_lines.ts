/**
 * A module's source lines: its DWARF found (dwarf_files.ts), handed to the
 * reader in src/dwarf, and each address's frames turned into the
 * {@link SymbolFrame}s symbolize() reports: DWARF's names (the linkage
 * name, else `DW_AT_name`), demangled once each; a frame DWARF names no
 * function for takes the symbol table's name when it is the outermost.
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import { readDebugLink } from "../elf/debug_link.ts";
import { linkedAddresses, readSections } from "../elf/sections.ts";
import type { ReadAt } from "../elf/segments.ts";
import { type DwarfFunction, DwarfInfo, type DwoRequest } from "../dwarf/mod.ts";
import { type CrcMemo, openDebugFile } from "./debug_files.ts";
import {
  besides,
  hasDwarf,
  openSplitFile,
  openSupplementary,
  type Place,
  reopener,
  SectionSet,
} from "./dwarf_files.ts";
import { demangle, isMangled } from "./demangle.ts";
import { FramedSymbolInfoResult, SymbolInfoResult } from "./result.ts";
import type { SymbolFrame, SymbolInfo } from "./types.ts";
import type { ChainBuilder } from "./frame_chains.ts";

/** Where a module's files are (for its symbols, elf_module.ts's ModuleContext, and its lines). */
export interface LinesContext {
  /** Build ID as the kernel (or the file's note) gives it. */
  buildId: string | undefined;
  /** The file's absolute path in the target's namespace, if it has one. */
  path: string | undefined;
  /** The target's pinned `/proc/<pid>` directory (its files are in its root); undefined for the caller's own file. */
  procDir: number | undefined;
  debugDirs: readonly string[];
  /** The debuginfod cache directory, searched by build ID after `debugDirs` (when debuginfod is configured). */
  debuginfodCache?: string;
  /** The module is the vDSO: its tables are labelled `"vdso"`. */
  vdso?: boolean;
  /** Checksums of debug-link candidates read before (the Symbolizer's). */
  crcs?: CrcMemo;
  /**
   * Bytes src/dwarf's parsed tables may hold for this module (its least
   * recently used units go first); default {@link MAX_PARSED_BYTES}.
   */
  maxParsedBytes?: number;
}

/** Bytes src/dwarf's parsed tables may hold per module at most. */
export const MAX_PARSED_BYTES = 256 << 20;

/**
 * A module's lines: the DWARF reader over its sections, the split-DWARF
 * files it asked for, and the demangled names it handed out.
 */
export class ModuleLines {
  readonly #dwarf: DwarfInfo;
  readonly #sets: SectionSet[];
  readonly #demangled = new Map<string, string>();
  #namesBytes = 0;
  /** The call's libc and the binary's place: split-DWARF files are looked for there, when the reader asks. */
  #libc: Libc | undefined;
  #binary: Place | undefined;
  /** What the DWARF was read from, for messages. */
  readonly detail: string;

  constructor(main: SectionSet, sup: SectionSet | undefined, detail: string, maxParsedBytes = MAX_PARSED_BYTES) {
    this.#sets = sup ? [main, sup] : [main];
    this.detail = detail;
    this.#dwarf = new DwarfInfo(main.forReader(), {
      alt: sup?.forReader(),
      loadDwp: () => this.#split(this.#binary && { ...this.#binary, path: this.#binary.path + ".dwp" }),
      loadDwo: (r) => this.#split(this.#dwoPlace(r)),
      maxBytes: maxParsedBytes,
    });
  }

  /**
   * Sets where this call's split-DWARF files are to be found: the process's
   * root (a module is shared by every handle, whose roots differ) and the
   * binary's path there.
   */
  bind(libc: Libc, binary: Place | undefined): void {
    this.#libc = libc;
    this.#binary = binary;
  }

  #dwoPlace(r: DwoRequest): Place | undefined {
    if (!this.#binary) return undefined;
    const path = r.name.startsWith("/") ? r.name : r.compDir.startsWith("/") ? besides(r.compDir + "/", r.name) : "";
    return path ? { procDir: this.#binary.procDir, path } : undefined;
  }

  #split(place: Place | undefined) {
    if (!place || !this.#libc) return undefined;
    const set = openSplitFile(this.#libc, place, { transient: false });
    if (!set) return undefined;
    this.#sets.push(set);
    return set.forReader();
  }

  /** Bytes held: the sections', the reader's tables' and the names cache's. */
  get byteSize(): number {
    let n = this.#dwarf.byteSize + this.#namesBytes;
    for (const s of this.#sets) n += s.byteSize;
    return n;
  }

  /** The outermost function DWARF places `elfAddr` in. */
  functionAt(elfAddr: bigint): DwarfFunction | undefined {
    return this.#dwarf.findFunction(elfAddr);
  }

  /** The last name #demangle was asked for, and its answer: a batch's neighbours are mostly in one function. */
  #lastName = "";
  #lastDemangled = "";

  #demangle(name: string): string {
    if (name === this.#lastName) return this.#lastDemangled;
    let d = this.#demangled.get(name);
    if (d === undefined) {
      d = isMangled(name) ? demangle(name) : name;
      this.#demangled.set(name, d);
      this.#namesBytes += 2 * (name.length + d.length) + 64;
    }
    this.#lastName = name;
    this.#lastDemangled = d;
    return d;
  }

  /** The naming of the frames() call under way, read by #naming. */
  #want = true;
  #outerName: string | undefined;
  #outerDemangled: string | undefined;
  /** The frames of the previous answer, whose equal frames #frame hands out again. */
  #prev: readonly SymbolFrame[] | undefined;

  /**
   * Where the previous answer holds: ELF addresses [#lo, #hi) (the
   * reader's bound: same unit, function, line row and inline chain), asked
   * with the same options and outermost name. A batch comes in ascending
   * order, so neighbours in one row take it as it is.
   */
  #lo = 0;
  #hi = 0;
  #lastInlines = true;
  #lastWant = true;
  #lastOuter: string | undefined;

  /**
   * Frame `k` of the `n` the reader found, as symbolize() reports it: the
   * previous answer's frame at the same place when equal, else a new one.
   */
  #frame(k: number, n: number, prev: readonly SymbolFrame[] | undefined): SymbolFrame {
    const f = this.#dwarf.frames;
    const inlined = k < n - 1;
    const demangled = this.#naming(f.name[k], inlined);
    const name = this.#name;
    const file = f.file[k] || undefined;
    const line = f.line[k], column = f.column[k], discriminator = f.discriminator[k];
    const p = prev?.[k];
    if (
      p !== undefined && p.line === line && p.column === column && p.name === name && p.file === file &&
      p.inlined === inlined && p.discriminator === discriminator && p.demangled === demangled
    ) return p;
    return { name, demangled, file, line, column, discriminator, inlined };
  }

  /** The name #naming chose (its readable form is what it returns). */
  #name = "";

  /**
   * A frame's names as symbolize() reports them: DWARF's, demangled once
   * each; a frame without a DWARF name takes the symbol table's when it is
   * the outermost (a line row outside every function DWARF describes), else
   * `"??"`. Sets {@link #name}, returns the readable name.
   */
  #naming(name: string, inlined: boolean): string {
    if (name === "") {
      if (!inlined && this.#outerName !== undefined) {
        this.#name = this.#outerName;
        return this.#want ? this.#outerDemangled ?? this.#demangle(this.#outerName) : this.#outerName;
      }
      this.#name = "??";
      return "??";
    }
    this.#name = name;
    return this.#want ? this.#demangle(name) : name;
  }

  /** Where the last chain() answer holds (as #lo, #hi for frames()), and into which builder it went. */
  #cLo = 0;
  #cHi = 0;
  #cSerial = -1;
  #cId = -1;
  #cInlines = true;
  #cWant = true;
  #cOuter: string | undefined;

  /**
   * The reader's lookup of `elfAddr` (by number where it is one: no bigint
   * made) under this call's naming: the number of frames it left in its
   * frame columns (0: none).
   */
  #find(
    elfAddr: bigint | number,
    inlines: boolean,
    wantDemangled: boolean,
    outerName: string | undefined,
    outerDemangled: string | undefined,
  ): number {
    this.#want = wantDemangled;
    this.#outerName = outerName;
    this.#outerDemangled = outerDemangled;
    return this.#dwarf.lookup(elfAddr, inlines);
  }

  /**
   * The frames at `elfAddr` as {@link frames} gives them, put into `into` as
   * a chain: its chain, or -1 (no frames). `elfAddr` may be a number below
   * 2^53 (then no bigint is made where the previous chain holds). An address where the previous
   * chain of the same builder holds gets that chain.
   */
  chain(
    elfAddr: bigint | number,
    inlines: boolean,
    wantDemangled: boolean,
    outerName: string | undefined,
    outerDemangled: string | undefined,
    into: ChainBuilder,
  ): number {
    // A number is an exact address (below 2^53): the bigint is made only for a lookup.
    const a = Number(elfAddr);
    if (
      a >= this.#cLo && a < this.#cHi && into.serial === this.#cSerial && inlines === this.#cInlines &&
      wantDemangled === this.#cWant && outerName === this.#cOuter
    ) return this.#cId;
    into.begin();
    let id = -1;
    try {
      const n = this.#find(elfAddr, inlines, wantDemangled, outerName, outerDemangled);
      const f = this.#dwarf.frames;
      for (let k = 0; k < n; k++) {
        const inlined = k < n - 1;
        const demangled = this.#naming(f.name[k], inlined);
        into.put(this.#name, demangled, f.file[k] || undefined, f.line[k], f.column[k], f.discriminator[k], inlined);
      }
      id = into.end(n);
    } finally {
      if (id < 0) into.end(0);
    }
    this.#cLo = a;
    this.#cHi = id >= 0 && a < TWO_53 ? Math.min(this.#dwarf.until, TWO_53) : a;
    this.#cSerial = into.serial;
    this.#cId = id;
    this.#cInlines = inlines;
    this.#cWant = wantDemangled;
    this.#cOuter = outerName;
    return id;
  }

  /**
   * DWARF's function `fn` at `elfAddr` as a symbol (source `"dwarf"`), with
   * its frames when given: named as its outermost frame names it.
   */
  static dwarfInfo(fn: DwarfFunction, elfAddr: bigint, frames: readonly SymbolFrame[] | undefined): SymbolInfo {
    const size = fn.end - fn.start, offset = elfAddr - fn.start;
    if (!frames) return new SymbolInfoResult(fn.name, fn.name, undefined, fn.start, size, offset, "dwarf");
    const last = frames[frames.length - 1];
    return new FramedSymbolInfoResult(last.name, last.demangled, undefined, fn.start, size, offset, "dwarf", frames);
  }

  /**
   * DWARF's function at `elfAddr` as a symbol (source `"dwarf"`), with its
   * frames: for an address no symbol table covers. Undefined when DWARF
   * has no function there.
   */
  dwarfSymbol(elfAddr: bigint, wantDemangled: boolean, inlines: boolean): SymbolInfo | undefined {
    const fn = this.functionAt(elfAddr);
    if (!fn) return undefined;
    return ModuleLines.dwarfInfo(fn, elfAddr, this.frames(elfAddr, inlines, wantDemangled, undefined, undefined));
  }

  /**
   * The frames at `elfAddr` as symbolize() reports them, or undefined. An
   * outermost frame without a DWARF name takes `outerName` (the symbol
   * table's name) when given. Answers are shared, and read-only as their
   * type says (not frozen: freezing an array costs JavaScriptCore about a
   * microsecond): an address where the previous answer holds gets the same
   * array, and a frame equal to the previous answer's is the same object.
   */
  frames(
    elfAddr: bigint | number,
    inlines: boolean,
    wantDemangled: boolean,
    outerName: string | undefined,
    outerDemangled: string | undefined,
  ): readonly SymbolFrame[] | undefined {
    const a = Number(elfAddr);
    if (
      a >= this.#lo && a < this.#hi && inlines === this.#lastInlines && wantDemangled === this.#lastWant &&
      outerName === this.#lastOuter
    ) return this.#prev;
    const n = this.#find(elfAddr, inlines, wantDemangled, outerName, outerDemangled);
    if (n === 0) return undefined;
    const prev = this.#prev;
    // Made at its size (one grown by push keeps room for 17 items, and callers keep answers).
    const out: SymbolFrame[] = n === 1 ? [this.#frame(0, 1, prev)] : new Array(n);
    for (let k = n === 1 ? 1 : 0; k < n; k++) out[k] = this.#frame(k, n, prev);
    const frames = prev !== undefined && prev.length === out.length && sameItems(prev, out) ? prev : out;
    // The reader's bound, where doubles are exact (ELF addresses below 2^53).
    this.#lo = a;
    this.#hi = a < TWO_53 ? Math.min(this.#dwarf.until, TWO_53) : a;
    this.#lastInlines = inlines;
    this.#lastWant = wantDemangled;
    this.#lastOuter = outerName;
    this.#prev = frames;
    return frames;
  }
}

const TWO_53 = 2 ** 53;

/** Whether two arrays of one length hold the same objects. */
function sameItems<T>(x: readonly T[], y: readonly T[]): boolean {
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/**
 * A module's lines, or null when it has no DWARF; `out.transient` is set
 * when a lookup failed in a way worth retrying (then nothing is to be
 * remembered).
 */
export function loadModuleLines(
  libc: Libc,
  read: ReadAt,
  ctx: LinesContext,
  out: { transient: boolean },
): ModuleLines | null {
  const elf = readSections(read);
  // A relocatable object's DWARF addresses are unrelocated offsets (every sequence at 0): no answer is better.
  if (!elf || !linkedAddresses(elf)) return null;
  const own: Place = { procDir: ctx.procDir, path: ctx.path ?? "" };
  if (hasDwarf(elf)) {
    const s = openSupplementary(libc, read, elf, own, ctx.debugDirs, out, ctx.debuginfodCache);
    const detail = "the file's own DWARF" + (s ? ` and the dwz file ${s.place.path}` : "");
    return new ModuleLines(new SectionSet(read, elf), s?.sections, detail, ctx.maxParsedBytes);
  }
  if (ctx.vdso) return null;
  const { file, transient } = openDebugFile(libc, {
    buildId: ctx.buildId,
    link: readDebugLink(read, elf),
    path: ctx.path,
    procDir: ctx.procDir,
    debugDirs: ctx.debugDirs,
    debuginfodCache: ctx.debuginfodCache,
    crcs: ctx.crcs,
  });
  if (transient) out.transient = true;
  if (!file) return null;
  try {
    if (!hasDwarf(file.elf) || !linkedAddresses(file.elf)) return null;
    // A debug file next to the binary is in the target's root; one in the debug directories, in ours.
    const holder: Place = { procDir: file.inRoot ? ctx.procDir : undefined, path: file.path };
    const s = openSupplementary(libc, file.read, file.elf, holder, ctx.debugDirs, out, ctx.debuginfodCache);
    const detail = `the debug file ${file.path}` + (s ? ` and the dwz file ${s.place.path}` : "");
    // A debug file in this process's root (the debug directories) is opened again for the large
    // compressed sections when a lookup needs them, and only as far as it needs: most lookups of a
    // first batch need the start of .debug_info, not all of it.
    const reopen = holder.procDir === undefined ? reopener(libc, file.fd, file.path) : undefined;
    return new ModuleLines(new SectionSet(file.read, file.elf, reopen), s?.sections, detail, ctx.maxParsedBytes);
  } finally {
    libc.close(file.fd);
  }
}
