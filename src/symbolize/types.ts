/**
 * What `symbolize()` reports of a symbol; the table shapes every source
 * shares live in ../symbol.ts (elf/ uses them too) and are re-exported here
 * for symbolize/.
 * @module
 */
import type { SymbolSource } from "../symbol.ts";

export type { RawSymbol, SymbolSource, SymbolTable } from "../symbol.ts";

/**
 * One source-level frame of an address, from DWARF: the function and the
 * source position. An address in inlined code has several, innermost first
 * (as `addr2line -f -i` prints them).
 */
export interface SymbolFrame {
  /** The function's linkage (mangled) name where DWARF has one, else its `DW_AT_name`. */
  readonly name: string;
  /** The readable name: demangled where `name` is a C++ or Rust mangled name, else `name`. */
  readonly demangled: string;
  /**
   * The source file, as addr2line prints it (the unit's `DW_AT_comp_dir`,
   * the line table's directory and the file name, joined where relative);
   * undefined when DWARF names none.
   */
  readonly file: string | undefined;
  /** The line, 1-based; 0 when unknown. */
  readonly line: number;
  /** The column, 1-based; 0 when unknown. */
  readonly column: number;
  /**
   * The discriminator of this frame's location, 0 when it has none (most
   * often): which of the blocks of one source line (a loop's test, body
   * and step) the address is in, as gcc -O2 numbers them. For `frames[0]`,
   * the line-table row's; for each later frame, its call site's
   * (`DW_AT_GNU_discriminator`, as llvm-symbolizer prints it: clang writes
   * it with `-fdebug-info-for-profiling`, gcc not at all). binutils
   * addr2line prints `frames[0]`'s after every frame's line
   * (`f.c:12 (discriminator 3)`); `procmap symbolize` does the same.
   */
  readonly discriminator: number;
  /**
   * True when this function was inlined into the next frame: every frame
   * but the last.
   */
  readonly inlined: boolean;
}

/** The symbol an address was found in, as `symbolize()` reports it. */
export interface SymbolInfo {
  /** The symbol table's (mangled) name. */
  readonly name: string;
  /**
   * The readable name: `name` demangled as `c++filt -i` prints it where it is
   * a C++ or Rust mangled name, else `name`; without its symbol version
   * (`memcpy` for `memcpy@GLIBC_2.2.5`, as gdb and llvm-symbolizer print
   * it); a PLT stub keeps its `@plt` (`std::ios_base::Init::Init()@plt`).
   * With `demangle: false`, `name` as is.
   */
  readonly demangled: string;
  /**
   * Present only when `demangled` is the mangled `name` because the name ran
   * past the demangler's work budget (a hostile or absurd name): `"budget"`.
   */
  readonly demangleReason?: "budget";
  /**
   * The symbol version `name` carries: `GLIBC_2.2.5` for `memcpy@GLIBC_2.2.5`
   * (a non-default version) and `GLIBC_2.34` for `aio_fsync64@@GLIBC_2.34`
   * (the default one), as glibc's `.symtab` names its compatibility
   * symbols; undefined for a name without one (`.dynsym` names carry none:
   * their versions live in `.gnu.version`, which procmap does not read).
   */
  readonly version: string | undefined;
  /** First address of the symbol, in the address space `elfAddr` lives in (absolute for JIT and kernel). */
  readonly start: bigint;
  /** Size in bytes. */
  readonly size: bigint;
  /** The address minus `start`. */
  readonly offset: bigint;
  /** Which table named it. */
  readonly source: SymbolSource;
  /**
   * The source frames at the address, innermost first, when the module (or
   * its debug file) has DWARF for it and option `lines` is on: `frames[0]`
   * is the address's own file, line and column in the innermost inlined
   * function; each later frame is the call site, in its caller, of the
   * frame before it; the last is the function the address lies in, named
   * as DWARF names it (the symbol table may name its code otherwise: `f.cold`
   * for `f`'s cold part). One frame only with `inlines: false`: that
   * function, at the address's own line.
   * Undefined without DWARF for the address, or with `lines: false`.
   */
  readonly frames?: readonly SymbolFrame[];
  /** JSON form: `start`, `size` and `offset` as `"0x"` hex strings. */
  toJSON(): Record<string, unknown>;
}

/** What symbolizeFile() and its asynchronous and build-ID forms take, checked (internal). */
export interface FileOptions {
  demangle: boolean;
  lines: boolean;
  inlines: boolean;
  debugDirs: readonly string[];
}
