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
export const OPEN_FLAGS = 0o2000000 | 0o4000 | 0o400;
/** `AT_EMPTY_PATH`: statx on the descriptor itself. */
export const AT_EMPTY_PATH = 0x1000;
/** `AT_FDCWD`: statx of a path. */
export const AT_FDCWD = -100;
/** STATX_TYPE | STATX_MODE | STATX_UID | STATX_INO | STATX_SIZE | STATX_MNT_ID (device numbers are always filled in). */
export const STATX_MASK = 0x1 | 0x2 | 0x8 | 0x100 | 0x200 | 0x1000;
const STATX_MNT_ID = 0x1000;
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

/** Reads a file's identity out of a `struct statx` (native byte order). */
export function decodeStatx(buf: Uint8Array, out: FileId): void {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const le = nativeLittleEndian;
  const mask = v.getUint32(0, le); // stx_mask: what the kernel filled in
  out.mode = v.getUint16(28, le); // stx_mode
  out.uid = v.getUint32(20, le); // stx_uid
  out.size = v.getBigUint64(40, le); // stx_size
  out.inode = v.getBigUint64(32, le); // stx_ino
  out.devMajor = v.getUint32(136, le); // stx_dev_major
  out.devMinor = v.getUint32(140, le); // stx_dev_minor
  out.mountId = mask & STATX_MNT_ID ? v.getBigUint64(144, le) : 0n; // stx_mnt_id (Linux 5.8+)
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
