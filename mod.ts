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
export type { BackendKind } from "./src/backend.ts";
export { ProcMapsError } from "./src/errors.ts";
export type { ProcessGoneReason, ProcMapsErrorCode, ProcMapsErrorOptions } from "./src/errors.ts";
export { PERM, Vma } from "./src/vma.ts";
export { VmaTable } from "./src/table/vma_table.ts";
export type {
  BackendChoice,
  IterateOptions,
  OpenOptions,
  Pid,
  QueryOptions,
  ResolveOptions,
  ResolveStrategy,
} from "./src/options.ts";
export type { MappingKind, Resolved, ResolvePlan, ResolveReason } from "./src/resolve/types.ts";
export type { MemoryFigures, SmapsEntry, SmapsOptions, SmapsRollup } from "./src/smaps/types.ts";
export { FIELD_NAMES as SMAPS_FIELDS } from "./src/smaps/parser.ts";
export { Symbolizer } from "./src/symbolize/symbolizer.ts";
export type { SymbolizeFileOptions, SymbolizerOptions } from "./src/symbolize/symbolizer.ts";
export type { SymbolizeOptions } from "./src/symbolize/symbolize.ts";
export type { FileSymbolized, KernelSymbolized, Symbolized, SymbolReason } from "./src/symbolize/result.ts";
export type { SymbolInfo, SymbolSource } from "./src/symbolize/types.ts";
