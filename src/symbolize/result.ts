/**
 * What symbolization answers, per address.
 * @module
 */
import { type MappingKind, type Resolved, ResolvedResult, type ResolveReason } from "../resolve/types.ts";
import type { Vma } from "../vma.ts";
import { jsonFields } from "../util/json.ts";
import type { SymbolFrame, SymbolInfo, SymbolSource } from "./types.ts";

/**
 * Why an address got no symbol (`symbolMessage` says it in words):
 * - `"no-symbol"`: the module's symbol tables have no symbol covering it;
 * - `"no-symbols"`: the file has no symbol table (stripped) and no debug
 *   file was found in `debugDirs`;
 * - `"no-elf"`: the file is not ELF (its section headers cannot be read), or
 *   not an executable or shared object (a relocatable object, a core dump);
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
 *   shows this process only zeros (`kernel.kptr_restrict`, no CAP_SYSLOG);
 * - `"build-id-unknown"` ({@link Symbolizer.symbolizeBuildId}): no file with
 *   that build ID is in the debug directories or the debuginfod cache, and
 *   no server has it (or none is configured; `debuginfod` says what the
 *   servers answered).
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
  | "kernel-hidden"
  | "build-id-unknown";

/**
 * The codes of {@link SymbolizedTable.symbolReason}: `SYMBOL_REASONS[code]`
 * is the reason; code 0 (`undefined`) is a row with a symbol (or with
 * nothing mapped).
 */
export const SYMBOL_REASONS: readonly (SymbolReason | undefined)[] = [
  undefined,
  "no-symbol",
  "no-symbols",
  "no-elf",
  "no-elf-address",
  "file-unreadable",
  "table-too-big",
  "transient",
  "anonymous",
  "jit-no-perf-map",
  "vdso-unreadable",
  "special",
  "kernel-hidden",
];

/** One symbolized address: everything {@link Resolved} gives, plus the symbol. */
export interface Symbolized extends Resolved {
  /** The symbol the address lies in, or undefined (see `symbolReason`). */
  readonly symbol: SymbolInfo | undefined;
  /** Why `symbol` is undefined; undefined when it is set. */
  readonly symbolReason: SymbolReason | undefined;
  /** `symbolReason` in words, saying what to do where something can be done. */
  readonly symbolMessage: string | undefined;
  /** JSON form: bigints as `"0x"` hex strings, `vma` and `symbol` as their own JSON, undefined fields left out. */
  toJSON(): Record<string, unknown>;
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
  /** JSON form: `elfAddr` as a `"0x"` hex string, `symbol` as its own JSON, undefined fields left out. */
  toJSON(): Record<string, unknown>;
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
  /** JSON form: `addr` as a `"0x"` hex string, `symbol` as its own JSON, undefined fields left out. */
  toJSON(): Record<string, unknown>;
}

// The classes symbolization makes its results with. Results are class
// instances whose toJSON() is jsonFields(this) (src/util/json.ts); a new
// result type follows the same convention.

/** A {@link SymbolInfo} as the symbolizer makes it. */
export class SymbolInfoResult implements SymbolInfo {
  declare readonly name: string;
  declare readonly demangled: string;
  declare readonly demangleReason?: "budget";
  declare readonly version: string | undefined;
  declare readonly start: bigint;
  declare readonly size: bigint;
  declare readonly offset: bigint;
  declare readonly source: SymbolSource;
  declare readonly frames?: readonly SymbolFrame[];
  constructor(
    name: string,
    demangled: string,
    version: string | undefined,
    start: bigint,
    size: bigint,
    offset: bigint,
    source: SymbolSource,
  ) {
    this.name = name;
    this.demangled = demangled;
    this.version = version;
    this.start = start;
    this.size = size;
    this.offset = offset;
    this.source = source;
  }

  /** JSON form (see {@link SymbolInfo.toJSON}). */
  toJSON(): Record<string, unknown> {
    return jsonFields(this);
  }
}

/**
 * A {@link SymbolInfo} with its source frames, as the symbolizer makes it:
 * a class of its own so that every such object has `frames` from its
 * construction (one shape, no property added afterwards).
 */
export class FramedSymbolInfoResult extends SymbolInfoResult {
  declare readonly frames: readonly SymbolFrame[];
  constructor(
    name: string,
    demangled: string,
    version: string | undefined,
    start: bigint,
    size: bigint,
    offset: bigint,
    source: SymbolSource,
    frames: readonly SymbolFrame[],
  ) {
    super(name, demangled, version, start, size, offset, source);
    this.frames = frames;
  }
}

/** A {@link Symbolized} as symbolize() makes it: a resolved address and its symbol. */
export class SymbolizedResult extends ResolvedResult implements Symbolized {
  declare readonly symbol: SymbolInfo | undefined;
  declare readonly symbolReason: SymbolReason | undefined;
  declare readonly symbolMessage: string | undefined;
  constructor(
    addr: bigint,
    vma: Vma,
    kind: MappingKind,
    name: string,
    buildId: string | undefined,
    fileOffset: bigint | undefined,
    elfAddr: bigint | undefined,
    reason: ResolveReason | undefined,
    reasonText: string | undefined,
    symbol: SymbolInfo | undefined,
    symbolReason: SymbolReason | undefined,
    symbolMessage: string | undefined,
  ) {
    super(addr, vma, kind, name, buildId, fileOffset, elfAddr, reason, reasonText);
    this.symbol = symbol;
    this.symbolReason = symbolReason;
    this.symbolMessage = symbolMessage;
  }
}

/** A {@link FileSymbolized} as symbolizeFile() makes it. */
export class FileSymbolizedResult implements FileSymbolized {
  declare readonly elfAddr: bigint;
  declare readonly symbol: SymbolInfo | undefined;
  declare readonly symbolReason: SymbolReason | undefined;
  declare readonly symbolMessage: string | undefined;
  constructor(
    elfAddr: bigint,
    symbol: SymbolInfo | undefined,
    symbolReason: SymbolReason | undefined,
    symbolMessage: string | undefined,
  ) {
    this.elfAddr = elfAddr;
    this.symbol = symbol;
    this.symbolReason = symbolReason;
    this.symbolMessage = symbolMessage;
  }

  /** JSON form (see {@link FileSymbolized.toJSON}). */
  toJSON(): Record<string, unknown> {
    return jsonFields(this);
  }
}

/** A {@link KernelSymbolized} as symbolizeKernel() makes it. */
export class KernelSymbolizedResult implements KernelSymbolized {
  declare readonly addr: bigint;
  declare readonly symbol: SymbolInfo | undefined;
  declare readonly module: string | undefined;
  declare readonly symbolReason: SymbolReason | undefined;
  declare readonly symbolMessage: string | undefined;
  constructor(
    addr: bigint,
    symbol: SymbolInfo | undefined,
    module: string | undefined,
    symbolReason: SymbolReason | undefined,
    symbolMessage: string | undefined,
  ) {
    this.addr = addr;
    this.symbol = symbol;
    this.module = module;
    this.symbolReason = symbolReason;
    this.symbolMessage = symbolMessage;
  }

  /** JSON form (see {@link KernelSymbolized.toJSON}). */
  toJSON(): Record<string, unknown> {
    return jsonFields(this);
  }
}
