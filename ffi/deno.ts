/**
 * Deno binding: libc through `Deno.dlopen` (needs `--allow-ffi`).
 * @module
 */
import { FfiPermissionError, type FileId, type Libc } from "./libc.ts";
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  cString,
  decodeStatx,
  libcCandidates,
  OPEN_FLAGS,
  STATX_BUFFER_SIZE,
  STATX_MASK,
} from "./common.ts";

const symbols = {
  // int open(const char *path, int flags, mode_t mode)
  open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
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
  // int *__errno_location(void)
  __errno_location: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

function openLibc(): Deno.DynamicLibrary<typeof symbols> {
  let lastError: unknown;
  for (const name of libcCandidates(Deno.build.arch)) {
    try {
      return Deno.dlopen(name, symbols);
    } catch (e) {
      // Missing permission is not a missing library: say so at once.
      if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
        throw new FfiPermissionError("Deno refused FFI: procmap calls libc (open, read, ioctl); run with --allow-ffi", {
          cause: e,
        });
      }
      lastError = e;
    }
  }
  throw lastError;
}

/** Loads the binding; throws FfiPermissionError when `--allow-ffi` is missing. */
export function load(): Libc {
  const lib = openLibc();
  const s = lib.symbols;
  // errno is thread-local; this module only ever calls libc synchronously on
  // the thread that loaded it, so the location can be cached.
  const errno = new Deno.UnsafePointerView(s.__errno_location()!);
  const emptyPath = cString("");
  const statxBuf = new Uint8Array(STATX_BUFFER_SIZE);
  return {
    runtime: "deno",
    arch: Deno.build.arch,
    os: Deno.build.os,
    canIoctl: true,
    openRead(path: string | Uint8Array): number {
      const fd = s.open(cString(path), OPEN_FLAGS, 0);
      return fd < 0 ? -errno.getInt32() : fd;
    },
    close(fd: number): number {
      return s.close(fd) < 0 ? -errno.getInt32() : 0;
    },
    pread(fd: number, buf: Uint8Array, offset: number): number {
      const n = s.pread(fd, buf, BigInt(buf.length), BigInt(offset));
      return n < 0 ? -errno.getInt32() : n;
    },
    ioctl(fd: number, request: bigint, arg: Uint8Array): number {
      const r = s.ioctl(fd, request, arg);
      return r < 0 ? -errno.getInt32() : r;
    },
    ioctlAt(fd: number, request: bigint, address: bigint): number {
      const r = s.ioctlAt(fd, request, address);
      return r < 0 ? -errno.getInt32() : r;
    },
    fstat(fd: number, out: FileId): number {
      if (s.statx(fd, emptyPath, AT_EMPTY_PATH, STATX_MASK, statxBuf) < 0) return -errno.getInt32();
      decodeStatx(statxBuf, out);
      return 0;
    },
    stat(path: string | Uint8Array, out: FileId): number {
      if (s.statx(AT_FDCWD, cString(path), 0, STATX_MASK, statxBuf) < 0) return -errno.getInt32();
      decodeStatx(statxBuf, out);
      return 0;
    },
    addressOf(buf: Uint8Array): bigint {
      return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf)));
    },
  };
}
