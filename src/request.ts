/**
 * What a query asks for, packed into one integer: the kernel's query flags
 * (struct procmap_query's `query_flags`, which the text backend applies
 * itself) and what to fetch. Shared by the option checks and both backends.
 * @module
 */

/** `query_flags` bits (include/uapi/linux/fs.h); bits 0-3 also come back in `vma_flags`. */
export const FLAG = {
  readable: 0x01,
  writable: 0x02,
  executable: 0x04,
  shared: 0x08,
  coveringOrNext: 0x10,
  fileBacked: 0x20,
} as const;

/**
 * Checked options packed into one integer, so a query allocates nothing for
 * them: the kernel's query flags ({@link FLAG}) in the low bits, plus what
 * to fetch.
 */
export type Request = number;
/** Request bit: fetch the VMA name. */
export const WANT_NAME = 0x100;
/** Request bit: fetch the build ID. */
export const WANT_BUILD_ID = 0x200;
/** Mask of the kernel's query_flags within a Request. */
export const KERNEL_FLAGS = 0xff;
/** The request for no options: the VMA covering the address, with its name. */
export const DEFAULT_REQUEST: Request = WANT_NAME;
