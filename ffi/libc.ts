/**
 * The few operating-system calls procmap needs, as each runtime provides them.
 *
 * Every call returns a non-negative result or `-errno`; none throws. errno is
 * read by the binding right after the failing call, before anything else can
 * overwrite it, so a negative result always names the error of *that* call.
 *
 * @module
 */

/** Normalised CPU architecture names (the kernel's spelling). */
export type Arch = "x86_64" | "aarch64" | "riscv64" | (string & {});

/** The runtime-specific system-call binding. */
export interface Libc {
  /** Which runtime provides the binding. */
  readonly runtime: "deno" | "bun" | "node";
  /** CPU architecture of this process. */
  readonly arch: Arch;
  /** Operating system as the runtime names it (`"linux"` where procmap works). */
  readonly os: string;
  /** True when {@link Libc.ioctl} can be called (Node.js has no built-in FFI). */
  readonly canIoctl: boolean;
  /**
   * `open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)`: a descriptor,
   * or -errno. A path given as bytes is used as is (file names need not be
   * UTF-8).
   */
  openRead(path: string | Uint8Array): number;
  /** `close(fd)`: 0 or -errno. */
  close(fd: number): number;
  /** `pread(fd, buf, buf.length, offset)`: bytes read (0 at end of file) or -errno. */
  pread(fd: number, buf: Uint8Array, offset: number): number;
  /** `ioctl(fd, request, arg)`: the call's result or -errno. */
  ioctl(fd: number, request: bigint, arg: Uint8Array): number;
  /**
   * `ioctl(fd, request, address)` with the argument given as the address of
   * a long-lived buffer (from {@link Libc.addressOf}): the hot path, which
   * skips converting a buffer into a pointer on every call.
   */
  ioctlAt(fd: number, request: bigint, address: bigint): number;
  /** Identity of an open file (`statx` with `AT_EMPTY_PATH`) into `out`; 0 or -errno. */
  fstat(fd: number, out: FileId): number;
  /**
   * Identity of the file at `path` (`statx`, following symbolic links) into
   * `out`, without opening it; 0 or -errno.
   */
  stat(path: string | Uint8Array, out: FileId): number;
  /**
   * The address of a long-lived buffer, for pointers the kernel follows
   * (PROCMAP_QUERY's name and build-ID buffers). The caller must keep `buf`
   * referenced for as long as the kernel may be given the address.
   */
  addressOf(buf: Uint8Array): bigint;
}

/** Identity of a file: what the maps report as `major:minor inode`, and more. */
export interface FileId {
  /** Device as stat reports it (on btrfs a subvolume's, not the maps' superblock device). */
  devMajor: number;
  devMinor: number;
  inode: bigint;
  /** File type and permission bits (`st_mode`). */
  mode: number;
  /** Mount ID, as in mountinfo's first column; 0n when not known. */
  mountId: bigint;
  /** Owner (`st_uid`), as this process's user namespace sees it; filled in by fstat and stat. */
  uid?: number;
  /** Size in bytes (`st_size`); filled in by fstat and stat. */
  size?: bigint;
}

/**
 * Thrown by a binding when the runtime refuses FFI (Deno without
 * `--allow-ffi`); the message says which permission to grant.
 */
export class FfiPermissionError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FfiPermissionError";
  }
}
