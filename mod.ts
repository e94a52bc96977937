/**
 * procmap: what is mapped at an address in a process, from the kernel's
 * PROCMAP_QUERY ioctl (Linux >= 6.11) or the text of `/proc/<pid>/maps`.
 *
 * ```ts
 * import { ProcMaps } from "./mod.ts";
 * using maps = ProcMaps.open("self");
 * console.log(maps.query(0x400000n)?.name);
 * ```
 * @module
 */
export { ProcMaps } from "./src/procmaps.ts";
export { ProcMapsError } from "./src/errors.ts";
export type { ProcessGoneReason, ProcMapsErrorCode, ProcMapsErrorOptions } from "./src/errors.ts";
export { PERM, Vma } from "./src/vma.ts";
export { VmaTable } from "./src/table/vma_table.ts";
export type {
  BackendChoice,
  BackendKind,
  IterateOptions,
  OpenOptions,
  Pid,
  QueryOptions,
  ResolveOptions,
  ResolveStrategy,
} from "./src/options.ts";
export type { MappingKind, Resolved, ResolvePlan, ResolveReason } from "./src/resolve/types.ts";
export { MAPPING_KINDS, RESOLVE_REASONS } from "./src/resolve/types.ts";
export { ResolvedTable } from "./src/resolve/table.ts";
export type { ResolveCosts } from "./src/resolve/costs.ts";
export type { MemoryFigures, SmapsEntry, SmapsOptions, SmapsRollup } from "./src/smaps/types.ts";
export { FIELD_NAMES as SMAPS_FIELDS } from "./src/smaps/parser.ts";
export { Symbolizer } from "./src/symbolize/symbolizer.ts";
export type { SymbolizeFileAsyncOptions, SymbolizeFileOptions, SymbolizerOptions } from "./src/symbolize/symbolizer.ts";
export type { SymbolizeAsyncOptions, SymbolizedAsync } from "./src/symbolize/symbolize_async.ts";
export type {
  DebuginfodReport,
  DownloadProgress,
  FetchOptions,
  FetchStatus,
  FileSymbolizedAsync,
} from "./src/symbolize/fetching.ts";
export type { DebuginfodOptions } from "./src/debuginfod/config.ts";
export type { BuildIdSymbolized, SymbolizeBuildIdOptions } from "./src/symbolize/by_build_id.ts";
export type { SymbolizeOptions } from "./src/symbolize/symbolize.ts";
export type { FileSymbolized, KernelSymbolized, Symbolized, SymbolReason } from "./src/symbolize/result.ts";
export { SYMBOL_REASONS } from "./src/symbolize/result.ts";
export { SymbolizedTable } from "./src/symbolize/table.ts";
export { SymbolColumns } from "./src/symbolize/symbol_columns.ts";
export { FrameChains } from "./src/symbolize/frame_chains.ts";
export { FileSymbolizedTable } from "./src/symbolize/file_table.ts";
export type { SymbolFrame, SymbolInfo, SymbolSource } from "./src/symbolize/types.ts";
export { DEFAULT_LIMITS as DEMANGLE_LIMITS, demangle, demangleDetailed } from "./src/demangle/mod.ts";
export type {
  BudgetLimits as DemangleLimits,
  DemangleOptions,
  DemangleResult,
  DemangleStatus,
  ManglingScheme,
} from "./src/demangle/mod.ts";
export { ProfileBuilder } from "./src/profile/builder.ts";
export type {
  AggregatedSample,
  FlushStats,
  ProfileBuilderOptions,
  ProfileFunction,
  ProfileLine,
  ProfileLocation,
  ProfileMapping,
  ProfileSample,
  ValueTypeSpec,
} from "./src/profile/types.ts";
export type { MappingFlags } from "./src/profile/store.ts";
export type { FoldedOptions } from "./src/profile/folded.ts";
export type { PprofOptions } from "./src/profile/pprof.ts";
export type { SpeedscopeFile } from "./src/profile/speedscope.ts";
export type { TopFunction } from "./src/profile/top.ts";
