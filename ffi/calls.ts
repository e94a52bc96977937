/**
 * The {@link Libc} calls built once over any FFI: each binding supplies only
 * its symbol table (the C functions, returning what C returns and leaving
 * errno set), and this module turns a raw result into `-errno`.
 * @module
 */
import type { Arch, FileId, Libc } from "./libc.ts";
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  O_CLOEXEC,
  OPEN_HOW_SIZE,
  OPEN_READ,
  STATX_BUFFER_SIZE,
  STATX_MASK,
} from "./constants.ts";
import { cString, decodeStatx, nativeLittleEndian } from "./common.ts";

/**
 * The C functions a binding exposes, called exactly as C would be; a result
 * below 0 means "see errno", which {@link RawLibc.errno} reads. Paths are
 * NUL-terminated byte strings (from `cString`).
 */
export interface RawLibc {
  /** `int openat(int dirfd, const char *path, int flags, mode_t mode)` with mode 0. */
  openat(dirfd: number, path: Uint8Array, flags: number): number;
  /**
   * `syscall(SYS_openat2, dirfd, path, how, sizeof *how)`; undefined where
   * the binding cannot make the call.
   */
  openat2?(dirfd: number, path: Uint8Array, how: Uint8Array): number;
  /** `ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t size)` with size `buf.length`. */
  readlinkat(dirfd: number, path: Uint8Array, buf: Uint8Array): number;
  /** `int close(int fd)` */
  close(fd: number): number;
  /** `ssize_t pread(int fd, void *buf, size_t count, off_t offset)` with count `buf.length`. */
  pread(fd: number, buf: Uint8Array, offset: number): number;
  /** `int ioctl(int fd, unsigned long request, void *arg)` */
  ioctl(fd: number, request: bigint, arg: Uint8Array): number;
  /** The same with `arg` given as an address. */
  ioctlAt(fd: number, request: bigint, address: bigint): number;
  /** `int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf)` */
  statx(dirfd: number, path: Uint8Array, flags: number, mask: number, buf: Uint8Array): number;
  /** The calling thread's errno, read at once (`*__errno_location()`). */
  errno(): number;
  /** The address of `buf`'s first byte. */
  addressOf(buf: Uint8Array): bigint;
}

/** What a binding says about itself. */
export interface BindingInfo {
  runtime: Libc["runtime"];
  binding: Libc["binding"];
  arch: Arch;
  os: string;
}

const ENOSYS = 38;

/** The {@link Libc} over `raw`: the one place a raw result becomes `-errno`. */
export function libcOver(info: BindingInfo, raw: RawLibc): Libc {
  // Every call is synchronous on this thread, so errno is read before anything
  // else can overwrite it.
  const check = (r: number): number => (r < 0 ? -raw.errno() : r);
  const emptyPath = cString("");
  const statxBuf = new Uint8Array(STATX_BUFFER_SIZE);
  const how = new Uint8Array(OPEN_HOW_SIZE);
  const howView = new DataView(how.buffer);
  const statx = (dirfd: number, cPath: Uint8Array, atFlags: number, out: FileId): number => {
    const r = check(raw.statx(dirfd, cPath, atFlags, STATX_MASK, statxBuf));
    if (r === 0) decodeStatx(statxBuf, out);
    return r;
  };
  const openat2 = raw.openat2;
  return {
    ...info,
    canIoctl: true,
    openRead: (path) => check(raw.openat(AT_FDCWD, cString(path), OPEN_READ)),
    openAt: (dirfd, path, flags) => check(raw.openat(dirfd, cString(path), flags | O_CLOEXEC)),
    openat2: openat2
      ? (dirfd, path, flags, resolve) => {
        // struct open_how { u64 flags; u64 mode; u64 resolve; }
        howView.setBigUint64(0, BigInt((flags | O_CLOEXEC) >>> 0), nativeLittleEndian);
        howView.setBigUint64(8, 0n, nativeLittleEndian);
        howView.setBigUint64(16, BigInt(resolve >>> 0), nativeLittleEndian);
        return check(openat2(dirfd, cString(path), how));
      }
      : () => -ENOSYS,
    readlinkAt: (dirfd, path, buf) => check(raw.readlinkat(dirfd, cString(path), buf)),
    close: (fd) => check(raw.close(fd)),
    pread: (fd, buf, offset) => check(raw.pread(fd, buf, offset)),
    ioctl: (fd, request, arg) => check(raw.ioctl(fd, request, arg)),
    ioctlAt: (fd, request, address) => check(raw.ioctlAt(fd, request, address)),
    statAt: (dirfd, path, atFlags, out) => statx(dirfd, cString(path), atFlags, out),
    fstat: (fd, out) => statx(fd, emptyPath, AT_EMPTY_PATH, out),
    stat: (path, out) => statx(AT_FDCWD, cString(path), 0, out),
    addressOf: (buf) => raw.addressOf(buf),
  };
}
