/**
 * Opening a file a target process names: its perf map, its jitdump, the
 * debug file its `.gnu_debuglink` names next to its binary, a dwz alternate
 * file, a `.dwo`. The path is attacker input, and so is everything the
 * target can put at it: a symbolic link to a host file, a FIFO whose open
 * blocks, a device whose open has side effects, a file of another user.
 *
 * So, in this order:
 * 1. The path is resolved inside the target's root (`/proc/<pid>/root`,
 *    opened relative to the handle's pinned `/proc/<pid>` directory, so a
 *    reused pid never leads to another process's files) with
 *    `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`: absolute symbolic
 *    links and `..` stay in the target's root, `/proc` magic links are
 *    refused. Where the kernel or the binding has no openat2 (Linux < 5.6,
 *    Node's `node:fs` binding) the same resolution is done here one
 *    component at a time ({@link resolveInRoot}).
 * 2. It is opened `O_PATH` only: nothing is opened for real, so no FIFO
 *    waits, no device driver runs.
 * 3. That descriptor is checked with fstat: a regular file, owned by one of
 *    the target's user IDs when asked, modified no earlier than a given
 *    time when asked (a file left by a dead process whose pid was reused),
 *    no larger (nor smaller) than a given size when asked.
 * 4. Only then is that very file (not the path, which may have changed) opened
 *    for reading, through `/proc/self/fd/<n>`.
 *
 * Files the caller names itself (its debug directories, `symbolizeFile()`)
 * go through the same steps in the caller's own root.
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
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
} from "../../ffi/constants.ts";
import { ERRNO, errnoName, isTransient } from "../errors.ts";

/** What a file must be to be opened for reading. */
export interface TargetFileRules {
  /** Its owner must be one of these user IDs (the target's); undefined: any owner. */
  readonly uids?: readonly number[];
  /** It must have been modified at or after this time (nanoseconds since the epoch); undefined: any time. */
  readonly notBeforeNs?: bigint;
  /** It must be no larger than this many bytes; undefined: any size. */
  readonly maxBytes?: number;
  /**
   * It must be at least this many bytes (an ELF file's header); undefined:
   * any size. Pseudo-files (procfs, debugfs) say 0 whatever they hold, and
   * some act when read (`/proc/kmsg` gives away the kernel log it holds): a
   * file that cannot be what is wanted is not opened for reading.
   */
  readonly minBytes?: number;
  /** How messages name the file (default: the path). */
  readonly label?: string;
}

/** Why a file was not opened for reading. */
export type TargetFileProblem =
  | "no-file"
  | "no-access"
  | "not-regular-file"
  | "foreign-owner"
  | "stale"
  | "too-large"
  | "too-small"
  | "transient";

/** A file that was not opened, and why. */
export interface TargetFileRefusal {
  /**
   * - `"no-file"`: nothing there (ENOENT, ENOTDIR);
   * - `"no-access"`: it cannot be resolved or opened (permission, a magic
   *   link, a loop of symbolic links);
   * - `"not-regular-file"`: a FIFO, device, socket or directory: refused
   *   without being opened;
   * - `"foreign-owner"`: not owned by any of the allowed user IDs;
   * - `"stale"`: modified before the allowed time;
   * - `"too-large"`: larger than allowed;
   * - `"too-small"`: smaller than allowed (a pseudo-file says size 0);
   * - `"transient"`: a temporary shortage (EMFILE, ENOMEM, ...): try again.
   */
  readonly reason: TargetFileProblem;
  /** The errno behind `"no-file"`, `"no-access"` and `"transient"`; 0 for the others. */
  readonly errno: number;
  /** Said for people. */
  readonly message: string;
}

/** A file opened for reading (the caller closes `fd`), with its identity as checked. */
export interface TargetFile {
  readonly fd: number;
  readonly id: FileId;
}

const SLASH = 0x2f;
const DOT = 0x2e;
/** Symbolic links followed per path at most, as the kernel's limit (ELOOP past it). */
const MAX_LINKS = 40;
/** Components handled per path at most, links' included. */
const MAX_STEPS = 4096;
const PATH_MAX = 4096;
const encoder = new TextEncoder();

function bytesOf(path: string | Uint8Array): Uint8Array {
  return typeof path === "string" ? encoder.encode(path) : path;
}

/** The components of a path (empty ones included; the caller skips them). */
function components(path: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let from = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i === path.length || path[i] === SLASH) {
      out.push(path.subarray(from, i));
      from = i + 1;
    }
  }
  return out;
}

/**
 * `openat2(root, path, O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`
 * done in user space: an O_PATH descriptor, or -errno. Each component is
 * opened `O_PATH | O_NOFOLLOW` relative to the directory before it; a
 * symbolic link's text is read and resolved here (an absolute one from
 * `root`), `..` pops a directory this walk opened (never above `root`), so
 * the kernel never follows a link and never walks `..`: a `/proc` magic
 * link is only its text, resolved inside `root` like any other. `root`
 * stays open (the caller's).
 */
export function resolveInRoot(libc: Libc, root: number, path: string | Uint8Array): number {
  const todo = components(bytesOf(path)).reverse(); // next component last
  const dirs: number[] = []; // opened below root, innermost last
  const id = emptyFileId();
  const linkText = new Uint8Array(PATH_MAX);
  const top = () => (dirs.length ? dirs[dirs.length - 1] : root);
  const popAll = () => {
    while (dirs.length) libc.close(dirs.pop()!);
  };
  let links = 0;
  try {
    for (let steps = 0; todo.length; steps++) {
      if (steps >= MAX_STEPS) return -ERRNO.ELOOP;
      const c = todo.pop()!;
      if (c.length === 0 || (c.length === 1 && c[0] === DOT)) continue;
      if (c.length === 2 && c[0] === DOT && c[1] === DOT) {
        if (dirs.length) libc.close(dirs.pop()!);
        continue;
      }
      const fd = libc.openAt(top(), c, O_PATH | O_NOFOLLOW);
      if (fd < 0) return fd;
      const st = libc.fstat(fd, id);
      const type = id.mode & S_IFMT;
      if (st < 0 || type === S_IFLNK) {
        libc.close(fd);
        if (st < 0) return st;
        if (++links > MAX_LINKS) return -ERRNO.ELOOP;
        // Read by name: had the link been swapped meanwhile, what is read is still only text resolved in root.
        const n = libc.readlinkAt(top(), c, linkText);
        if (n < 0) return n;
        if (n === 0) return -ERRNO.ENOENT;
        if (n >= linkText.length) return -ERRNO.ENAMETOOLONG;
        const target = linkText.slice(0, n);
        if (target[0] === SLASH) popAll();
        for (const t of components(target).reverse()) todo.push(t);
        continue;
      }
      if (todo.length && type !== S_IFDIR) {
        libc.close(fd);
        return -ERRNO.ENOTDIR;
      }
      dirs.push(fd);
    }
    // The path named root itself: a descriptor of its own.
    return dirs.length ? dirs.pop()! : libc.openAt(root, ".", O_PATH | O_DIRECTORY);
  } finally {
    popAll();
  }
}

/**
 * `path` resolved inside the root of the process whose pinned `/proc/<pid>`
 * directory is `procDir`, as an O_PATH descriptor (following symbolic links
 * within that root), or -errno.
 */
export function openPathInRoot(libc: Libc, procDir: number, path: string | Uint8Array): number {
  const root = libc.openAt(procDir, "root", O_PATH | O_DIRECTORY);
  if (root < 0) return root;
  try {
    for (let attempt = 0;; attempt++) {
      const fd = libc.openat2(root, path, O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
      if (fd === -ERRNO.ENOSYS) return resolveInRoot(libc, root, path);
      // EAGAIN: a rename or mount raced the walk (the kernel asks to retry).
      if (fd !== -ERRNO.EAGAIN || attempt === 3) return fd;
    }
  } finally {
    libc.close(root);
  }
}

function text(path: string | Uint8Array): string {
  return typeof path === "string" ? path : new TextDecoder().decode(path);
}

function refusal(reason: TargetFileProblem, errno: number, message: string): TargetFileRefusal {
  return { reason, errno, message };
}

/** The refusal for a failed open or stat. */
function failed(errno: number, label: string, what: string): TargetFileRefusal {
  if (errno === ERRNO.ENOENT || errno === ERRNO.ENOTDIR) return refusal("no-file", errno, `${label} does not exist`);
  const name = errnoName(errno);
  if (isTransient(errno)) return refusal("transient", errno, `${what} ${label} failed (${name}); try again`);
  const why = errno === ERRNO.ELOOP ? " (a loop of symbolic links, or a /proc magic link)" : "";
  return refusal("no-access", errno, `cannot ${what} ${label} (${name})${why}`);
}

/**
 * Opens `path` for reading as the module docs say: inside the root of the
 * process whose pinned `/proc/<pid>` directory is `procDir`, or, with
 * `procDir` undefined, in the caller's own root (a path the caller names
 * itself; symbolic links followed as the caller would). Returns the
 * descriptor and the file's identity, or why not; never throws for what is
 * at the path.
 */
export function openTargetFile(
  libc: Libc,
  procDir: number | undefined,
  path: string | Uint8Array,
  rules: TargetFileRules = {},
): TargetFile | TargetFileRefusal {
  const label = rules.label ?? text(path);
  const pathFd = procDir === undefined ? libc.openAt(AT_FDCWD, path, O_PATH) : openPathInRoot(libc, procDir, path);
  if (pathFd < 0) return failed(-pathFd, label, "open");
  try {
    const id = emptyFileId();
    const st = libc.fstat(pathFd, id);
    if (st < 0) return failed(-st, label, "stat");
    if ((id.mode & S_IFMT) !== S_IFREG) {
      return refusal("not-regular-file", 0, `${label} is not a regular file (mode ${id.mode.toString(8)})`);
    }
    if (rules.uids && !rules.uids.includes(id.uid)) {
      return refusal(
        "foreign-owner",
        0,
        `${label} is owned by uid ${id.uid}, not by the process (uids ${rules.uids.join(" ")})`,
      );
    }
    if (rules.notBeforeNs !== undefined && id.mtimeNs < rules.notBeforeNs) {
      return refusal("stale", 0, `${label} was last written before the process started (left by an earlier one)`);
    }
    if (rules.maxBytes !== undefined && id.size > BigInt(rules.maxBytes)) {
      return refusal("too-large", 0, `${label} is larger than ${rules.maxBytes} bytes (${id.size})`);
    }
    if (rules.minBytes !== undefined && id.size < BigInt(rules.minBytes)) {
      return refusal("too-small", 0, `${label} is smaller than ${rules.minBytes} bytes (${id.size})`);
    }
    // The checked file itself, whatever the path names by now.
    const fd = libc.openAt(AT_FDCWD, `/proc/self/fd/${pathFd}`, OPEN_READ);
    if (fd < 0) return failed(-fd, label, "open");
    return { fd, id };
  } finally {
    libc.close(pathFd);
  }
}
