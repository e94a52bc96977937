/**
 * What resolve() returns: one result per address, and the planner's plan.
 * @module
 */
import type { Vma } from "../vma.ts";

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
  /** Why. */
  reason: string;
}
