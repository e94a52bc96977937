/**
 * What symbolization answers, per address.
 * @module
 */
import type { Resolved } from "../resolve/types.ts";
import type { SymbolInfo } from "./types.ts";

/**
 * Why an address got no symbol (`symbolMessage` says it in words):
 * - `"no-symbol"`: the module's symbol tables have no symbol covering it;
 * - `"no-symbols"`: the file has no symbol table (stripped) and no debug
 *   file was found in `debugDirs`;
 * - `"no-elf"`: the file is not ELF (its section headers cannot be read);
 * - `"no-elf-address"`: the address has no ELF address (page padding between
 *   segments, or the program headers cannot be read): see `reason`;
 * - `"file-unreadable"`: the mapped file could not be opened from here
 *   (deleted and `map_files` refused, or no permission);
 * - `"table-too-big"`: its symbol table is larger than procmap reads;
 * - `"transient"`: a system call failed for want of a resource (EMFILE,
 *   ENFILE, ENOMEM, EINTR, EAGAIN): nothing was cached, try again;
 * - `"anonymous"`: anonymous memory (heap, stack, ...): no code file;
 * - `"jit-no-perf-map"`: JIT code, and the target has no usable
 *   `perf-<pid>.map` (or `perfMap: false`), or it does not name the address;
 * - `"vdso-unreadable"`: the vDSO image could not be read;
 * - `"special"`: another kernel-provided area (`[vvar]`, `[vsyscall]`, ...);
 * - `"kernel-hidden"` ({@link Symbolizer.symbolizeKernel}): `/proc/kallsyms`
 *   shows this process only zeros (`kernel.kptr_restrict`, no CAP_SYSLOG).
 */
export type SymbolReason =
  | "no-symbol"
  | "no-symbols"
  | "no-elf"
  | "no-elf-address"
  | "file-unreadable"
  | "table-too-big"
  | "transient"
  | "anonymous"
  | "jit-no-perf-map"
  | "vdso-unreadable"
  | "special"
  | "kernel-hidden";

/** One symbolized address: everything {@link Resolved} gives, plus the symbol. */
export interface Symbolized extends Resolved {
  /** The symbol the address lies in, or undefined (see `symbolReason`). */
  readonly symbol: SymbolInfo | undefined;
  /** Why `symbol` is undefined; undefined when it is set. */
  readonly symbolReason: SymbolReason | undefined;
  /** `symbolReason` in words, saying what to do where something can be done. */
  readonly symbolMessage: string | undefined;
}

/** One address of {@link Symbolizer.symbolizeFile}. */
export interface FileSymbolized {
  /** The ELF address asked about. */
  readonly elfAddr: bigint;
  /** The symbol it lies in, or undefined (see `symbolReason`). */
  readonly symbol: SymbolInfo | undefined;
  /** Why `symbol` is undefined; undefined when it is set. */
  readonly symbolReason: SymbolReason | undefined;
  /** `symbolReason` in words. */
  readonly symbolMessage: string | undefined;
}

/** One address of {@link Symbolizer.symbolizeKernel}. */
export interface KernelSymbolized {
  /** The kernel address asked about. */
  readonly addr: bigint;
  /** The kernel symbol it lies in, or undefined (see `symbolReason`). */
  readonly symbol: SymbolInfo | undefined;
  /** The module the symbol belongs to (`"nf_tables"`), or undefined for the kernel image. */
  readonly module: string | undefined;
  /** Why `symbol` is undefined: `"kernel-hidden"` or `"no-symbol"`; undefined when it is set. */
  readonly symbolReason: SymbolReason | undefined;
  /** `symbolReason` in words. */
  readonly symbolMessage: string | undefined;
}
