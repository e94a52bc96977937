/**
 * Can this handle use PROCMAP_QUERY? The runtime must have FFI, the CPU's
 * request number must be known, and the kernel must answer the ioctl
 * (kernels before 6.11 say ENOTTY). The kernel is probed once per binding.
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import { ERRNO, errorFromErrno, ProcMapsError } from "../errors.ts";
import type { Pid } from "../options.ts";
import { nativeLittleEndian } from "../util/bytes.ts";
import { OFF, QUERY_SIZE, requestFor } from "./abi.ts";
import { FLAG } from "../request.ts";

/** Per binding: does this kernel answer PROCMAP_QUERY? */
const ioctlSupport = new WeakMap<Libc, boolean>();

/**
 * Why the ioctl cannot be used here, or undefined when it can (the kernel
 * is probed on `fd`, an open maps file, once per binding).
 */
export function ioctlUnavailable(libc: Libc, fd: number, pid: Pid, path: string): ProcMapsError | undefined {
  const syscall = "ioctl(PROCMAP_QUERY)";
  if (!libc.canIoctl) {
    return new ProcMapsError("ENOTTY", {
      pid,
      syscall,
      message: `${libc.whyNoIoctl ?? `the ${libc.runtime} runtime has no built-in FFI`}, so PROCMAP_QUERY cannot be ` +
        `called; use backend "text" or "auto", or run under Deno, Bun or Node.js 26`,
    });
  }
  const request = requestFor(libc.arch);
  if (request === undefined) {
    return new ProcMapsError("EOPNOTSUPP", {
      pid,
      syscall,
      message: `procmap does not know the PROCMAP_QUERY request number on ${libc.arch} ` +
        `(known: x86_64, aarch64, riscv64); use backend "text" or "auto"`,
    });
  }
  let supported = ioctlSupport.get(libc);
  if (supported === undefined) {
    // Minimal valid query: covering-or-next from 0, no name, no build ID
    // (no buffers, so no addresses: a bare struct rather than a QueryStruct).
    const probe = new Uint8Array(QUERY_SIZE);
    const v = new DataView(probe.buffer);
    v.setBigUint64(OFF.size, BigInt(QUERY_SIZE), nativeLittleEndian);
    v.setBigUint64(OFF.queryFlags, BigInt(FLAG.coveringOrNext), nativeLittleEndian);
    const r = libc.ioctl(fd, request, probe);
    if (r === -ERRNO.ENOTTY) supported = false;
    else if (r >= 0 || r === -ERRNO.ENOENT) supported = true;
    // Any other answer (ESRCH for an exited process, ...) says nothing about the kernel.
    if (supported !== undefined) ioctlSupport.set(libc, supported);
  }
  if (supported === false) return errorFromErrno(ERRNO.ENOTTY, pid, syscall, path);
  return undefined;
}
