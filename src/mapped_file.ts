/**
 * Opening the file behind a VMA from user space, for reads the kernel does
 * not do for us (ELF program headers; build IDs in the text backend).
 *
 * Routes, in order: `/proc/<pid>/map_files/<start>-<end>` (the mapped file
 * itself; needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE, refused even to
 * root in unprivileged containers), `/proc/<pid>/root/<path>` (the path in
 * the process's mount namespace), then `<path>`. A file reached by path is
 * used only when its device and inode are the VMA's, so a path that now
 * names another file is never read. Nothing is opened that the caller could
 * not open itself.
 * @module
 */
import type { FileId, Libc } from "../ffi/mod.ts";
import type { Pid } from "./errors.ts";

const encoder = new TextEncoder();

/** What identifies a VMA's file. */
export interface MappedFile {
  start: bigint;
  end: bigint;
  devMajor: number;
  devMinor: number;
  inode: bigint;
  /** The path as the kernel names it (bytes, newline unescaped). */
  path: Uint8Array;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Opens the file behind a VMA; a descriptor, or -1 when no route works. */
export function openMappedFile(libc: Libc, pid: Pid, f: MappedFile): number {
  const proc = `/proc/${pid}`;
  const candidates: (string | Uint8Array)[] = [`${proc}/map_files/${f.start.toString(16)}-${f.end.toString(16)}`];
  if (f.path[0] === 0x2f /* "/" */) candidates.push(concat(encoder.encode(`${proc}/root`), f.path), f.path);
  const id: FileId = { devMajor: 0, devMinor: 0, inode: 0n };
  for (const candidate of candidates) {
    const fd = libc.openRead(candidate);
    if (fd < 0) continue;
    if (libc.fstat(fd, id) === 0 && id.devMajor === f.devMajor && id.devMinor === f.devMinor && id.inode === f.inode) {
      return fd;
    }
    libc.close(fd);
  }
  return -1;
}
