/**
 * Opening the file behind a VMA from user space, for reads the kernel does
 * not do for us (ELF program headers; build IDs in the text backend; the
 * bounds check before the kernel is asked for a build ID).
 *
 * Routes, in order, all relative to the handle's `/proc/<pid>` descriptor
 * (so a reused pid never leads to the new process's files):
 * `map_files/<start>-<end>` (the mapped file itself; needs CAP_SYS_ADMIN or
 * CAP_CHECKPOINT_RESTORE, refused even to root in unprivileged
 * containers), the path under `root/` (the process's root: resolved with
 * `openat2(RESOLVE_IN_ROOT)` where the kernel has it, so the target's
 * symbolic links stay in its root), then the path itself.
 *
 * Open first, then check, then read: each route is opened `O_PATH |
 * O_NOFOLLOW` (nothing is opened for real: no FIFO waits, no device driver
 * runs, a final symbolic link is not followed), that descriptor is checked
 * with fstat (a regular file with the VMA's device and inode), and only then
 * is the checked file itself opened for reading through
 * `/proc/self/fd/<n>`, which names that file and no path. A device node,
 * FIFO or socket mapped or planted at the path, or a path that now names
 * another file, is never opened for reading. Nothing is opened that the
 * caller could not open itself.
 *
 * Devices: the maps show the filesystem's device (the superblock's); stat
 * shows the same on most filesystems, but a per-subvolume one on btrfs (and
 * on overlayfs of some kernels). Then the file's mount (statx's mount ID) is
 * looked up in mountinfo, which shows the superblock's device.
 * @module
 */
import { emptyFileId, type FileId, type Libc } from "../../ffi/mod.ts";
import {
  AT_FDCWD,
  O_DIRECTORY,
  O_NOFOLLOW,
  O_PATH,
  OPEN_READ,
  RESOLVE_IN_ROOT,
  RESOLVE_NO_MAGICLINKS,
} from "../../ffi/constants.ts";
import { ERRNO, isTransient } from "../errors.ts";
import { nameBytesOf, type Vma } from "../vma.ts";
import { readFileText } from "../procfs/read.ts";
import { parseMountinfo } from "../procfs/mountinfo.ts";

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const ROOT = new TextEncoder().encode("root");

/** What identifies a VMA's file. */
export interface MappedFile {
  start: bigint;
  end: bigint;
  devMajor: number;
  devMinor: number;
  inode: bigint;
  /** The path as the kernel names it (raw bytes, newline unescaped). */
  path: Uint8Array;
}

/** Which route opened a file. */
export type Route = "map_files" | "root" | "path";

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * What identifies a VMA's file, from the VMA as procmap reports it: its
 * name's raw bytes stand for the path.
 */
export function mappedFileOf(vma: Vma): MappedFile {
  return {
    start: vma.start,
    end: vma.end,
    devMajor: vma.devMajor,
    devMinor: vma.devMinor,
    inode: vma.inode,
    path: nameBytesOf(vma),
  };
}

/** The superblock device of mount `mountId`, from the mountinfo file `name` under `dirfd`. */
function mountDevice(libc: Libc, dirfd: number, name: string, mountId: bigint): [number, number] | undefined {
  const mount = parseMountinfo(readFileText(libc, name, dirfd) ?? "").find((m) => m.id === mountId);
  return mount && [mount.devMajor, mount.devMinor];
}

/** True when `id` is the VMA's file: a regular file with its inode and (superblock) device. */
function isTheFile(libc: Libc, id: FileId, f: MappedFile, mountsDir: number, mountinfo: string): boolean {
  if ((id.mode & S_IFMT) !== S_IFREG || id.inode !== f.inode) return false;
  if (id.devMajor === f.devMajor && id.devMinor === f.devMinor) return true;
  if (id.mountId === 0n) return false;
  const dev = mountDevice(libc, mountsDir, mountinfo, id.mountId);
  return dev !== undefined && dev[0] === f.devMajor && dev[1] === f.devMinor;
}

/** `root/<path>` of the process as an O_PATH descriptor (not following a final link), or -errno. */
function openInRoot(libc: Libc, procDir: number, path: Uint8Array): number {
  const root = libc.openAt(procDir, "root", O_PATH | O_DIRECTORY);
  if (root < 0) return root;
  try {
    const fd = libc.openat2(root, path, O_PATH | O_NOFOLLOW, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (fd !== -ERRNO.ENOSYS) return fd;
  } finally {
    libc.close(root);
  }
  // No openat2 (Linux < 5.6, or a binding without it): through the magic
  // link; absolute symbolic links then resolve in our root, which the
  // device and inode check below catches.
  return libc.openAt(procDir, concat(ROOT, path), O_PATH | O_NOFOLLOW);
}

/** The O_PATH descriptor a route gives, or -errno. */
function openRoute(libc: Libc, procDir: number, f: MappedFile, route: Route): number {
  switch (route) {
    case "map_files":
      // A magic link to the mapped file itself: followed (O_PATH opens nothing).
      return libc.openAt(procDir, `map_files/${f.start.toString(16)}-${f.end.toString(16)}`, O_PATH);
    case "root":
      return openInRoot(libc, procDir, f.path);
    case "path":
      return libc.openAt(AT_FDCWD, f.path, O_PATH | O_NOFOLLOW);
  }
}

const ROUTES: readonly Route[] = ["map_files", "root", "path"];

/**
 * The checked file of one route as an O_PATH descriptor, with its identity
 * in `id`; -errno when the route fails or names another file (-ENOENT).
 */
export function openChecked(libc: Libc, procDir: number, f: MappedFile, route: Route, id: FileId): number {
  if (route !== "map_files" && f.path[0] !== 0x2f /* "/" */) return -ERRNO.ENOENT;
  const fd = openRoute(libc, procDir, f, route);
  if (fd < 0) return fd;
  const st = libc.fstat(fd, id);
  // The target's mounts for its own routes; ours for our path.
  const ok = st === 0 &&
    (route === "path"
      ? isTheFile(libc, id, f, AT_FDCWD, "/proc/self/mountinfo")
      : isTheFile(libc, id, f, procDir, "mountinfo"));
  if (ok) return fd;
  libc.close(fd);
  return st < 0 ? st : -ERRNO.ENOENT;
}

/** Opens a checked O_PATH descriptor's file for reading: a descriptor or -errno. */
function reopen(libc: Libc, pathFd: number): number {
  return libc.openAt(AT_FDCWD, `/proc/self/fd/${pathFd}`, OPEN_READ);
}

/**
 * Opens the file behind a VMA for reading: a descriptor, or -errno. `id`
 * receives the file's identity (link count, size). A transient failure of
 * any route (EMFILE, ENFILE, ENOMEM, ...) is returned when no later route
 * works, so that callers do not take it for "no such file"; -ENOENT
 * otherwise.
 */
export function openMappedFile(libc: Libc, procDir: number, f: MappedFile, id: FileId = emptyFileId()): number {
  let transient = 0;
  for (const route of ROUTES) {
    const pathFd = openChecked(libc, procDir, f, route, id);
    if (pathFd < 0) {
      if (isTransient(-pathFd)) transient = -pathFd;
      continue;
    }
    const fd = reopen(libc, pathFd);
    libc.close(pathFd);
    if (fd >= 0) return fd;
    if (isTransient(-fd)) transient = -fd;
  }
  return transient ? -transient : -ERRNO.ENOENT;
}

/**
 * True when the process's root holds, at exactly the path `f.path`, the
 * VMA's own file (checked as above, never opened for reading). Tells a
 * live file whose name ends in ` (deleted)` from a deleted one, which the
 * name alone cannot.
 */
export function livesAtPath(libc: Libc, procDir: number, f: MappedFile): boolean {
  const id = emptyFileId();
  const fd = openChecked(libc, procDir, f, "root", id);
  if (fd < 0) return false;
  libc.close(fd);
  return id.nlink > 0;
}
