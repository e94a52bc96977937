/**
 * The shapes every symbol source shares (ELF tables, debug files, perf
 * maps, kallsyms, the vDSO), so that `symbolize()` can ask each in turn and
 * a later source (DWARF line tables) can plug in beside them.
 * @module
 */

/** Where a symbol's name came from. */
export type SymbolSource =
  | "symtab"
  | "dynsym"
  | "debug-file"
  | "minidebuginfo"
  | "perf-map"
  | "jitdump"
  | "vdso"
  | "kallsyms";

/** A symbol as a table holds it: a name over `[start, start + size)`. */
export interface RawSymbol {
  /** The table's name (mangled for C++ and Rust). */
  readonly name: string;
  /** First address, in the table's own address space (ELF virtual address, or absolute for JIT and kernel). */
  readonly start: bigint;
  /** Size in bytes (for a zero-sized symbol: up to the next symbol within its section). */
  readonly size: bigint;
  /** The readable name, once a lookup wanted it: a cache on the symbol, as demangling is costly. */
  demangled?: string;
}

/** One source of symbols, searched by address. */
export interface SymbolTable {
  /** Which source this is. */
  readonly source: SymbolSource;
  /** The symbol covering `addr`, or undefined. */
  find(addr: bigint): RawSymbol | undefined;
}

/** The symbol an address was found in, as `symbolize()` reports it. */
export interface SymbolInfo {
  /** The symbol table's (mangled) name. */
  readonly name: string;
  /** The readable name: demangled where `name` is a C++ or Rust mangled name, else `name`. */
  readonly demangled: string;
  /** First address of the symbol, in the address space `elfAddr` lives in (absolute for JIT and kernel). */
  readonly start: bigint;
  /** Size in bytes. */
  readonly size: bigint;
  /** The address minus `start`. */
  readonly offset: bigint;
  /** Which table named it. */
  readonly source: SymbolSource;
}
