/**
 * Node.js binding of {@link PerfCalls}: libc through `node:ffi` (Node 26.1+),
 * whose `toArrayBuffer(pointer, length, false)` views memory without copying.
 * @module
 */
import type { PerfCalls } from "./perf.ts";
import { libcCandidates, normaliseArch } from "./common.ts";

/** The slice of `node:ffi` used here. */
interface NodeFfi {
  dlopen(
    path: string,
    symbols: Record<string, { return: string; arguments: readonly string[] }>,
  ): { functions: Record<string, (...args: unknown[]) => number | bigint> };
  getInt32(pointer: bigint, offset: number): number;
  toArrayBuffer(pointer: bigint, length: number, copy: boolean): ArrayBuffer;
}

const symbols = {
  // long syscall(long number, ...), as perf_event_open(attr, pid, cpu, group_fd, flags)
  syscall: { return: "int64", arguments: ["int64", "buffer", "int32", "int32", "int32", "uint64"] },
  // int ioctl(int fd, unsigned long request, unsigned long arg)
  ioctl: { return: "int32", arguments: ["int32", "uint64", "uint64"] },
  // void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)
  mmap: { return: "uint64", arguments: ["uint64", "uint64", "int32", "int32", "int32", "int64"] },
  // int munmap(void *addr, size_t length)
  munmap: { return: "int32", arguments: ["uint64", "uint64"] },
  // int *__errno_location(void)
  __errno_location: { return: "pointer", arguments: [] },
} as const;

/**
 * Loads the binding; throws when this Node has no `node:ffi` (the message
 * says which Node has it).
 */
export function load(nr: number): PerfCalls {
  const ffi = process.getBuiltinModule?.("node:ffi") as NodeFfi | undefined;
  if (!ffi) {
    throw new Error(
      `Node.js ${process.versions.node} has no node:ffi (Node 26.1 and later have it; ` +
        `not with --no-experimental-ffi), so it cannot call perf_event_open or read the ring buffer`,
    );
  }
  let f: ReturnType<NodeFfi["dlopen"]>["functions"] | undefined;
  let lastError: unknown;
  for (const path of libcCandidates(normaliseArch(process.arch))) {
    try {
      f = ffi.dlopen(path, symbols).functions;
      break;
    } catch (e) {
      lastError = e;
    }
  }
  if (!f) throw lastError;
  const errnoPtr = f.__errno_location() as bigint;
  const errno = () => ffi.getInt32(errnoPtr, 0);
  const check = (r: number | bigint) => (Number(r) < 0 ? -errno() : Number(r));
  const MAP_FAILED = 0xffffffffffffffffn;
  return {
    runtime: "node",
    perfEventOpen: (attr, pid, cpu, groupFd, flags) =>
      check(f.syscall(BigInt(nr), attr, pid, cpu, groupFd, BigInt(flags))),
    ioctlInt: (fd, request, arg) => check(f.ioctl(fd, BigInt(request), BigInt(arg))),
    mmap: (length, prot, flags, fd, offset) => {
      const a = BigInt(f.mmap(0n, BigInt(length), prot, flags, fd, BigInt(offset)));
      return a === MAP_FAILED ? -BigInt(errno()) : a;
    },
    munmap: (address, length) => check(f.munmap(address, BigInt(length))),
    memory: (address, length) => ffi.toArrayBuffer(address, length, false),
  };
}
