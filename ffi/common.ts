/**
 * Pieces the runtime bindings share: C strings, `struct statx`, libc names.
 * @module
 */
import type { Arch, FileId } from "./libc.ts";

/**
 * `O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY` (same values on x86_64,
 * aarch64 and riscv64). Build IDs are read from paths a traced process can
 * influence: O_NONBLOCK keeps a FIFO put there from blocking open() forever,
 * O_NOCTTY keeps a terminal from becoming ours. Neither changes reads of
 * regular or /proc files.
 */
export const O_RDONLY_CLOEXEC = 0o2000000 | 0o4000 | 0o400;
/** `AT_EMPTY_PATH`: statx on the descriptor itself. */
export const AT_EMPTY_PATH = 0x1000;
/** `STATX_INO` (device numbers are always filled in). */
export const STATX_INO = 0x100;
/** `sizeof(struct statx)`, the same on every architecture. */
export const STATX_BUFFER_SIZE = 256;

const encoder = new TextEncoder();

/**
 * A NUL-terminated copy of `s` (UTF-8 for a string, as is for bytes);
 * refuses embedded NULs, which C would cut short.
 */
export function cString(s: string | Uint8Array): Uint8Array {
  if (typeof s !== "string") {
    if (s.includes(0)) throw new TypeError("path contains a NUL byte");
    const bytes = new Uint8Array(s.length + 1);
    bytes.set(s);
    return bytes;
  }
  if (s.includes("\0")) throw new TypeError(`path contains a NUL character: ${JSON.stringify(s)}`);
  const bytes = new Uint8Array(s.length * 3 + 1);
  const { written } = encoder.encodeInto(s, bytes);
  return bytes.subarray(0, written + 1);
}

/** Reads device and inode out of a `struct statx` (native byte order). */
export function decodeStatx(buf: Uint8Array, out: FileId): void {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const le = nativeLittleEndian;
  out.inode = v.getBigUint64(32, le); // stx_ino
  out.devMajor = v.getUint32(136, le); // stx_dev_major
  out.devMinor = v.getUint32(140, le); // stx_dev_minor
}

/** True on little-endian machines (every architecture procmap drives the ioctl on). */
export const nativeLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Maps Node-style names (`x64`, `arm64`) to the kernel's. */
export function normaliseArch(arch: string): Arch {
  switch (arch) {
    case "x64":
      return "x86_64";
    case "arm64":
      return "aarch64";
    default:
      return arch;
  }
}

/** Shared-object names of the C library to try, glibc first, then musl. */
export function libcCandidates(arch: Arch): string[] {
  return ["libc.so.6", `libc.musl-${arch}.so.1`];
}
