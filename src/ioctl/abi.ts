/**
 * PROCMAP_QUERY ABI facts, Linux >= 6.11: `struct procmap_query` and the
 * flags in include/uapi/linux/fs.h, the semantics in do_procmap_query() and
 * query_matching_vma() of fs/proc/task_mmu.c.
 * @module
 */

/** `sizeof(struct procmap_query)`. */
export const QUERY_SIZE = 104;

/** Byte offsets of `struct procmap_query` fields. */
export const OFF = {
  size: 0,
  queryFlags: 8,
  queryAddr: 16,
  vmaStart: 24,
  vmaEnd: 32,
  vmaFlags: 40,
  vmaPageSize: 48,
  vmaOffset: 56,
  inode: 64,
  devMajor: 72,
  devMinor: 76,
  vmaNameSize: 80,
  buildIdSize: 84,
  vmaNameAddr: 88,
  buildIdAddr: 96,
} as const;

// The `query_flags` bits are FLAG in ../request.ts: the text backend applies them too.

/** `_IOWR('f', 17, struct procmap_query)`. */
const REQUEST_IOWR_F_17 = 0xC0686611n;

/**
 * Request numbers per architecture, only where the encoding has been checked:
 * the generic `_IOC` layout (x86_64, aarch64, riscv64) gives 0xC0686611.
 */
const REQUEST_BY_ARCH: Readonly<Record<string, bigint>> = {
  x86_64: REQUEST_IOWR_F_17,
  aarch64: REQUEST_IOWR_F_17,
  riscv64: REQUEST_IOWR_F_17,
};

/** The PROCMAP_QUERY request number for `arch`, or undefined when it is not known. */
export function requestFor(arch: string): bigint | undefined {
  return REQUEST_BY_ARCH[arch];
}

/** Linux caps the ioctl's name buffer at PATH_MAX. */
export const PATH_MAX = 4096;

/** Build IDs the kernel reports are at most 20 bytes (SHA-1); leave room. */
export const BUILD_ID_CAPACITY = 32;
