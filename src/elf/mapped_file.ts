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
import { emptyFileId, type FileId, type Libc } from "../../ffi/mod.ts";
import { ERRNO, isTransient } from "../errors.ts";
import type { Pid } from "../options.ts";
import { readFileText } from "../procfs/read.ts";
import { parseMountinfo } from "../procfs/mountinfo.ts";

const encoder = new TextEncoder();
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
 * Opens the file behind a VMA: a descriptor, or -errno. A transient failure
 * of any route (EMFILE, ENFILE, ENOMEM, ...) is returned when no later
 * route works, so that callers do not take it for "no such file"; -ENOENT
 * otherwise.
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
  const id: FileId = emptyFileId();
  let transient = 0;
  for (const route of routes) {
    const st = libc.stat(route.path, id);
    if (st < 0 && isTransient(-st)) transient = -st;
    if (st !== 0 || !isTheFile(libc, id, f, route.trusted, route.mountinfo)) continue;
    const fd = libc.openRead(route.path);
    if (fd < 0) {
      if (isTransient(-fd)) transient = -fd;
      continue;
    }
    // The path may have changed between stat and open: check what was opened.
    if (libc.fstat(fd, id) === 0 && isTheFile(libc, id, f, route.trusted, route.mountinfo)) return fd;
    libc.close(fd);
  }
  return transient ? -transient : -ERRNO.ENOENT;
}
