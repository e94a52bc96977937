/**
 * Bun binding: libc through `bun:ffi`.
 * @module
 */
import { dlopen, FFIType, ptr, read } from "bun:ffi";
import type { FileId, Libc } from "./libc.ts";
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  cString,
  decodeStatx,
  libcCandidates,
  normaliseArch,
  OPEN_FLAGS,
  STATX_BUFFER_SIZE,
  STATX_MASK,
} from "./common.ts";

const symbols = {
  // int open(const char *path, int flags, mode_t mode)
  open: { args: [FFIType.ptr, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  // int close(int fd)
  close: { args: [FFIType.i32], returns: FFIType.i32 },
  // ssize_t pread(int fd, void *buf, size_t count, off_t offset); counts stay < 2^31, so i32 is exact
  pread: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i64], returns: FFIType.i32 },
  // int ioctl(int fd, unsigned long request, void *arg)
  ioctl: { args: [FFIType.i32, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
  // int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf)
  statx: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.u32, FFIType.ptr], returns: FFIType.i32 },
  // int *__errno_location(void)
  __errno_location: { args: [], returns: FFIType.ptr },
} as const;

function openLibc() {
  let lastError: unknown;
  for (const name of libcCandidates(normaliseArch(process.arch))) {
    try {
      return dlopen(name, symbols);
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError;
}

/** Loads the binding. */
export function load(): Libc {
  const lib = openLibc();
  const s = lib.symbols;
  // errno is thread-local; calls are synchronous on this thread, so cache it.
  const errnoPtr = s.__errno_location()!;
  const errno = () => read.i32(errnoPtr, 0);
  const emptyPath = cString("");
  const statxBuf = new Uint8Array(STATX_BUFFER_SIZE);
  return {
    runtime: "bun",
    arch: normaliseArch(process.arch),
    os: process.platform,
    canIoctl: true,
    openRead(path: string | Uint8Array): number {
      const fd = s.open(cString(path), OPEN_FLAGS, 0);
      return fd < 0 ? -errno() : fd;
    },
    close(fd: number): number {
      return s.close(fd) < 0 ? -errno() : 0;
    },
    pread(fd: number, buf: Uint8Array, offset: number): number {
      const n = s.pread(fd, buf, buf.length, offset);
      return n < 0 ? -errno() : n;
    },
    ioctl(fd: number, request: bigint, arg: Uint8Array): number {
      const r = s.ioctl(fd, request, arg);
      return r < 0 ? -errno() : r;
    },
    ioctlAt(fd: number, request: bigint, address: bigint): number {
      // A pointer argument given as an integer is taken as is.
      const r = s.ioctl(fd, request, address);
      return r < 0 ? -errno() : r;
    },
    fstat(fd: number, out: FileId): number {
      if (s.statx(fd, emptyPath, AT_EMPTY_PATH, STATX_MASK, statxBuf) < 0) return -errno();
      decodeStatx(statxBuf, out);
      return 0;
    },
    stat(path: string | Uint8Array, out: FileId): number {
      if (s.statx(AT_FDCWD, cString(path), 0, STATX_MASK, statxBuf) < 0) return -errno();
      decodeStatx(statxBuf, out);
      return 0;
    },
    addressOf(buf: Uint8Array): bigint {
      return BigInt(ptr(buf));
    },
  };
}
