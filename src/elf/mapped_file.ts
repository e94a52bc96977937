/**
 * Opening the file behind a VMA from user space, for reads the kernel does
 * not do for us (ELF program headers; build IDs in the text backend).
 *
 * Routes, in order: `/proc/<pid>/map_files/<start>-<end>` (the mapped file
 * itself; needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE, refused even to
 * root in unprivileged containers), `/proc/<pid>/root/<path>` (the path in
 * the process's mount namespace), then `<path>`. Before anything is opened,
 * stat must show a regular file with the VMA's inode and device: a device
 * node, FIFO or socket mapped (or planted at the path) is never opened, and
 * a path that now names another file is never read. The opened descriptor
 * is checked again. Nothing is opened that the caller could not open itself.
 *
 * Devices: the maps show the filesystem's device (the superblock's); stat
 * shows the same on most filesystems, but a per-subvolume one on btrfs (and
 * on overlayfs of some kernels). Then the file's mount (statx's mount ID) is
 * looked up in mountinfo, which shows the superblock's device.
 * @module
 */
import type { FileId, Libc } from "../../ffi/mod.ts";
import type { Pid } from "../errors.ts";
import { readFileText } from "../procfs/read.ts";
import { parseMountinfo } from "../procfs/mountinfo.ts";

const encoder = new TextEncoder();
/** EINTR, EAGAIN, ENOMEM, ENFILE, EMFILE. */
const TRANSIENT = new Set([4, 11, 12, 23, 24]);
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

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

/** The superblock device of mount `mountId` in a mountinfo file, or undefined. */
function mountDevice(libc: Libc, mountinfo: string, mountId: bigint): [number, number] | undefined {
  const mount = parseMountinfo(readFileText(libc, mountinfo) ?? "").find((m) => m.id === mountId);
  return mount && [mount.devMajor, mount.devMinor];
}

/**
 * True when `id` is the VMA's file. `trusted` routes (map_files) name the
 * mapped file itself, so only the inode is compared there.
 */
function isTheFile(libc: Libc, id: FileId, f: MappedFile, trusted: boolean, mountinfo: string): boolean {
  if ((id.mode & S_IFMT) !== S_IFREG || id.inode !== f.inode) return false;
  if ((id.devMajor === f.devMajor && id.devMinor === f.devMinor) || trusted) return true;
  if (id.mountId === 0n) return false;
  const dev = mountDevice(libc, mountinfo, id.mountId);
  return dev !== undefined && dev[0] === f.devMajor && dev[1] === f.devMinor;
}

/**
 * Opens the file behind a VMA; a descriptor, or a negative number when no
 * route works: -errno of a transient failure (EMFILE, ENFILE, ENOMEM, EINTR,
 * EAGAIN: worth trying again later, so not to be cached), else -1.
 */
export function openMappedFile(libc: Libc, pid: Pid, f: MappedFile): number {
  const proc = `/proc/${pid}`;
  const routes: { path: string | Uint8Array; trusted: boolean; mountinfo: string }[] = [
    { path: `${proc}/map_files/${f.start.toString(16)}-${f.end.toString(16)}`, trusted: true, mountinfo: "" },
  ];
  if (f.path[0] === 0x2f /* "/" */) {
    routes.push(
      { path: concat(encoder.encode(`${proc}/root`), f.path), trusted: false, mountinfo: `${proc}/mountinfo` },
      { path: f.path, trusted: false, mountinfo: "/proc/self/mountinfo" },
    );
  }
  const id: FileId = { devMajor: 0, devMinor: 0, inode: 0n, mode: 0, mountId: 0n };
  let failed = -1;
  for (const route of routes) {
    const r = libc.stat(route.path, id);
    if (r < 0 && TRANSIENT.has(-r)) failed = r;
    if (r !== 0 || !isTheFile(libc, id, f, route.trusted, route.mountinfo)) continue;
    const fd = libc.openRead(route.path);
    if (fd < 0 && TRANSIENT.has(-fd)) failed = fd;
    if (fd < 0) continue;
    // The path may have changed between stat and open: check what was opened.
    if (libc.fstat(fd, id) === 0 && isTheFile(libc, id, f, route.trusted, route.mountinfo)) return fd;
    libc.close(fd);
  }
  return failed;
}
