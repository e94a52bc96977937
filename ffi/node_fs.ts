/**
 * Node.js binding without FFI: `node:fs` only (Node before 26, or node:ffi
 * turned off or refused). No ioctl and no openat2 here, so procmap uses the
 * text backend; `openAt` and `statAt` go through `/proc/self/fd/<dirfd>/`.
 * @module
 */
import type * as NodeFs from "node:fs";
import type { Buffer as NodeBuffer } from "node:buffer";
import type { FileId, Libc } from "./libc.ts";
import { normaliseArch } from "./common.ts";
import { AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, O_CLOEXEC, OPEN_READ } from "./constants.ts";

// Fetched in load(), as the other bindings fetch their FFI: an import of procmap under Deno or Bun
// never loads them, and under Node only this binding does.
let fs: typeof NodeFs;
let Buffer: typeof NodeBuffer;
type Buffer = NodeBuffer;

const ENOENT = 2;
const EBADF = 9;
const EACCES = 13;
const ENOSYS = 38;
const ENOTTY = 25;

/**
 * The errno of a failed `node:fs` call (Node reports it negated). Node's
 * permission model (`--permission` without `--allow-fs-read` for the path)
 * refuses with an error that has no errno (`ERR_ACCESS_DENIED`): that is
 * EACCES, as the kernel would say.
 */
function errnoOf(e: unknown): number {
  const n = (e as { errno?: unknown }).errno;
  if (typeof n === "number" && n !== 0) return Math.abs(n);
  if ((e as { code?: unknown }).code === "ERR_ACCESS_DENIED") return EACCES;
  throw e;
}

/** Node refuses a negative descriptor with a RangeError before any system call; C answers EBADF. */
function checkFd(fd: number): void {
  if (!(fd >= 0)) throw Object.assign(new Error(`bad descriptor ${fd}`), { errno: -EBADF });
}

// glibc's dev_t encoding (gnu_dev_major/gnu_dev_minor), which Node reports as `dev`.
function devMajor(dev: bigint): number {
  return Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
}
function devMinor(dev: bigint): number {
  return Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
}

/** A file's identity from Node's stat (no mount ID there). */
function identity(st: NodeFs.BigIntStats, out: FileId): void {
  out.devMajor = devMajor(st.dev);
  out.devMinor = devMinor(st.dev);
  out.inode = st.ino;
  out.mode = Number(st.mode);
  out.mountId = 0n;
  out.nlink = Number(st.nlink);
  out.size = st.size;
  out.uid = Number(st.uid);
  out.mtimeNs = st.mtimeNs;
  out.ctimeNs = st.ctimeNs;
}

const SLASH = 0x2f;

/**
 * The path that `*at(dirfd, path)` names, for calls that have no *at form
 * here: absolute paths and AT_FDCWD as they are, others below the
 * descriptor's magic link `/proc/self/fd/<dirfd>/`. Throws what node:fs
 * throws (the caller turns it into -errno).
 */
function atPath(dirfd: number, path: string | Uint8Array): string | Buffer {
  const absolute = typeof path === "string" ? path.startsWith("/") : path[0] === SLASH;
  if (absolute || dirfd === AT_FDCWD) return typeof path === "string" ? path : Buffer.from(path);
  checkFd(dirfd);
  fs.fstatSync(dirfd); // EBADF as openat gives it (the magic link would answer ENOENT)
  if (typeof path === "string") return `/proc/self/fd/${dirfd}/${path}`;
  return Buffer.concat([Buffer.from(`/proc/self/fd/${dirfd}/`), path]);
}

/** C refuses a NUL inside a path; so does node:fs, with a TypeError: refuse it the same way. */
function checkPath(path: string | Uint8Array): void {
  if (typeof path === "string" ? path.includes("\0") : path.includes(0)) {
    throw new TypeError("path contains a NUL byte");
  }
}

/** Loads the binding; `whyNoIoctl` says why this is not the node:ffi one. */
export function load(whyNoIoctl: string): Libc {
  fs = process.getBuiltinModule("node:fs") as typeof NodeFs;
  Buffer = (process.getBuiltinModule("node:buffer") as { Buffer: typeof NodeBuffer }).Buffer;
  const attempt = (fn: () => number): number => {
    try {
      return fn();
    } catch (e) {
      return -errnoOf(e);
    }
  };
  const statAt = (dirfd: number, path: string | Uint8Array, atFlags: number, out: FileId): number => {
    checkPath(path);
    return attempt(() => {
      if (path.length === 0) {
        if (!(atFlags & AT_EMPTY_PATH)) return -ENOENT;
        if (dirfd !== AT_FDCWD) checkFd(dirfd);
        identity(dirfd === AT_FDCWD ? fs.statSync(".", { bigint: true }) : fs.fstatSync(dirfd, { bigint: true }), out);
        return 0;
      }
      const p = atPath(dirfd, path);
      identity(
        atFlags & AT_SYMLINK_NOFOLLOW ? fs.lstatSync(p, { bigint: true }) : fs.statSync(p, { bigint: true }),
        out,
      );
      return 0;
    });
  };
  const openAt = (dirfd: number, path: string | Uint8Array, flags: number): number => {
    checkPath(path);
    if (path.length === 0) return -ENOENT;
    return attempt(() => fs.openSync(atPath(dirfd, path), flags | O_CLOEXEC));
  };
  return {
    runtime: "node",
    binding: "node:fs",
    arch: normaliseArch(process.arch),
    os: process.platform,
    canIoctl: false,
    whyNoIoctl,
    openRead: (path) => openAt(AT_FDCWD, path, OPEN_READ),
    openAt,
    openat2: () => -ENOSYS,
    readlinkAt: (dirfd, path, buf) => {
      checkPath(path);
      // An empty path would name the descriptor's own link, which /proc/self/fd/<n> cannot.
      if (path.length === 0) return -ENOENT;
      return attempt(() => {
        const text = fs.readlinkSync(atPath(dirfd, path), { encoding: "buffer" });
        const n = Math.min(text.length, buf.length);
        buf.set(text.subarray(0, n));
        return n;
      });
    },
    close: (fd) => attempt(() => (checkFd(fd), fs.closeSync(fd), 0)),
    pread: (fd, buf, offset) => attempt(() => (checkFd(fd), fs.readSync(fd, buf, 0, buf.length, offset))),
    ioctl: () => -ENOTTY, // no FFI, so no ioctl
    ioctlAt: () => -ENOTTY,
    statAt,
    fstat: (fd, out) => statAt(fd, "", AT_EMPTY_PATH, out),
    stat: (path, out) => statAt(AT_FDCWD, path, 0, out),
    addressOf(): bigint {
      throw new Error(`no FFI, so addresses of buffers are not available: ${whyNoIoctl}`);
    },
  };
}
