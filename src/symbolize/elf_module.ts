/**
 * The symbol tables of one ELF module (a file, or an image in memory such
 * as the vDSO), chosen and read once:
 * - the file's own `.symtab` when it has one (not stripped);
 * - else its separate debug file's `.symtab` (debug_files.ts);
 * - else `.dynsym`, plus the MiniDebugInfo `.symtab` (`.gnu_debugdata`, an
 *   xz-compressed ELF file holding the local functions `.dynsym` lacks);
 * - and always the file's PLT stubs (`name@plt`; debug files have no PLT
 *   contents).
 * Lookups ask the tables in that order; the first that covers the address
 * names it.
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import { readDebugLink } from "../elf/debug_link.ts";
import { memoryReader } from "../elf/read_at.ts";
import {
  type ElfSections,
  ET_REL,
  linkedAddresses,
  readSections,
  sectionBytes,
  SHT_DYNSYM,
  SHT_NOBITS,
  SHT_SYMTAB,
} from "../elf/sections.ts";
import type { ReadAt } from "../elf/segments.ts";
import { ElfSymbolTable, readSymbolTable, type TableProblem } from "../elf/symbols.ts";
import { readPltTable } from "../elf/plt.ts";
import { openDebugFile } from "./debug_files.ts";
import { xzDecompress, xzUnavailable, xzUnavailableTransient } from "./xz.ts";
import type { SymbolSource } from "./types.ts";
import type { LinesContext, ModuleLines } from "./module_lines.ts";

/** MiniDebugInfo images larger than this (decompressed) are refused. */
const MAX_MINIDEBUGINFO_BYTES = 64 << 20;
/** Compressed `.gnu_debugdata` larger than this is refused. */
const MAX_DEBUGDATA_BYTES = 16 << 20;
/**
 * MiniDebugInfo expands at most this many times its compressed size (and
 * at least to {@link MIN_MINIDEBUGINFO_BYTES}): symbol tables compress
 * 3-10 times under xz, a bomb thousands of times, so a bomb costs what a
 * plain table of its file's size would, not the 64 MiB bound.
 */
const MAX_XZ_RATIO = 32;
const MIN_MINIDEBUGINFO_BYTES = 1 << 20;

/** Why a module has no symbol for an address. */
export type ModuleProblem = "no-elf" | "no-symbols" | "table-too-big" | "unreadable";

/** A module's tables, or why it has none. */
export interface ModuleSymbols {
  tables: ElfSymbolTable[];
  /** Set when `tables` is empty. */
  problem: ModuleProblem | undefined;
  /** Where the main table came from, for messages. */
  detail: string;
  byteSize: number;
  /** A read failed transiently (EMFILE, ENOMEM, ...): do not cache this. */
  transient: boolean;
  /**
   * True when a separate debug file would add to what the module has: the
   * file has no `.symtab` of its own and no debug file was found (the
   * asynchronous forms then ask debuginfod for one).
   */
  wantsDebugFile: boolean;
  /**
   * Source lines: undefined until first wanted (option `lines`), null when
   * the module has no usable DWARF.
   */
  lines?: ModuleLines | null;
  /** The Symbolizer's cache key, when cached (the cache is told when the lines grow). */
  cacheKey?: string;
}

/**
 * Whether debuginfod's `/debuginfo` would add to `m`: it has no `.symtab`
 * and no local debug file, or (with `lines` wanted) no DWARF was found for
 * it locally (not in the file, not in a debug file).
 */
export function wantsDebugInfo(m: ModuleSymbols, lines: boolean): boolean {
  return m.wantsDebugFile || (lines && m.lines === null);
}

/** Where to look for debug files of a module read from a file (its lines' context, bar their byte bound). */
export interface ModuleContext extends Omit<LinesContext, "maxParsedBytes"> {
  /** The file read is itself a debug file (fetched by build ID alone): its `.symtab` is labelled `"debug-file"`. */
  isDebugFile?: boolean;
}

function firstOfType(elf: ElfSections, type: number) {
  return elf.sections.find((s) => s.type === type && s.type !== SHT_NOBITS && s.size > 0n);
}

/** Reads a module's symbol tables through `read` (`transient` tells whether a read failed transiently). */
export function loadModule(
  libc: Libc,
  read: ReadAt,
  readFailedTransiently: () => boolean,
  ctx: ModuleContext,
): ModuleSymbols {
  const out: ModuleSymbols = {
    tables: [],
    problem: undefined,
    detail: "",
    byteSize: 256,
    transient: false,
    wantsDebugFile: false,
  };
  const elf = readSections(read);
  if (!elf) {
    out.transient = readFailedTransiently();
    out.problem = "no-elf";
    out.detail = "not an ELF file, or its section headers cannot be read";
    return out;
  }
  if (!linkedAddresses(elf)) {
    // A relocatable object's (or a kernel module's) symbol values and DWARF addresses are offsets in sections
    // that overlap until linked: any answer would be a guess (two functions at 0, every line sequence at 0).
    out.problem = "no-elf";
    out.detail = elf.type === ET_REL
      ? "a relocatable object (ET_REL): its addresses are offsets in unlinked sections, not ELF addresses"
      : `not an executable or shared object (ELF type ${elf.type})`;
    return out;
  }
  let tooBig = false;
  let undecoded = "";
  const add = (t: ElfSymbolTable | TableProblem) => {
    if (t instanceof ElfSymbolTable) {
      if (t.count > 0) {
        out.tables.push(t);
        out.byteSize += t.byteSize;
      }
    } else if (t === "too-big") tooBig = true;
  };
  const label = (s: SymbolSource): SymbolSource => (ctx.vdso ? "vdso" : s);
  const symtab = firstOfType(elf, SHT_SYMTAB);
  if (symtab) {
    add(readSymbolTable(read, elf, symtab, ctx.isDebugFile ? "debug-file" : label("symtab")));
    out.detail = ctx.isDebugFile ? "the debug file's .symtab" : ".symtab";
  }
  if (out.tables.length === 0 && !ctx.vdso && !ctx.isDebugFile) {
    const { file, transient } = openDebugFile(libc, {
      buildId: ctx.buildId,
      link: readDebugLink(read, elf),
      path: ctx.path,
      procDir: ctx.procDir,
      debugDirs: ctx.debugDirs,
      crcs: ctx.crcs,
      debuginfodCache: ctx.debuginfodCache,
    });
    out.wantsDebugFile = !file;
    if (transient) out.transient = true;
    if (file) {
      try {
        const s = linkedAddresses(file.elf) ? firstOfType(file.elf, SHT_SYMTAB) : undefined;
        if (s) add(readSymbolTable(file.read, file.elf, s, "debug-file"));
        out.detail = `the debug file ${file.path} (found by ${file.via})`;
      } finally {
        libc.close(file.fd);
      }
    }
  }
  if (out.tables.length === 0) {
    const dynsym = firstOfType(elf, SHT_DYNSYM);
    if (dynsym) {
      add(readSymbolTable(read, elf, dynsym, label("dynsym")));
      out.detail = ".dynsym (no .symtab, and no debug file found)";
    }
    const debugdata = elf.byName(".gnu_debugdata");
    const packed = debugdata && sectionBytes(read, debugdata, MAX_DEBUGDATA_BYTES);
    const bound = packed &&
      Math.min(MAX_MINIDEBUGINFO_BYTES, Math.max(MIN_MINIDEBUGINFO_BYTES, packed.length * MAX_XZ_RATIO));
    const image = packed ? xzDecompress(packed, bound!) : null;
    const noDecoder = packed && !image ? xzUnavailable() : undefined;
    if (noDecoder) {
      // Said in the detail: a miss here is for want of the decoder, not of symbols or debug files.
      undecoded = `; its MiniDebugInfo (.gnu_debugdata) is not decoded: ${noDecoder}`;
      if (xzUnavailableTransient()) out.transient = true;
    }
    if (image) {
      const mini = memoryReader(image);
      const miniElf = readSections(mini);
      const s = miniElf && firstOfType(miniElf, SHT_SYMTAB);
      if (miniElf && s) {
        add(readSymbolTable(mini, miniElf, s, "minidebuginfo"));
        out.detail = dynsym
          ? ".dynsym and MiniDebugInfo (no .symtab, and no debug file found)"
          : "MiniDebugInfo (no .symtab or .dynsym, and no debug file found)";
      }
    }
  }
  add(readPltTable(read, elf, ctx.vdso ? "vdso" : out.tables[0]?.source === "symtab" ? "symtab" : "dynsym"));
  if (out.detail === "") out.detail = "its PLT stubs (no symbol table, and no debug file found)";
  if (readFailedTransiently()) out.transient = true;
  if (out.tables.length === 0) {
    out.problem = tooBig ? "table-too-big" : "no-symbols";
    out.detail = tooBig
      ? "its symbol table is larger than procmap reads (64 MiB)"
      : "it has no symbol table (stripped), and no debug file was found in the debug directories";
  }
  out.detail += undecoded;
  return out;
}
