/**
 * The shapes smaps answers come in.
 * @module
 */
import type { Vma } from "../vma.ts";

/**
 * Memory figures of one VMA (from `/proc/<pid>/smaps`) or of the whole
 * process (from `/proc/<pid>/smaps_rollup`), as the kernel prints them
 * (fs/proc/task_mmu.c), named in camelCase. Sizes are in bytes (the kernel's
 * kB times 1024). A field this kernel does not print is absent, so check
 * for `undefined` (e.g. `pssDirty` is new in 6.0, `ksm` in 6.7).
 */
export interface MemoryFigures {
  /** `Size`: the VMA's size. */
  readonly size?: number;
  /** `KernelPageSize`: the page size the kernel backs the VMA with (huge page size for hugetlb). */
  readonly kernelPageSize?: number;
  /** `MMUPageSize`: the page size the MMU uses. */
  readonly mmuPageSize?: number;
  /** `Rss`: resident memory. */
  readonly rss?: number;
  /** `Pss`: proportional set size (each shared page divided by the number of processes mapping it). */
  readonly pss?: number;
  /** `Pss_Dirty`: the dirty part of `pss`. */
  readonly pssDirty?: number;
  /** `Pss_Anon` (smaps_rollup only): the anonymous part of `pss`. */
  readonly pssAnon?: number;
  /** `Pss_File` (smaps_rollup only): the file-backed part of `pss`. */
  readonly pssFile?: number;
  /** `Pss_Shmem` (smaps_rollup only): the shared-memory part of `pss`. */
  readonly pssShmem?: number;
  /** `Shared_Clean`: resident, mapped by other processes too, unmodified. */
  readonly sharedClean?: number;
  /** `Shared_Dirty`: resident, mapped by other processes too, modified. */
  readonly sharedDirty?: number;
  /** `Private_Clean`: resident, mapped only here, unmodified. */
  readonly privateClean?: number;
  /** `Private_Dirty`: resident, mapped only here, modified. */
  readonly privateDirty?: number;
  /** `Referenced`: marked as accessed. */
  readonly referenced?: number;
  /** `Anonymous`: pages not backed by a file (including copy-on-write copies of file pages). */
  readonly anonymous?: number;
  /** `KSM`: pages merged by kernel same-page merging. */
  readonly ksm?: number;
  /** `LazyFree`: pages marked `MADV_FREE`. */
  readonly lazyFree?: number;
  /** `AnonHugePages`: anonymous memory in transparent huge pages. */
  readonly anonHugePages?: number;
  /** `ShmemPmdMapped`: shared memory mapped with huge pages. */
  readonly shmemPmdMapped?: number;
  /** `FilePmdMapped`: file memory mapped with huge pages. */
  readonly filePmdMapped?: number;
  /** `Shared_Hugetlb`: hugetlb memory mapped by other processes too. */
  readonly sharedHugetlb?: number;
  /** `Private_Hugetlb`: hugetlb memory mapped only here. */
  readonly privateHugetlb?: number;
  /** `Swap`: swapped out. */
  readonly swap?: number;
  /** `SwapPss`: proportional share of `swap`. */
  readonly swapPss?: number;
  /** `Locked`: locked in memory (`mlock`). */
  readonly locked?: number;
  /** `THPeligible` as the kernel prints it: 1 when the VMA may get transparent huge pages, else 0. */
  readonly thpEligible?: number;
  /** `ProtectionKey`: the memory protection key (only on CPUs with protection keys). */
  readonly protectionKey?: number;
  /**
   * Fields this version of procmap does not know, by the kernel's name:
   * a `kB` figure in bytes, another number as printed, anything else as its
   * text. Absent when there are none.
   */
  readonly other?: Readonly<Record<string, number | string>>;
}

/** One VMA of `/proc/<pid>/smaps`: the area and its memory figures. */
export interface SmapsEntry extends MemoryFigures {
  /** The area, exactly as the maps give it (with its name, without a build ID). */
  readonly vma: Vma;
  /**
   * `VmFlags`: the kernel's two-letter flags, in its order (`rd`, `wr`,
   * `ex`, `mr`, `mw`, `me`, `gd`, `ac`, `dd`, `ht`, ...).
   */
  readonly vmFlags?: readonly string[];
  /** JSON form: `vma` as its own JSON, the figures as they are (numbers, bytes). */
  toJSON(): Record<string, unknown>;
}

/**
 * The figures of `/proc/<pid>/smaps_rollup`: the sums over every VMA, and
 * the address range they span.
 */
export interface SmapsRollup extends MemoryFigures {
  /** Start of the lowest VMA. */
  readonly start: bigint;
  /** End of the highest VMA. */
  readonly end: bigint;
  /** JSON form: `start` and `end` as `"0x"` hex strings, the figures as they are. */
  toJSON(): Record<string, unknown>;
}

export type { SmapsOptions } from "../options.ts";
