/**
 * Deno binding: libc through `Deno.dlopen` (needs `--allow-ffi`, or just
 * `--allow-ffi=<the C library's path>`: libc is opened by its full path, and
 * nothing here needs more than calling its functions; no pointer objects).
 * @module
 */
import { FfiPermissionError, type Libc } from "./libc.ts";
import { libcOver } from "./calls.ts";
import { libcCandidates, loadedLibc } from "./common.ts";
import { SYS_OPENAT2 } from "./constants.ts";

const symbols = {
  // int openat(int dirfd, const char *path, int flags, mode_t mode)
  openat: { parameters: ["i32", "buffer", "i32", "i32"], result: "i32" },
  // long syscall(long number, ...), as openat2(int dirfd, const char *path, struct open_how *how, size_t size);
  // an int result is exact (a descriptor or -1)
  syscall: { parameters: ["i64", "i64", "buffer", "buffer", "u64"], result: "i32" },
  // ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t size); sizes stay < 2^31, so i32 is exact
  readlinkat: { parameters: ["i32", "buffer", "buffer", "usize"], result: "i32" },
  // int close(int fd)
  close: { parameters: ["i32"], result: "i32" },
  // ssize_t pread(int fd, void *buf, size_t count, off_t offset); counts stay < 2^31, so i32 is exact
  pread: { parameters: ["i32", "buffer", "usize", "i64"], result: "i32" },
  // int ioctl(int fd, unsigned long request, void *arg)
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  // the same, with arg as an address (a u64: the fastest argument type)
  ioctlAt: { name: "ioctl", parameters: ["i32", "u64", "u64"], result: "i32" },
  // int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf)
  statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" },
  // int *__errno_location(void); a u64, because a scoped --allow-ffi refuses pointer objects
  __errno_location: { parameters: [], result: "u64" },
  // void *memcpy(void *dest, const void *src, size_t n): reads errno through its address
  memcpy: { parameters: ["buffer", "u64", "usize"], result: "u64" },
  // void *memset(void *s, int c, size_t n): with n = 0, the address of s and nothing else
  memset: { parameters: ["buffer", "i32", "usize"], result: "u64" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The libc this process has loaded, when Deno lets us read our own maps (never prompts). */
function libcInMaps(): string | undefined {
  try {
    if (Deno.permissions.querySync({ name: "read", path: "/proc/self/maps" }).state !== "granted") return undefined;
    return loadedLibc(Deno.readTextFileSync("/proc/self/maps"));
  } catch {
    return undefined;
  }
}

function openLibc(): Deno.DynamicLibrary<typeof symbols> {
  const loaded = libcInMaps();
  const candidates = [...new Set([...(loaded ? [loaded] : []), ...libcCandidates(Deno.build.arch)])];
  let refused: unknown;
  let lastError: unknown;
  for (const path of candidates) {
    try {
      return Deno.dlopen(path, symbols);
    } catch (e) {
      // A scoped --allow-ffi refuses every path but its own: try the others.
      if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) refused ??= e;
      else lastError = e;
    }
  }
  if (refused !== undefined) {
    throw new FfiPermissionError(
      `Deno refused FFI: procmap calls the C library (open, read, ioctl); run with --allow-ffi, ` +
        `or narrowly --allow-ffi=${candidates[0]} (the C library it opens here)`,
      { cause: refused },
    );
  }
  throw lastError;
}

/** Loads the binding; throws FfiPermissionError when `--allow-ffi` is missing. */
export function load(): Libc {
  const s = openLibc().symbols;
  // errno is thread-local; this module only ever calls libc synchronously on
  // the thread that loaded it, so its address can be cached.
  const errnoAddress = BigInt(s.__errno_location());
  const errnoValue = new Int32Array(1);
  return libcOver({ runtime: "deno", binding: "deno", arch: Deno.build.arch, os: Deno.build.os }, {
    openat: (dirfd, path, flags) => s.openat(dirfd, path, flags, 0),
    openat2: (dirfd, path, how) => s.syscall(BigInt(SYS_OPENAT2), BigInt(dirfd), path, how, BigInt(how.length)),
    readlinkat: (dirfd, path, buf) => s.readlinkat(dirfd, path, buf, BigInt(buf.length)),
    close: (fd) => s.close(fd),
    pread: (fd, buf, offset) => s.pread(fd, buf, BigInt(buf.length), BigInt(offset)),
    ioctl: (fd, request, arg) => s.ioctl(fd, request, arg),
    ioctlAt: (fd, request, address) => s.ioctlAt(fd, request, address),
    statx: (dirfd, path, flags, mask, buf) => s.statx(dirfd, path, flags, mask, buf),
    errno: () => (s.memcpy(errnoValue, errnoAddress, 4n), errnoValue[0]),
    addressOf: (buf) => BigInt(s.memset(buf, 0, 0n)),
  });
}
