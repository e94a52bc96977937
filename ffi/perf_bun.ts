/**
 * Bun binding of {@link PerfCalls}: libc through `bun:ffi`, fetched with
 * `process.getBuiltinModule` so that this module loads under every runtime.
 * @module
 */
import type { PerfCalls } from "./perf.ts";
import { libcCandidates, normaliseArch } from "./common.ts";

/** The slice of `bun:ffi` used here. */
interface BunFfi {
  dlopen(
    path: string,
    symbols: Record<string, { args: readonly string[]; returns: string }>,
  ): { symbols: Record<string, (...args: unknown[]) => number | bigint> };
  read: { i32(pointer: number, offset: number): number };
  toArrayBuffer(pointer: number, byteOffset: number, byteLength: number): ArrayBuffer;
}

const symbols = {
  // long syscall(long number, ...), as perf_event_open(attr, pid, cpu, group_fd, flags)
  syscall: { args: ["i64", "ptr", "i32", "i32", "i32", "u64"], returns: "i64" },
  // int ioctl(int fd, unsigned long request, unsigned long arg)
  ioctl: { args: ["i32", "u64", "u64"], returns: "i32" },
  // void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)
  mmap: { args: ["u64", "u64", "i32", "i32", "i32", "i64"], returns: "u64" },
  // int munmap(void *addr, size_t length)
  munmap: { args: ["u64", "u64"], returns: "i32" },
  // int *__errno_location(void)
  __errno_location: { args: [], returns: "ptr" },
} as const;

/** Loads the binding. */
export function load(nr: number): PerfCalls {
  const ffi = process.getBuiltinModule("bun:ffi") as BunFfi;
  let s: ReturnType<BunFfi["dlopen"]>["symbols"] | undefined;
  let lastError: unknown;
  for (const path of libcCandidates(normaliseArch(process.arch))) {
    try {
      s = ffi.dlopen(path, symbols).symbols;
      break;
    } catch (e) {
      lastError = e;
    }
  }
  if (!s) throw lastError;
  const errnoPtr = s.__errno_location() as number;
  const errno = () => ffi.read.i32(errnoPtr, 0);
  const check = (r: number | bigint) => (Number(r) < 0 ? -errno() : Number(r));
  const MAP_FAILED = 0xffffffffffffffffn;
  return {
    runtime: "bun",
    perfEventOpen: (attr, pid, cpu, groupFd, flags) => check(s.syscall(nr, attr, pid, cpu, groupFd, flags)),
    ioctlInt: (fd, request, arg) => check(s.ioctl(fd, request, arg)),
    mmap: (length, prot, flags, fd, offset) => {
      const a = BigInt(s.mmap(0, length, prot, flags, fd, offset));
      return a === MAP_FAILED ? -BigInt(errno()) : a;
    },
    munmap: (address, length) => check(s.munmap(address, length)),
    // Below 2^53 (user addresses are), so the pointer is exact as a number.
    memory: (address, length) => ffi.toArrayBuffer(Number(address), 0, length),
  };
}
