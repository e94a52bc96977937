/**
 * Bun binding: libc through `bun:ffi`, fetched with
 * `process.getBuiltinModule` so that this module loads (and does nothing)
 * under every runtime.
 * @module
 */
import type * as BunFfi from "bun:ffi";
import type { Libc } from "./libc.ts";
import { libcOver } from "./calls.ts";
import { libcCandidates, normaliseArch } from "./common.ts";
import { SYS_OPENAT2 } from "./constants.ts";

const symbols = {
  // int openat(int dirfd, const char *path, int flags, mode_t mode)
  openat: { args: ["i32", "ptr", "i32", "i32"], returns: "i32" },
  // long syscall(long number, ...), as openat2(int dirfd, const char *path, struct open_how *how, size_t size);
  // an int result is exact (a descriptor or -1)
  syscall: { args: ["i64", "i64", "ptr", "ptr", "u64"], returns: "i32" },
  // int close(int fd)
  close: { args: ["i32"], returns: "i32" },
  // ssize_t pread(int fd, void *buf, size_t count, off_t offset); counts stay < 2^31, so i32 is exact
  pread: { args: ["i32", "ptr", "u64", "i64"], returns: "i32" },
  // int ioctl(int fd, unsigned long request, void *arg); arg is a buffer or an address (taken as is)
  ioctl: { args: ["i32", "u64", "ptr"], returns: "i32" },
  // int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf)
  statx: { args: ["i32", "ptr", "i32", "u32", "ptr"], returns: "i32" },
  // int *__errno_location(void)
  __errno_location: { args: [], returns: "ptr" },
} as const satisfies Record<string, BunFfi.FFIFunction>;

function openLibc(ffi: typeof BunFfi): BunFfi.Library<typeof symbols> {
  let lastError: unknown;
  for (const path of libcCandidates(normaliseArch(process.arch))) {
    try {
      return ffi.dlopen(path, symbols);
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError;
}

/** Loads the binding. */
export function load(): Libc {
  const ffi = process.getBuiltinModule("bun:ffi") as typeof BunFfi;
  const s = openLibc(ffi).symbols;
  // errno is thread-local; calls are synchronous on this thread, so cache its address.
  const errnoPtr = s.__errno_location()!;
  const read = ffi.read;
  return libcOver({ runtime: "bun", binding: "bun", arch: normaliseArch(process.arch), os: process.platform }, {
    openat: (dirfd, path, flags) => s.openat(dirfd, path, flags, 0),
    openat2: (dirfd, path, how) => s.syscall(SYS_OPENAT2, dirfd, path, how, how.length),
    close: (fd) => s.close(fd),
    pread: (fd, buf, offset) => s.pread(fd, buf, buf.length, offset),
    ioctl: (fd, request, arg) => s.ioctl(fd, request, arg),
    // A pointer argument given as an integer is taken as is.
    ioctlAt: (fd, request, address) => s.ioctl(fd, request, address as unknown as BunFfi.Pointer),
    statx: (dirfd, path, flags, mask, buf) => s.statx(dirfd, path, flags, mask, buf),
    errno: () => read.i32(errnoPtr, 0),
    addressOf: (buf) => BigInt(ffi.ptr(buf)),
  });
}
