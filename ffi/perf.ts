/**
 * The system calls a sampling profiler needs beyond {@link Libc}:
 * `perf_event_open` (through libc's `syscall()`), `ioctl` with an integer
 * argument, `mmap`/`munmap`, and a view of mapped memory. Each runtime's
 * binding (`perf_deno.ts`, `perf_bun.ts`, `perf_node.ts`) is a thin table of
 * C functions; everything that uses them is runtime-free.
 * @module
 */

/** The profiler's calls, each returning a result or `-errno` and never throwing. */
export interface PerfCalls {
  /** Which runtime provides them. */
  readonly runtime: "deno" | "bun" | "node";
  /**
   * `syscall(SYS_perf_event_open, attr, pid, cpu, group_fd, flags)`: a
   * descriptor or -errno. `attr` is a `struct perf_event_attr`.
   */
  perfEventOpen(attr: Uint8Array, pid: number, cpu: number, groupFd: number, flags: number): number;
  /** `ioctl(fd, request, arg)` with an integer argument: the result or -errno. */
  ioctlInt(fd: number, request: number, arg: number): number;
  /**
   * `mmap(NULL, length, prot, flags, fd, offset)`: the address, or -errno (a
   * negative bigint).
   */
  mmap(length: number, prot: number, flags: number, fd: number, offset: number): bigint;
  /** `munmap(address, length)`: 0 or -errno. */
  munmap(address: bigint, length: number): number;
  /**
   * An ArrayBuffer over `length` bytes of this process's memory at
   * `address` (no copy: reads see what the kernel writes there). It must not
   * be used after the memory is unmapped.
   */
  memory(address: bigint, length: number): ArrayBuffer;
}

/**
 * `perf_event_open`'s system call number on this CPU (x86_64: 298, from
 * arch/x86/entry/syscalls/syscall_64.tbl), or undefined elsewhere: the
 * profiler reads the ring buffer in an order that x86's memory model keeps
 * (loads not reordered with loads, stores not with earlier loads) and is
 * only tested there, so other CPUs are refused rather than guessed at.
 */
export function perfEventOpenNumber(arch: string): number | undefined {
  return arch === "x86_64" ? 298 : undefined;
}
