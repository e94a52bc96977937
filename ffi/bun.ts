/**
 * Bun binding: libc through `bun:ffi`, fetched with
 * `process.getBuiltinModule` so that this module loads (and does nothing)
 * under every runtime.
 * @module
 */
import type { Libc } from "./libc.ts";
import { libcOver } from "./calls.ts";
import { libcCandidates, normaliseArch } from "./common.ts";
import { SYS_OPENAT2 } from "./constants.ts";

/**
 * The slice of `bun:ffi` used here, typed locally so that the library's types
 * do not depend on Bun's type package (nor Deno's checker on `bun:` imports).
 */
interface BunFfi {
  dlopen<S extends Record<string, BunSignature>>(
    path: string,
    symbols: S,
  ): { symbols: { [K in keyof S]: (...args: unknown[]) => number | bigint | null } };
  ptr(view: ArrayBufferView): number;
  read: { i32(pointer: number, offset: number): number };
}
interface BunSignature {
  args: readonly string[];
  returns: string;
}

const symbols = {
  // int openat(int dirfd, const char *path, int flags, mode_t mode)
  openat: { args: ["i32", "ptr", "i32", "i32"], returns: "i32" },
  // long syscall(long number, ...), as openat2(int dirfd, const char *path, struct open_how *how, size_t size);
  // an int result is exact (a descriptor or -1)
  syscall: { args: ["i64", "i64", "ptr", "ptr", "u64"], returns: "i32" },
  // ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t size); sizes stay < 2^31, so i32 is exact
  readlinkat: { args: ["i32", "ptr", "ptr", "u64"], returns: "i32" },
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
} as const satisfies Record<string, BunSignature>;

type Functions = ReturnType<BunFfi["dlopen"]>["symbols"];

function openLibc(ffi: BunFfi): Functions {
  let lastError: unknown;
  for (const path of libcCandidates(normaliseArch(process.arch))) {
    try {
      return ffi.dlopen(path, symbols).symbols;
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError;
}

/** Loads the binding. */
export function load(): Libc {
  const ffi = process.getBuiltinModule("bun:ffi") as BunFfi;
  const s = openLibc(ffi);
  // errno is thread-local; calls are synchronous on this thread, so cache its address.
  const errnoPtr = s.__errno_location() as number;
  const read = ffi.read;
  const n = (r: number | bigint | null) => r as number;
  return libcOver({ runtime: "bun", binding: "bun", arch: normaliseArch(process.arch), os: process.platform }, {
    openat: (dirfd, path, flags) => n(s.openat(dirfd, path, flags, 0)),
    openat2: (dirfd, path, how) => n(s.syscall(SYS_OPENAT2, dirfd, path, how, how.length)),
    readlinkat: (dirfd, path, buf) => n(s.readlinkat(dirfd, path, buf, buf.length)),
    close: (fd) => n(s.close(fd)),
    pread: (fd, buf, offset) => n(s.pread(fd, buf, buf.length, offset)),
    ioctl: (fd, request, arg) => n(s.ioctl(fd, request, arg)),
    // A pointer argument given as an integer is taken as is.
    ioctlAt: (fd, request, address) => n(s.ioctl(fd, request, address)),
    statx: (dirfd, path, flags, mask, buf) => n(s.statx(dirfd, path, flags, mask, buf)),
    errno: () => read.i32(errnoPtr, 0),
    addressOf: (buf) => BigInt(ffi.ptr(buf)),
  });
}
