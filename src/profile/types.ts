/**
 * The shapes of profiles: what a sample is, the builder's options, and the
 * entities a profile holds once its addresses are named (mappings,
 * functions, locations), as pprof's `profile.proto` defines them.
 * @module
 */
import type { ResolveStrategy } from "../options.ts";
import type { Symbolizer } from "../symbolize/symbolizer.ts";

/** One sampled stack, as a profiler hands it to {@link ProfileBuilder.add}. */
export interface ProfileSample {
  /** The process the addresses belong to. */
  readonly pid: number;
  /** The thread, when known (becomes the pprof label `tid`). */
  readonly tid?: number;
  /**
   * The stack, innermost frame first: the sampled instruction, then return
   * addresses. Kernel frames, if any, come first (see `kernelFrames`).
   */
  readonly stack: ArrayLike<bigint | number>;
  /**
   * How many leading frames of `stack` are kernel addresses (perf's
   * `PERF_CONTEXT_KERNEL` part). Default: the leading frames at or above
   * 0xffff800000000000 other than the `[vsyscall]` page.
   */
  readonly kernelFrames?: number;
  /** One value per sample type of the builder, as integers (default `[1]` with one sample type). */
  readonly values?: readonly number[];
  /** Labels (pprof string or numeric labels; `pid` and `tid` are added from the fields above). */
  readonly labels?: Readonly<Record<string, string | number>>;
}

/** A pprof value type: what a value counts and in which unit (e.g. `cpu`, `nanoseconds`). */
export interface ValueTypeSpec {
  /** What is counted (`samples`, `cpu`, `alloc_space`, ...). */
  readonly type: string;
  /** Its unit (`count`, `nanoseconds`, `bytes`, ...). */
  readonly unit: string;
}

/** Options for {@link ProfileBuilder}. */
export interface ProfileBuilderOptions {
  /** The Symbolizer whose caches to use (default: a new one, kept by the builder). */
  symbolizer?: Symbolizer;
  /** What the values of each sample are (default `[{ type: "samples", unit: "count" }]`). */
  sampleTypes?: readonly ValueTypeSpec[];
  /** What one sample stands for (pprof `period_type`), e.g. `{ type: "cpu", unit: "nanoseconds" }`. */
  periodType?: ValueTypeSpec;
  /** pprof `period`: how much of `periodType` one sample stands for (e.g. 10101010 ns at 99 Hz). */
  period?: number;
  /** Readable C++ and Rust names in `name`, mangled ones in `systemName` (default true). */
  demangle?: boolean;
  /** Directories with separate debug files (default: the symbolizer's). */
  debugDirs?: readonly string[];
  /** Name JIT code from the target's perf map and jitdump (default true). */
  perfMap?: boolean;
  /** How each batch is resolved, as for {@link ProcMaps.resolve} (default `"auto"`). */
  strategy?: ResolveStrategy;
  /**
   * Look up each return address (every frame but the first of the kernel
   * part and of the user part) at the address minus 1, the call instruction,
   * so that a call that ends a function is charged to it and its line is the
   * call's (default true; Locations keep the sampled address).
   */
  returnAddresses?: boolean;
  /**
   * Source lines from DWARF where a module has it: each Location's Lines carry
   * file, line and column (default true; false reads no DWARF, the cheaper run).
   */
  lines?: boolean;
  /** With `lines`, one Line per inlined call, innermost first (default true; false: one Line per Location). */
  inlines?: boolean;
  /** Samples kept waiting before {@link ProfileBuilder.add} names them itself (default 65,536). */
  maxPendingSamples?: number;
  /** Process handles kept open between batches at most, for JIT maps read incrementally (default 64). */
  maxOpenProcesses?: number;
  /** The profile's start, in nanoseconds since the epoch (default: when the builder was made). */
  timeNanos?: bigint;
}

/** A pprof `Mapping`: one mapped region code was sampled in. */
export interface ProfileMapping {
  /** 1-based id (pprof's). */
  readonly id: number;
  /** The process it belongs to (undefined for the kernel's). */
  readonly pid: number | undefined;
  /** What backs it: a resolve() kind, or `"kernel"`. */
  readonly kind: "file" | "deleted" | "memory-file" | "anonymous" | "jit" | "special" | "kernel";
  /** First address. */
  readonly memoryStart: bigint;
  /** One past the last address. */
  readonly memoryLimit: bigint;
  /** File offset of `memoryStart` (0 for memory not backed by a file). */
  readonly fileOffset: bigint;
  /** The file, or `[jit]`, `[vdso]`, `[kernel.kallsyms]`, `[<module>]`, `[anon]`. */
  readonly filename: string;
  /** Build ID (lowercase hex), or `""`. */
  readonly buildId: string;
}

/** A pprof `Function`. */
export interface ProfileFunction {
  /** 1-based id. */
  readonly id: number;
  /** The readable (demangled) name. */
  readonly name: string;
  /** The name as the symbol table has it (mangled). */
  readonly systemName: string;
  /** The source file, `""` when not known. */
  readonly filename: string;
  /** The function's first line, 0 when not known. */
  readonly startLine: number;
}

/** One pprof `Line`: a function and a source position in it. */
export interface ProfileLine {
  /** The function (an inlined one for all but the last line of a location). */
  readonly function: ProfileFunction;
  /** 0 when not known. */
  readonly line: number;
  /** 0 when not known. */
  readonly column: number;
}

/** A pprof `Location`: one address and the functions it is in, innermost (inlined) first. */
export interface ProfileLocation {
  /** 1-based id. */
  readonly id: number;
  /** Its mapping; undefined where nothing was mapped at the address. */
  readonly mapping: ProfileMapping | undefined;
  /** The sampled address (a return address stays as sampled). */
  readonly address: bigint;
  /** Innermost first; empty when the address could not be named. */
  readonly lines: readonly ProfileLine[];
  /** True when the lines come from DWARF with inline frames expanded. */
  readonly inlineFrames: boolean;
  /** A kernel address. */
  readonly kernel: boolean;
}

/** What one {@link ProfileBuilder.flush} did. */
export interface FlushStats {
  /** Samples named. */
  samples: number;
  /** Distinct user-space addresses looked up (per process, summed). */
  userAddresses: number;
  /** Distinct kernel addresses looked up. */
  kernelAddresses: number;
  /** Processes whose samples were in the batch. */
  processes: number;
  /** Addresses left without a name (their Locations keep the address). */
  unnamed: number;
}

/** A stack once named: its locations (innermost first), values summed over equal samples, labels. */
export interface AggregatedSample {
  /** The process. */
  readonly pid: number;
  /** The thread, when the samples gave one. */
  readonly tid: number | undefined;
  /** The stack, innermost first. */
  readonly locations: readonly ProfileLocation[];
  /** One sum per sample type. */
  readonly values: number[];
  /** The samples' labels. */
  readonly labels: Readonly<Record<string, string | number>> | undefined;
}
