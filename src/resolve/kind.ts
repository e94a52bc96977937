/**
 * What backs a VMA, judged from its name and permissions as the kernel
 * reports them.
 * @module
 */
import type { Vma } from "../vma.ts";
import type { MappingKind } from "./types.ts";

/**
 * Names of files with no path on disk: memfd, shared anonymous memory, SysV
 * shared memory, hugetlb memory, AIO rings, dma-bufs.
 */
const MEMORY_FILE_PREFIXES = [
  "/memfd:",
  "/dev/zero (deleted)",
  "[anon_shmem:",
  "/SYSV",
  "/anon_hugepage",
  "/[aio]",
  "/dmabuf:",
];

/** What backs `vma`; see {@link MappingKind}. */
export function mappingKind(vma: Vma): MappingKind {
  const name = vma.name ?? "";
  if (vma.fileBacked) {
    if (!name.startsWith("/") || MEMORY_FILE_PREFIXES.some((p) => name.startsWith(p))) return "memory-file";
    return name.endsWith(" (deleted)") ? "deleted" : "file";
  }
  if (name === "" || name.startsWith("[anon:") || name === "[heap]" || name.startsWith("[stack")) {
    return vma.executable ? "jit" : "anonymous";
  }
  return "special";
}
