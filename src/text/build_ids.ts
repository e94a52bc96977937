/**
 * Build IDs for the text backend, which has no ioctl to ask: the ELF note of
 * the mapped file, read from user space.
 *
 * The file is opened as src/elf/mapped_file.ts describes (map_files, then the
 * path in the process's root, then the path, checking device and inode).
 * Nothing is read that the caller could not open itself, so where the caller
 * may not read a file (the kernel may), no build ID is reported. Results are
 * cached by (device, inode) until the next snapshot.
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import { FLAG } from "../ioctl/abi.ts";
import { toHex } from "../util/names.ts";
import { findBuildId } from "../elf/build_id.ts";
import type { Pid } from "../errors.ts";
import type { MapsTable } from "./parser.ts";
import { openMappedFile } from "../elf/mapped_file.ts";

/** Reads build IDs of mapped files for one process. */
export class TextBuildIds {
  readonly #libc: Libc;
  readonly #pid: Pid;
  readonly #cache = new Map<string, string | undefined>();
  readonly #scratch = new Uint8Array(64);

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
    const fd = openMappedFile(this.#libc, this.#pid, {
      start: table.start.big[row],
      end: table.end.big[row],
      devMajor: major,
      devMinor: minor,
      inode,
      path: table.nameBytes(row),
    });
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
