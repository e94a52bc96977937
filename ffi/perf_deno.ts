/**
 * Deno binding of {@link PerfCalls}: libc through `Deno.dlopen` (needs an
 * unscoped `--allow-ffi`: the ring buffer is read through
 * `Deno.UnsafePointerView`).
 * @module
 */
import type { PerfCalls } from "./perf.ts";
import { libcCandidates } from "./common.ts";

const symbols = {
  // long syscall(long number, ...), as perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu,
  // int group_fd, unsigned long flags)
  syscall: { parameters: ["i64", "buffer", "i32", "i32", "i32", "u64"], result: "i64" },
  // int ioctl(int fd, unsigned long request, unsigned long arg)
  ioctl: { parameters: ["i32", "u64", "u64"], result: "i32" },
  // void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)
  mmap: { parameters: ["u64", "usize", "i32", "i32", "i32", "i64"], result: "u64" },
  // int munmap(void *addr, size_t length)
  munmap: { parameters: ["u64", "usize"], result: "i32" },
  // int *__errno_location(void)
  __errno_location: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

/** Loads the binding (throws what `Deno.dlopen` throws). */
export function load(nr: number): PerfCalls {
  let lib: Deno.DynamicLibrary<typeof symbols> | undefined;
  let lastError: unknown;
  for (const path of libcCandidates(Deno.build.arch)) {
    try {
      lib = Deno.dlopen(path, symbols);
      break;
    } catch (e) {
      lastError = e;
    }
  }
  if (!lib) throw lastError;
  const s = lib.symbols;
  // errno is thread-local; every call here is synchronous on this thread.
  const errno = new Deno.UnsafePointerView(s.__errno_location()!);
  const check = (r: number) => (r < 0 ? -errno.getInt32() : r);
  const MAP_FAILED = 0xffffffffffffffffn;
  return {
    runtime: "deno",
    perfEventOpen: (attr, pid, cpu, groupFd, flags) =>
      check(Number(s.syscall(BigInt(nr), attr, pid, cpu, groupFd, BigInt(flags)))),
    ioctlInt: (fd, request, arg) => check(s.ioctl(fd, BigInt(request), BigInt(arg))),
    mmap: (length, prot, flags, fd, offset) => {
      const a = BigInt(s.mmap(0n, BigInt(length), prot, flags, fd, BigInt(offset)));
      return a === MAP_FAILED ? -BigInt(errno.getInt32()) : a;
    },
    munmap: (address, length) => check(s.munmap(address, BigInt(length))),
    memory: (address, length) => Deno.UnsafePointerView.getArrayBuffer(Deno.UnsafePointer.create(address)!, length),
  };
}
