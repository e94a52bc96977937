/**
 * Pieces the runtime bindings share: C strings, `struct statx`, libc names.
 * @module
 */
import type { Arch, FileId } from "./libc.ts";
import { STATX_MNT_ID } from "./constants.ts";

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
  out.nlink = v.getUint32(16, le); // stx_nlink
  out.mode = v.getUint16(28, le); // stx_mode
  out.uid = v.getUint32(20, le); // stx_uid
  out.inode = v.getBigUint64(32, le); // stx_ino
  out.size = v.getBigUint64(40, le); // stx_size
  out.devMajor = v.getUint32(136, le); // stx_dev_major
  out.devMinor = v.getUint32(140, le); // stx_dev_minor
  out.mountId = mask & STATX_MNT_ID ? v.getBigUint64(144, le) : 0n; // stx_mnt_id (Linux 5.8+)
  out.mtimeNs = timestamp(v, 112, le); // stx_mtime
  out.ctimeNs = timestamp(v, 96, le); // stx_ctime
}

/** A `struct statx_timestamp` (s64 seconds, u32 nanoseconds) in nanoseconds since the epoch. */
function timestamp(v: DataView, at: number, le: boolean): bigint {
  return v.getBigInt64(at, le) * 1_000_000_000n + BigInt(v.getUint32(at + 8, le));
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

/** GNU multiarch triples, for the usual places of libc. */
const TRIPLES: Record<string, string> = {
  x86_64: "x86_64-linux-gnu",
  aarch64: "aarch64-linux-gnu",
  riscv64: "riscv64-linux-gnu",
};

/**
 * The C library to dlopen, most likely first: full paths (glibc's multiarch
 * and lib64 places, musl's loader, which is its libc), then bare names for
 * the dynamic linker's search. Opening by full path lets Deno's
 * `--allow-ffi=<path>` cover it.
 */
export function libcCandidates(arch: Arch): string[] {
  const triple = TRIPLES[arch];
  return [
    ...(triple ? [`/usr/lib/${triple}/libc.so.6`, `/lib/${triple}/libc.so.6`] : []),
    "/usr/lib64/libc.so.6",
    "/lib64/libc.so.6",
    `/lib/ld-musl-${arch}.so.1`,
    "libc.so.6",
    `libc.musl-${arch}.so.1`,
  ];
}

/**
 * The C library this process has loaded, from its maps text (glibc's
 * `libc.so.6` or musl's `ld-musl-*.so.1`), or undefined.
 */
export function loadedLibc(mapsText: string): string | undefined {
  const m = /\s(\/\S*\/(?:libc\.so\.6|libc-[0-9.]+\.so|ld-musl-[^/\s]+\.so\.1))$/m.exec(mapsText);
  return m?.[1];
}
