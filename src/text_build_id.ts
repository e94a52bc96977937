/**
 * Build IDs for the text backend, which has no ioctl to ask: the ELF note of
 * the mapped file, read from user space.
 *
 * The file is opened, in order, through `/proc/<pid>/map_files/<start>-<end>`
 * (the mapped file itself; needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE and
 * is refused even to root in unprivileged containers), then
 * `/proc/<pid>/root/<path>` (the path in the process's own mount namespace),
 * then `<path>`. A file reached by path is used only if its device and inode
 * are the VMA's. Nothing is read that the caller could not open itself, so
 * where the caller may not read a file (the kernel may), no build ID is
 * reported. Results are cached by (device, inode) until the next snapshot.
 * @module
 */
import type { FileId, Libc } from "../ffi/mod.ts";
import { FLAG } from "./abi.ts";
import { toHex } from "./decode.ts";
import { findBuildId } from "./elf_build_id.ts";
import type { Pid } from "./errors.ts";
import type { MapsTable } from "./text_parser.ts";

const encoder = new TextEncoder();

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Reads build IDs of mapped files for one process. */
export class TextBuildIds {
  readonly #libc: Libc;
  readonly #pid: Pid;
  readonly #cache = new Map<string, string | undefined>();
  readonly #scratch = new Uint8Array(64);
  readonly #id: FileId = { devMajor: 0, devMinor: 0, inode: 0n };

  constructor(libc: Libc, pid: Pid) {
    this.#libc = libc;
    this.#pid = pid;
  }

  /** Forgets cached results (files may have changed). */
  clear(): void {
    this.#cache.clear();
  }

  /** The build ID of row `row`'s file as lowercase hex, or undefined. */
  lookup(table: MapsTable, row: number): string | undefined {
    if (!(table.flags[row] & FLAG.fileBacked)) return undefined;
    const major = table.devMajor[row];
    const minor = table.devMinor[row];
    const inode = table.inode.big[row];
    const key = `${major}:${minor}:${inode}`;
    if (this.#cache.has(key)) return this.#cache.get(key);
    const fd = this.#open(table, row, major, minor, inode);
    let result: string | undefined;
    if (fd >= 0) {
      try {
        const id = findBuildId((offset, len) => this.#fetch(fd, offset, len));
        result = id ? toHex(id, id.length) : undefined;
      } finally {
        this.#libc.close(fd);
      }
    }
    this.#cache.set(key, result);
    return result;
  }

  /** Opens the row's file by the routes in the module docs; -1 when none works. */
  #open(table: MapsTable, row: number, major: number, minor: number, inode: bigint): number {
    const libc = this.#libc;
    const proc = `/proc/${this.#pid}`;
    const range = `${table.start.big[row].toString(16)}-${table.end.big[row].toString(16)}`;
    const candidates: (string | Uint8Array)[] = [`${proc}/map_files/${range}`];
    const path = table.nameBytes(row);
    if (path[0] === 0x2f /* "/" */) candidates.push(concat(encoder.encode(`${proc}/root`), path), path);
    for (const candidate of candidates) {
      const fd = libc.openRead(candidate);
      if (fd < 0) continue;
      const id = this.#id;
      if (libc.fstat(fd, id) === 0 && id.devMajor === major && id.devMinor === minor && id.inode === inode) {
        return fd;
      }
      libc.close(fd);
    }
    return -1;
  }

  /**
   * `len` bytes at `offset`, or null. As in the kernel, a read that reaches
   * past the end of the file fails as a whole; nothing reads as zeros
   * (checked against Linux 6.18 by tests/elf_build_id_test.ts).
   */
  #fetch(fd: number, offset: number, len: number): Uint8Array | null {
    if (!Number.isSafeInteger(offset) || offset < 0 || len > this.#scratch.length) return null;
    const buf = this.#scratch.subarray(0, len);
    const n = this.#libc.pread(fd, buf, offset);
    return n === len ? buf : null;
  }
}
