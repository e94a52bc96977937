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
import { type ElfSections, readSections, sectionBytes, SHT_DYNSYM, SHT_NOBITS, SHT_SYMTAB } from "../elf/sections.ts";
import type { ReadAt } from "../elf/segments.ts";
import { ElfSymbolTable, readPltTable, readSymbolTable, type TableProblem } from "../elf/symbols.ts";
import { openDebugFile } from "./debug_files.ts";
import { xzDecompress } from "./xz.ts";
import type { SymbolSource } from "./types.ts";

/** MiniDebugInfo images larger than this (decompressed) are refused. */
const MAX_MINIDEBUGINFO_BYTES = 64 << 20;
/** Compressed `.gnu_debugdata` larger than this is refused. */
const MAX_DEBUGDATA_BYTES = 16 << 20;

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
}

/** Where to look for debug files of a module read from a file. */
export interface ModuleContext {
  /** Build ID as the kernel (or the file's note) gives it. */
  buildId: string | undefined;
  /** The file's absolute path in the target's namespace (for debug links), if it has one. */
  path: string | undefined;
  /** `/proc/<pid>/root` for a target's file, `""` for the caller's own. */
  root: string;
  debugDirs: readonly string[];
  /** The module is the vDSO: its tables are labelled `"vdso"`. */
  vdso?: boolean;
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
  const out: ModuleSymbols = { tables: [], problem: undefined, detail: "", byteSize: 256, transient: false };
  const elf = readSections(read);
  if (!elf) {
    out.transient = readFailedTransiently();
    out.problem = "no-elf";
    out.detail = "not an ELF file, or its section headers cannot be read";
    return out;
  }
  let tooBig = false;
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
    add(readSymbolTable(read, elf, symtab, label("symtab")));
    out.detail = ".symtab";
  }
  if (out.tables.length === 0 && !ctx.vdso) {
    const { file, transient } = openDebugFile(libc, {
      buildId: ctx.buildId,
      link: readDebugLink(read, elf),
      path: ctx.path,
      root: ctx.root,
      debugDirs: ctx.debugDirs,
    });
    if (transient) out.transient = true;
    if (file) {
      try {
        const s = firstOfType(file.elf, SHT_SYMTAB);
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
    const image = packed ? xzDecompress(packed, MAX_MINIDEBUGINFO_BYTES) : null;
    if (image) {
      const mini = memoryReader(image);
      const miniElf = readSections(mini);
      const s = miniElf && firstOfType(miniElf, SHT_SYMTAB);
      if (miniElf && s) {
        add(readSymbolTable(mini, miniElf, s, "minidebuginfo"));
        out.detail += " with MiniDebugInfo";
      }
    }
  }
  add(readPltTable(read, elf, ctx.vdso ? "vdso" : out.tables[0]?.source === "symtab" ? "symtab" : "dynsym"));
  if (readFailedTransiently()) out.transient = true;
  if (out.tables.length === 0) {
    out.problem = tooBig ? "table-too-big" : "no-symbols";
    out.detail = tooBig
      ? "its symbol table is larger than procmap reads (64 MiB)"
      : "it has no symbol table (stripped), and no debug file was found in the debug directories";
  }
  return out;
}
