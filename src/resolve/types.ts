/**
 * What resolve() returns: one result per address, and the planner's plan.
 * @module
 */
import type { Vma } from "../vma.ts";
import type { ResolveCosts } from "./costs.ts";
import { jsonFields } from "../util/json.ts";

/**
 * What backs an address:
 * - `"file"`: a file reachable by its path;
 * - `"deleted"`: a file unlinked since it was mapped (`... (deleted)`; a live
 *   file whose name really ends so is `"file"` when procmap finds that very
 *   file at that name in the process's root);
 * - `"memory-file"`: a file with no path on disk (memfd, shared anonymous
 *   memory, SysV shared memory, hugetlb memory, AIO rings, dma-bufs):
 *   offsets are into that in-memory file;
 * - `"anonymous"`: no file (heap, stack, `[anon:...]`, plain anonymous);
 * - `"jit"`: anonymous executable memory, as JIT compilers make;
 * - `"special"`: a kernel-provided area (`[vdso]`, `[vvar]`, `[vsyscall]`, ...).
 */
export type MappingKind = "file" | "deleted" | "memory-file" | "anonymous" | "jit" | "special";

/**
 * Why a {@link Resolved} has no `fileOffset` or no `elfAddr`:
 * - `"anonymous"`: anonymous memory, no file behind it;
 * - `"jit"`: anonymous executable memory (JIT-compiled code), no file behind it;
 * - `"kernel"`: an area the kernel provides (`[vdso]`, `[vvar]`, `[vsyscall]`), not a file;
 * - `"not-requested"`: `elfAddr: false` was asked for;
 * - `"no-elf-headers"`: the file's ELF program headers could not be read
 *   (not ELF, or not readable by this process);
 * - `"outside-load"`: the file offset lies outside the file's PT_LOAD segments.
 */
export type ResolveReason = "anonymous" | "jit" | "kernel" | "not-requested" | "no-elf-headers" | "outside-load";

/**
 * The codes of {@link ResolvedTable.kind}: `MAPPING_KINDS[code]` is the
 * kind; code 0 (`undefined`) is an address where nothing is mapped.
 */
export const MAPPING_KINDS: readonly (MappingKind | undefined)[] = [
  undefined,
  "file",
  "deleted",
  "memory-file",
  "anonymous",
  "jit",
  "special",
];

/**
 * The codes of {@link ResolvedTable.reason}: `RESOLVE_REASONS[code]` is the
 * reason; code 0 (`undefined`) is an address with both a file offset and an
 * ELF address (or nothing mapped).
 */
export const RESOLVE_REASONS: readonly (ResolveReason | undefined)[] = [
  undefined,
  "anonymous",
  "jit",
  "kernel",
  "not-requested",
  "no-elf-headers",
  "outside-load",
];

/** One resolved address. */
export interface Resolved {
  /** The address asked about. */
  readonly addr: bigint;
  /** The VMA that covers it (with its name, and build ID when asked for). */
  readonly vma: Vma;
  /** What backs it. */
  readonly kind: MappingKind;
  /** The VMA's name (`""` for plain anonymous memory). */
  readonly name: string;
  /** Build ID of the backing file, when it has one and it was asked for. */
  readonly buildId: string | undefined;
  /** `addr - vma.start + vma.offset` where a file backs the VMA; otherwise undefined. */
  readonly fileOffset: bigint | undefined;
  /** The address as the ELF file's own virtual address (through its PT_LOAD headers). */
  readonly elfAddr: bigint | undefined;
  /** Why `fileOffset` or `elfAddr` is undefined; undefined when both are set. */
  readonly reason: ResolveReason | undefined;
  /** The same reason as a sentence, for people. */
  readonly reasonText: string | undefined;
  /** JSON form: bigints as `"0x"` hex strings, `vma` as its own JSON, undefined fields left out. */
  toJSON(): Record<string, unknown>;
}

/**
 * A {@link Resolved} as resolve() makes it. Results are class instances
 * whose `toJSON()` is `jsonFields(this)` (src/util/json.ts): a new result
 * type follows the same convention.
 */
export class ResolvedResult implements Resolved {
  declare readonly addr: bigint;
  declare readonly vma: Vma;
  declare readonly kind: MappingKind;
  declare readonly name: string;
  declare readonly buildId: string | undefined;
  declare readonly fileOffset: bigint | undefined;
  declare readonly elfAddr: bigint | undefined;
  declare readonly reason: ResolveReason | undefined;
  declare readonly reasonText: string | undefined;
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
  ) {
    this.addr = addr;
    this.vma = vma;
    this.kind = kind;
    this.name = name;
    this.buildId = buildId;
    this.fileOffset = fileOffset;
    this.elfAddr = elfAddr;
    this.reason = reason;
    this.reasonText = reasonText;
  }

  /** JSON form (see {@link Resolved.toJSON}). */
  toJSON(): Record<string, unknown> {
    return jsonFields(this);
  }
}

/** The planner's decision for one batch, from {@link ProcMaps.planResolve}. */
export interface ResolvePlan {
  /** The strategy the batch runs with. */
  strategy: "ioctl" | "text";
  /** Distinct addresses in the batch. */
  uniqueAddresses: number;
  /** VMAs in the process's last text snapshot on this handle, if one was taken. */
  knownVmas: number | undefined;
  /** ioctl queries the batch needs, counted against that snapshot. */
  estimatedQueries: number | undefined;
  /** With the ioctl strategy: after this many queries the rest is read from text. */
  queryBudget: number;
  /**
   * What a query and a text read cost here, as the planner weighed them
   * (measured in this process at first use); undefined when the choice did
   * not depend on them.
   */
  costs: ResolveCosts | undefined;
  /** Why. */
  reason: string;
  /**
   * JSON form: the fields as they are (none is a bigint), undefined ones
   * left out; an unlimited `queryBudget` (Infinity) is `null`, as JSON has it.
   */
  toJSON(): Record<string, unknown>;
}

/** A {@link ResolvePlan} as planResolve() makes it. */
export class Plan implements ResolvePlan {
  declare strategy: "ioctl" | "text";
  declare uniqueAddresses: number;
  declare knownVmas: number | undefined;
  declare estimatedQueries: number | undefined;
  declare queryBudget: number;
  declare costs: ResolveCosts | undefined;
  declare reason: string;
  /**
   * `reason` as a string, or a function that makes it when first read (it
   * quotes figures with toFixed: a microsecond or two of a small batch's time).
   */
  constructor(fields: Omit<ResolvePlan, "reason" | "toJSON">, reason: string | (() => string)) {
    this.strategy = fields.strategy;
    this.uniqueAddresses = fields.uniqueAddresses;
    this.knownVmas = fields.knownVmas;
    this.estimatedQueries = fields.estimatedQueries;
    this.queryBudget = fields.queryBudget;
    this.costs = fields.costs;
    if (typeof reason === "string") this.reason = reason;
    else {
      let text: string | undefined;
      Object.defineProperty(this, "reason", { get: () => (text ??= reason()), enumerable: true });
    }
  }

  /** JSON form (see {@link ResolvePlan.toJSON}). */
  toJSON(): Record<string, unknown> {
    return jsonFields(this);
  }
}
