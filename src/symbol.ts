/**
 * The shapes every symbol table shares (ELF tables and debug files, perf
 * maps, jitdump, kallsyms, the vDSO), so that `symbolize()` can ask each in
 * turn. Below elf/ and symbolize/, which both use them.
 * @module
 */

/**
 * Where a symbol's name came from: an ELF table (`"symtab"`, `"dynsym"`,
 * the `"debug-file"`'s, `"minidebuginfo"`), `"perf-map"`, `"jitdump"`,
 * `"vdso"`, `"kallsyms"`, or `"dwarf"` for an address that DWARF covers
 * and no symbol table does (the function is then its outermost frame).
 */
export type SymbolSource =
  | "symtab"
  | "dynsym"
  | "debug-file"
  | "minidebuginfo"
  | "perf-map"
  | "jitdump"
  | "vdso"
  | "kallsyms"
  | "dwarf";

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
  /** Set with `demangled` when the demangler's work budget cut the name (`demangled` is then `name`). */
  demangleCut?: boolean;
  /**
   * The symbol version the name carries (`GLIBC_2.2.5` of `memcpy@GLIBC_2.2.5`
   * in a `.symtab`, `GLIBC_2.34` of `aio_fsync64@@GLIBC_2.34`), or undefined.
   */
  readonly version?: string;
  /** `name` without its version or `@plt` (what is demangled), where it has one; else undefined. */
  readonly base?: string;
  /** What follows `base` in the readable name (`"@plt"` for a PLT stub), where `base` is set. */
  readonly suffix?: string;
}

/** One source of symbols, searched by address. */
export interface SymbolTable {
  /** Which source this is. */
  readonly source: SymbolSource;
  /** The symbol covering `addr`, or undefined. */
  find(addr: bigint): RawSymbol | undefined;
}
