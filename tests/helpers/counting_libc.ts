/** A libc binding that counts the calls made through it (tests of "no system call"). */
import { emptyFileId, getLibc, type Libc, setLibcForTesting } from "../../ffi/mod.ts";

export interface Counts {
  open: number;
  ioctl: number;
  pread: number;
}

/** Runs `fn` with a counting binding installed; returns what it counted. */
export function countCalls(fn: () => void): Counts {
  const real = getLibc();
  const counts: Counts = { open: 0, ioctl: 0, pread: 0 };
  const counting: Libc = {
    ...real,
    openRead: (p) => (counts.open++, real.openRead(p)),
    // Files are opened relative to a directory too (the handle's /proc/<pid>, O_PATH then reopen).
    openAt: (dirfd, p, flags) => (counts.open++, real.openAt(dirfd, p, flags)),
    openat2: (dirfd, p, flags, resolve) => (counts.open++, real.openat2(dirfd, p, flags, resolve)),
    ioctl: (fd, req, arg) => (counts.ioctl++, real.ioctl(fd, req, arg)),
    pread: (fd, buf, off) => (counts.pread++, real.pread(fd, buf, off)),
  };
  setLibcForTesting(counting);
  try {
    fn();
  } finally {
    setLibcForTesting(real);
  }
  return counts;
}

/** What {@link watchingLibc} records. */
export interface Watch {
  /** Opens for reading (not O_PATH) that gave a FIFO, socket or device. */
  special: string[];
  /** Opens for reading that gave a regular file, by path. */
  regular: number;
  /** query_addr of each PROCMAP_QUERY call that asked for a build ID (the kernel then parses the file's notes). */
  buildIdQueries: bigint[];
  /** preads per descriptor. */
  preads: Map<number, number>;
  /** preads of a whole text from offset 0 (more than one byte), by the path the descriptor was opened with. */
  textReads: Map<string, number>;
  /** Descriptors opened for reading through /proc/self/fd (mapped files procmap checked). */
  mappedFds: Set<number>;
  /** The path each open descriptor was opened with. */
  pathOf: Map<number, string>;
}

const O_PATH = 0o10000000;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

/**
 * A binding over `real` that records what is opened and read (see
 * {@link Watch}). `fail(kind, path)` may return an errno to fail an open
 * instead (e.g. EMFILE), or 0.
 */
export function watchingLibc(
  real: Libc = getLibc(),
  fail: (path: string) => number = () => 0,
): { libc: Libc; watch: Watch } {
  const watch: Watch = {
    special: [],
    regular: 0,
    buildIdQueries: [],
    preads: new Map(),
    textReads: new Map(),
    mappedFds: new Set(),
    pathOf: new Map(),
  };
  const buffers = new Map<bigint, Uint8Array>();
  const id = emptyFileId();
  const text = (p: string | Uint8Array) => typeof p === "string" ? p : new TextDecoder().decode(p);
  const opened = (fd: number, path: string, flags: number) => {
    if (fd >= 0) watch.pathOf.set(fd, path);
    if (fd < 0 || flags & O_PATH) return fd;
    if (real.fstat(fd, id) === 0) {
      const type = id.mode & S_IFMT;
      if (type === S_IFREG) watch.regular++;
      else if (type !== S_IFDIR) watch.special.push(`${path} (mode ${id.mode.toString(8)})`);
    }
    if (path.startsWith("/proc/self/fd/")) watch.mappedFds.add(fd);
    return fd;
  };
  const libc: Libc = {
    ...real,
    openRead(path) {
      const e = fail(text(path));
      if (e) return -e;
      return opened(real.openRead(path), text(path), 0);
    },
    openAt(dirfd, path, flags) {
      const e = fail(text(path));
      if (e) return -e;
      return opened(real.openAt(dirfd, path, flags), text(path), flags);
    },
    openat2(dirfd, path, flags, resolve) {
      const e = fail(text(path));
      if (e) return -e;
      return opened(real.openat2(dirfd, path, flags, resolve), text(path), flags);
    },
    close(fd) {
      watch.mappedFds.delete(fd);
      return real.close(fd);
    },
    pread(fd, buf, off) {
      watch.preads.set(fd, (watch.preads.get(fd) ?? 0) + 1);
      if (off === 0 && buf.length > 1) {
        const path = watch.pathOf.get(fd) ?? "";
        watch.textReads.set(path, (watch.textReads.get(path) ?? 0) + 1);
      }
      return real.pread(fd, buf, off);
    },
    addressOf(buf) {
      const a = real.addressOf(buf);
      buffers.set(a, buf);
      return a;
    },
    ioctlAt(fd, req, address) {
      const q = buffers.get(address);
      // build_id_size (offset 84) non-zero: the kernel will parse the file's notes.
      if (q) {
        const v = new DataView(q.buffer, q.byteOffset);
        if (v.getUint32(84, true) !== 0) watch.buildIdQueries.push(v.getBigUint64(16, true));
      }
      return real.ioctlAt(fd, req, address);
    },
    ioctl(fd, req, arg) {
      const v = new DataView(arg.buffer, arg.byteOffset);
      if (arg.length >= 88 && v.getUint32(84, true) !== 0) watch.buildIdQueries.push(v.getBigUint64(16, true));
      return real.ioctl(fd, req, arg);
    },
  };
  return { libc, watch };
}
