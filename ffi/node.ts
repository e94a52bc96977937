/**
 * Node.js binding: libc through `node:ffi` (Node 26.1+, on by default from
 * 26.12), fetched with `process.getBuiltinModule` so that no top-level await
 * is needed. Where Node has no usable node:ffi (older Node,
 * `--no-experimental-ffi`, the permission model without `--allow-ffi`) the
 * `node:fs` binding stands in, and procmap uses the text backend.
 * @module
 */
import type { Libc } from "./libc.ts";
import { libcOver } from "./calls.ts";
import { libcCandidates, normaliseArch } from "./common.ts";
import { SYS_OPENAT2 } from "./constants.ts";
import { load as loadNodeFs } from "./node_fs.ts";

/** The slice of `node:ffi` used here (its types are not in @types/node for Node 20). */
interface NodeFfi {
  dlopen<S extends Record<string, NodeFfiSignature>>(
    path: string,
    symbols: S,
  ): { functions: { [K in keyof S]: (...args: unknown[]) => number | bigint } };
  getRawPointer(view: ArrayBufferView): bigint;
  getInt32(pointer: bigint, offset: number): number;
}
interface NodeFfiSignature {
  return: string;
  arguments: readonly string[];
}

const symbols = {
  // int openat(int dirfd, const char *path, int flags, mode_t mode)
  openat: { return: "int32", arguments: ["int32", "buffer", "int32", "int32"] },
  // long syscall(long number, ...), as openat2(int dirfd, const char *path, struct open_how *how, size_t size);
  // an int result is exact (a descriptor or -1)
  syscall: { return: "int32", arguments: ["int64", "int64", "buffer", "buffer", "uint64"] },
  // ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t size); sizes stay < 2^31, so int32 is exact
  readlinkat: { return: "int32", arguments: ["int32", "buffer", "buffer", "uint64"] },
  // int close(int fd)
  close: { return: "int32", arguments: ["int32"] },
  // ssize_t pread(int fd, void *buf, size_t count, off_t offset); counts stay < 2^31, so int32 is exact
  pread: { return: "int32", arguments: ["int32", "buffer", "uint64", "int64"] },
  // int ioctl(int fd, unsigned long request, void *arg); arg as an address (one symbol, one signature)
  ioctl: { return: "int32", arguments: ["int32", "uint64", "pointer"] },
  // int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf)
  statx: { return: "int32", arguments: ["int32", "buffer", "int32", "uint32", "buffer"] },
  // int *__errno_location(void)
  __errno_location: { return: "pointer", arguments: [] },
} as const satisfies Record<string, NodeFfiSignature>;

type Functions = ReturnType<NodeFfi["dlopen"]>["functions"];

function openLibc(ffi: NodeFfi): Functions {
  let lastError: unknown;
  for (const path of libcCandidates(normaliseArch(process.arch))) {
    try {
      return ffi.dlopen(path, symbols).functions;
    } catch (e) {
      // The permission model refuses every path alike: no point trying others.
      if ((e as { code?: unknown }).code === "ERR_ACCESS_DENIED") throw e;
      lastError = e;
    }
  }
  throw lastError;
}

/** Why this Node has no node:ffi, saying what to do. */
function missingFfi(): string {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  if (major < 26 || (major === 26 && minor < 1)) {
    return `Node.js ${process.versions.node} has no node:ffi (Node 26.1 and later have it)`;
  }
  return `node:ffi is turned off in Node.js ${process.versions.node} ` +
    `(on by default from 26.12; run without --no-experimental-ffi, or with --experimental-ffi)`;
}

/** Loads the node:ffi binding where Node has one, the node:fs one otherwise. */
export function load(): Libc {
  const ffi = process.getBuiltinModule?.("node:ffi") as NodeFfi | undefined;
  if (ffi === undefined) return loadNodeFs(missingFfi());
  let f: Functions;
  try {
    f = openLibc(ffi);
  } catch (e) {
    if ((e as { code?: unknown }).code !== "ERR_ACCESS_DENIED") throw e;
    return loadNodeFs("Node's permission model refuses node:ffi: run with --allow-ffi");
  }
  // errno is thread-local; calls are synchronous on this thread, so cache its address.
  const errnoPtr = f.__errno_location() as bigint;
  const getRawPointer = ffi.getRawPointer;
  const getInt32 = ffi.getInt32;
  const n = (r: number | bigint) => r as number;
  return libcOver({ runtime: "node", binding: "node:ffi", arch: normaliseArch(process.arch), os: process.platform }, {
    openat: (dirfd, path, flags) => n(f.openat(dirfd, path, flags, 0)),
    openat2: (dirfd, path, how) => n(f.syscall(SYS_OPENAT2, dirfd, path, how, how.length)),
    readlinkat: (dirfd, path, buf) => n(f.readlinkat(dirfd, path, buf, buf.length)),
    close: (fd) => n(f.close(fd)),
    pread: (fd, buf, offset) => n(f.pread(fd, buf, buf.length, offset)),
    ioctl: (fd, request, arg) => n(f.ioctl(fd, request, getRawPointer(arg))),
    ioctlAt: (fd, request, address) => n(f.ioctl(fd, request, address)),
    statx: (dirfd, path, flags, mask, buf) => n(f.statx(dirfd, path, flags, mask, buf)),
    errno: () => getInt32(errnoPtr, 0),
    addressOf: (buf) => getRawPointer(buf),
  });
}
