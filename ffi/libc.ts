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
export type Arch = "x86_64" | "aarch64" | "riscv64" | (string & Record<never, never>);

/** The runtime-specific system-call binding. */
export interface Libc {
  /** Which runtime provides the binding. */
  readonly runtime: "deno" | "bun" | "node";
  /**
   * How the calls are made: the runtime's FFI (`Deno.dlopen`, `bun:ffi`,
   * `node:ffi`), or `node:fs` where Node has no FFI (no ioctl, no openat2).
   */
  readonly binding: "deno" | "bun" | "node:ffi" | "node:fs";
  /** CPU architecture of this process. */
  readonly arch: Arch;
  /** Operating system as the runtime names it (`"linux"` where procmap works). */
  readonly os: string;
  /** True when {@link Libc.ioctl} can be called (not through `node:fs`). */
  readonly canIoctl: boolean;
  /**
   * Why {@link Libc.canIoctl} is false, saying what to do (e.g. "Node.js
   * 20.20.2 has no node:ffi; Node 26 has"); undefined when it is true.
   */
  readonly whyNoIoctl?: string;
  /**
   * `open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)`: a descriptor,
   * or -errno. A path given as bytes is used as is (file names need not be
   * UTF-8).
   */
  openRead(path: string | Uint8Array): number;
  /**
   * `openat(dirfd, path, flags | O_CLOEXEC)`: a descriptor, or -errno. `dirfd`
   * may be `AT_FDCWD`; an absolute path ignores it. Flags from
   * `ffi/constants.ts` (e.g. `O_PATH | O_DIRECTORY | O_NOFOLLOW`).
   */
  openAt(dirfd: number, path: string | Uint8Array, flags: number): number;
  /**
   * `openat2(dirfd, path, { flags: flags | O_CLOEXEC, mode: 0, resolve })`
   * (Linux 5.6+, the raw system call): a descriptor, or -errno; `-ENOSYS`
   * where the kernel or the binding lacks it (node:fs), `-EXDEV`/`-ELOOP`
   * when a `RESOLVE_*` restriction refuses the path.
   */
  openat2(dirfd: number, path: string | Uint8Array, flags: number, resolve: number): number;
  /**
   * `readlinkat(dirfd, path, buf, buf.length)`: the bytes of the symbolic
   * link's text written to `buf` (cut at its length, as readlink cuts), or
   * -errno (`-EINVAL` when `path` is not a symbolic link).
   */
  readlinkAt(dirfd: number, path: string | Uint8Array, buf: Uint8Array): number;
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
  /**
   * `statx(dirfd, path, atFlags, ...)` into `out`; 0 or -errno. `atFlags`:
   * `AT_SYMLINK_NOFOLLOW` (report a link itself), `AT_EMPTY_PATH`
   * (with path `""`: the descriptor itself, which may be `O_PATH`).
   */
  statAt(dirfd: number, path: string | Uint8Array, atFlags: number, out: FileId): number;
  /** Identity of an open file (`statAt(fd, "", AT_EMPTY_PATH)`) into `out`; 0 or -errno. */
  fstat(fd: number, out: FileId): number;
  /**
   * Identity of the file at `path` (`statAt(AT_FDCWD, path, 0)`, following
   * symbolic links) into `out`, without opening it; 0 or -errno.
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
  /** Number of hard links (`stx_nlink`); 0 for a file deleted while open. */
  nlink: number;
  /** Size in bytes (`stx_size`). */
  size: bigint;
  /** Last modification of the contents, in nanoseconds since the epoch (`stx_mtime`; the owner can set it). */
  mtimeNs: bigint;
  /** Last change of contents or metadata, in nanoseconds since the epoch (`stx_ctime`; no one can set it). */
  ctimeNs: bigint;
  /** Owner (`stx_uid`), as this process's user namespace sees it. */
  uid: number;
}

/** A {@link FileId} to fill in (every field zero). */
export function emptyFileId(): FileId {
  return {
    devMajor: 0,
    devMinor: 0,
    inode: 0n,
    mode: 0,
    mountId: 0n,
    nlink: 0,
    size: 0n,
    uid: 0,
    mtimeNs: 0n,
    ctimeNs: 0n,
  };
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
