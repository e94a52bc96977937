/**
 * Node.js binding: `node:fs` only. Node has no built-in FFI, so there is no
 * ioctl here and procmap uses the text backend.
 * @module
 */
import * as fs from "node:fs";
import { Buffer } from "node:buffer";
import type { FileId, Libc } from "./libc.ts";
import { normaliseArch, OPEN_FLAGS } from "./common.ts";

/** The errno of a failed `node:fs` call (Node reports it negated). */
function errnoOf(e: unknown): number {
  const n = (e as { errno?: unknown }).errno;
  if (typeof n === "number" && n !== 0) return Math.abs(n);
  throw e;
}

// glibc's dev_t encoding (gnu_dev_major/gnu_dev_minor), which Node reports as `dev`.
function devMajor(dev: bigint): number {
  return Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
}
function devMinor(dev: bigint): number {
  return Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
}

/** A file's identity from Node's stat (no mount ID there). */
function identity(st: fs.BigIntStats, out: FileId): void {
  out.devMajor = devMajor(st.dev);
  out.devMinor = devMinor(st.dev);
  out.inode = st.ino;
  out.mode = Number(st.mode);
  out.mountId = 0n;
  out.uid = Number(st.uid);
  out.size = st.size;
}

/** Loads the binding. */
export function load(): Libc {
  return {
    runtime: "node",
    arch: normaliseArch(process.arch),
    os: process.platform,
    canIoctl: false,
    openRead(path: string | Uint8Array): number {
      try {
        return fs.openSync(typeof path === "string" ? path : Buffer.from(path), OPEN_FLAGS);
      } catch (e) {
        return -errnoOf(e);
      }
    },
    close(fd: number): number {
      try {
        fs.closeSync(fd);
        return 0;
      } catch (e) {
        return -errnoOf(e);
      }
    },
    pread(fd: number, buf: Uint8Array, offset: number): number {
      try {
        return fs.readSync(fd, buf, 0, buf.length, offset);
      } catch (e) {
        return -errnoOf(e);
      }
    },
    ioctl(): number {
      return -25; // ENOTTY: no FFI, so no ioctl
    },
    ioctlAt(): number {
      return -25;
    },
    fstat(fd: number, out: FileId): number {
      try {
        identity(fs.fstatSync(fd, { bigint: true }), out);
        return 0;
      } catch (e) {
        return -errnoOf(e);
      }
    },
    stat(path: string | Uint8Array, out: FileId): number {
      try {
        identity(fs.statSync(typeof path === "string" ? path : Buffer.from(path), { bigint: true }), out);
        return 0;
      } catch (e) {
        return -errnoOf(e);
      }
    },
    addressOf(): bigint {
      throw new Error("Node.js has no FFI: addresses of buffers are not available");
    },
  };
}
