/**
 * The *at calls of the binding (openAt, openat2, statAt) against the kernel's
 * own answers: the files are made with node:fs, their link counts, sizes,
 * inodes and types read back with coreutils' stat(1), and refusals checked
 * against the errno the syscall manual pages name. Every call returns -errno
 * and never throws, in every binding (node:fs emulates openAt and statAt
 * through /proc/self/fd and has no openat2).
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  linkSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_SYMLINK_NOFOLLOW,
  emptyFileId,
  getLibc,
  type Libc,
  O_DIRECTORY,
  O_NOFOLLOW,
  O_PATH,
  OPEN_READ,
  RESOLVE_BENEATH,
  RESOLVE_IN_ROOT,
  RESOLVE_NO_MAGICLINKS,
  RESOLVE_NO_SYMLINKS,
} from "../ffi/mod.ts";
import { load as loadNodeFs } from "../ffi/node_fs.ts";

/** errno values as Node's os module knows them (the kernel's, independent of procmap). */
const ERRNO = constants.errno;
const S_IFMT = 0o170000, S_IFREG = 0o100000, S_IFDIR = 0o040000, S_IFLNK = 0o120000;

// dir/            the root of every relative path below
//   file          "hello, procmap" (14 bytes), hard-linked as twin
//   twin
//   link -> file  relative symbolic link
//   abs -> /file  absolute symbolic link: /file only exists inside dir as a root
//   sub/          a directory
//   sparse        5 GiB with no data (a size past 2^32)
const dir = mkdtempSync(join(tmpdir(), "procmap-at-"));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, "file"), "hello, procmap");
linkSync(join(dir, "file"), join(dir, "twin"));
symlinkSync("file", join(dir, "link"));
symlinkSync("/file", join(dir, "abs"));
mkdirSync(join(dir, "sub"));
writeFileSync(join(dir, "sparse"), "");
truncateSync(join(dir, "sparse"), 5 * 2 ** 30);

/** coreutils stat(1): links, size, inode, file type in hex, without following links. */
function coreutilsStat(path: string): { nlink: number; size: bigint; inode: bigint; type: number } {
  const [h, s, i, f] = execFileSync("stat", ["-c", "%h %s %i %f", path], { encoding: "utf8" }).trim().split(" ");
  return { nlink: Number(h), size: BigInt(s), inode: BigInt(i), type: parseInt(f, 16) & S_IFMT };
}

/**
 * The calls of one binding. Every runtime tests its own binding and the
 * node:fs one (which Node 20 uses; Deno and Bun have node:fs too).
 */
function callsOf(libc: Libc, label: string): void {
  /** Reads all of a descriptor through the binding. */
  function readAll(fd: number): string {
    const buf = new Uint8Array(256);
    const n = libc.pread(fd, buf, 0);
    assert.ok(n >= 0, `pread: ${n}`);
    return new TextDecoder().decode(buf.subarray(0, n));
  }

  function withFd<T>(fd: number, fn: (fd: number) => T): T {
    assert.ok(fd >= 0, `open failed: ${fd}`);
    try {
      return fn(fd);
    } finally {
      assert.equal(libc.close(fd), 0);
    }
  }

  const dirFd = libc.openAt(AT_FDCWD, dir, O_PATH | O_DIRECTORY);
  after(() => libc.close(dirFd));

  describe(`[${label}] openAt`, () => {
    test("opens relative to a directory descriptor, an absolute path ignores it", () => {
      assert.ok(dirFd >= 0, `O_PATH directory: ${dirFd}`);
      assert.equal(withFd(libc.openAt(dirFd, "file", OPEN_READ), readAll), "hello, procmap");
      assert.equal(withFd(libc.openAt(dirFd, new TextEncoder().encode("link"), OPEN_READ), readAll), "hello, procmap");
      assert.equal(withFd(libc.openAt(dirFd, join(dir, "twin"), OPEN_READ), readAll), "hello, procmap");
      assert.equal(withFd(libc.openAt(AT_FDCWD, join(dir, "file"), OPEN_READ), readAll), "hello, procmap");
    });

    test("refusals come back as -errno: ENOENT, ENOTDIR, ELOOP, EBADF", () => {
      assert.equal(libc.openAt(dirFd, "missing", OPEN_READ), -ERRNO.ENOENT);
      assert.equal(libc.openAt(dirFd, "", OPEN_READ), -ERRNO.ENOENT);
      assert.equal(libc.openAt(dirFd, "file", OPEN_READ | O_DIRECTORY), -ERRNO.ENOTDIR);
      assert.equal(libc.openAt(dirFd, "link", OPEN_READ | O_NOFOLLOW), -ERRNO.ELOOP);
      assert.equal(libc.openAt(1 << 20, "file", OPEN_READ), -ERRNO.EBADF);
    });

    test("O_PATH | O_NOFOLLOW names the link itself", () => {
      const id = emptyFileId();
      withFd(libc.openAt(dirFd, "link", O_PATH | O_NOFOLLOW), (fd) => {
        assert.equal(libc.statAt(fd, "", AT_EMPTY_PATH, id), 0);
      });
      assert.equal(id.mode & S_IFMT, S_IFLNK);
      assert.equal(id.inode, coreutilsStat(join(dir, "link")).inode);
    });

    test("a NUL inside a path is a TypeError, as C would cut the path short", () => {
      assert.throws(() => libc.openAt(dirFd, "fi\0le", OPEN_READ), TypeError);
    });
  });

  describe(`[${label}] statAt`, () => {
    test("links, size, inode and type match stat(1), following links or not", () => {
      const id = emptyFileId();
      for (const name of ["file", "twin", "sparse", "sub", "link"]) {
        const want = coreutilsStat(join(dir, name));
        assert.equal(libc.statAt(dirFd, name, AT_SYMLINK_NOFOLLOW, id), 0, name);
        assert.deepEqual({ nlink: id.nlink, size: id.size, inode: id.inode, type: id.mode & S_IFMT }, want, name);
      }
      assert.equal(coreutilsStat(join(dir, "file")).nlink, 2);
      assert.equal(libc.statAt(dirFd, "link", 0, id), 0);
      assert.equal(id.mode & S_IFMT, S_IFREG);
      assert.equal(id.inode, coreutilsStat(join(dir, "file")).inode);
      assert.equal(libc.statAt(dirFd, "sparse", 0, id), 0);
      assert.equal(id.size, 5n * 2n ** 30n);
    });

    test("AT_EMPTY_PATH reports the descriptor itself; fstat and stat are the same call", () => {
      const a = emptyFileId(), b = emptyFileId(), c = emptyFileId();
      assert.equal(libc.statAt(dirFd, "", AT_EMPTY_PATH, a), 0);
      assert.equal(a.mode & S_IFMT, S_IFDIR);
      assert.equal(a.inode, coreutilsStat(dir).inode);
      assert.equal(libc.fstat(dirFd, b), 0);
      assert.equal(libc.stat(dir, c), 0);
      assert.deepEqual(b, a);
      assert.deepEqual(c, a);
      assert.equal(libc.statAt(dirFd, "", 0, a), -ERRNO.ENOENT, "an empty path without AT_EMPTY_PATH");
    });

    test("a file deleted while open has no links left", () => {
      writeFileSync(join(dir, "doomed"), "x");
      const id = emptyFileId();
      withFd(libc.openAt(dirFd, "doomed", OPEN_READ), (fd) => {
        unlinkSync(join(dir, "doomed"));
        assert.equal(libc.fstat(fd, id), 0);
      });
      assert.equal(id.nlink, 0);
      assert.equal(id.size, 1n);
    });

    test("refusals come back as -errno", () => {
      const id = emptyFileId();
      assert.equal(libc.statAt(dirFd, "missing", 0, id), -ERRNO.ENOENT);
      assert.equal(libc.statAt(1 << 20, "file", 0, id), -ERRNO.EBADF);
      assert.equal(libc.statAt(dirFd, "file/x", 0, id), -ERRNO.ENOTDIR);
    });
  });

  describe(`[${label}] openat2`, () => {
    const skip = libc.binding === "node:fs" ? "node:fs has no openat2" : false;

    test("node:fs answers ENOSYS", { skip: libc.binding === "node:fs" ? false : "this binding has openat2" }, () => {
      assert.equal(libc.openat2(dirFd, "file", OPEN_READ, 0), -ERRNO.ENOSYS);
    });

    test("no restriction: opens like openat", { skip }, () => {
      assert.equal(withFd(libc.openat2(dirFd, "link", OPEN_READ, 0), readAll), "hello, procmap");
    });

    test("RESOLVE_BENEATH refuses leaving the directory (EXDEV), allows staying in it", { skip }, () => {
      assert.equal(
        libc.openat2(dirFd, "../" + dir.split("/").pop() + "/file", OPEN_READ, RESOLVE_BENEATH),
        -ERRNO.EXDEV,
      );
      assert.equal(libc.openat2(dirFd, join(dir, "file"), OPEN_READ, RESOLVE_BENEATH), -ERRNO.EXDEV);
      assert.equal(withFd(libc.openat2(dirFd, "sub/../file", OPEN_READ, RESOLVE_BENEATH), readAll), "hello, procmap");
    });

    test("RESOLVE_IN_ROOT: an absolute link resolves inside the directory", { skip }, () => {
      // abs -> /file: outside a root that is /file, which does not exist.
      assert.equal(libc.openAt(dirFd, "abs", OPEN_READ), -ERRNO.ENOENT);
      assert.equal(withFd(libc.openat2(dirFd, "abs", OPEN_READ, RESOLVE_IN_ROOT), readAll), "hello, procmap");
      assert.equal(withFd(libc.openat2(dirFd, "../../file", OPEN_READ, RESOLVE_IN_ROOT), readAll), "hello, procmap");
    });

    test("RESOLVE_NO_SYMLINKS and RESOLVE_NO_MAGICLINKS refuse links (ELOOP)", { skip }, () => {
      assert.equal(libc.openat2(dirFd, "link", OPEN_READ, RESOLVE_NO_SYMLINKS), -ERRNO.ELOOP);
      withFd(libc.openAt(dirFd, "file", OPEN_READ), (fd) => {
        const magic = `/proc/self/fd/${fd}`;
        assert.equal(libc.openat2(AT_FDCWD, magic, OPEN_READ, RESOLVE_NO_MAGICLINKS), -ERRNO.ELOOP);
        assert.equal(withFd(libc.openat2(AT_FDCWD, magic, OPEN_READ, 0), readAll), "hello, procmap");
      });
    });

    test("unknown resolve bits and a bad descriptor are -errno, not exceptions", { skip }, () => {
      assert.equal(libc.openat2(dirFd, "file", OPEN_READ, 0x4000_0000), -ERRNO.EINVAL);
      assert.equal(libc.openat2(1 << 20, "file", OPEN_READ, 0), -ERRNO.EBADF);
    });
  });

  test(`[${label}] a name that is not UTF-8, as bytes`, {
    skip: libc.binding === "node:fs" && "Deno" in globalThis
      ? "Deno's node:fs decodes byte paths as UTF-8 (the node:fs binding only serves Node)"
      : false,
  }, () => {
    const name = new Uint8Array([0xff, 0x41, 0xfe]);
    // Made by the shell: Deno's node:fs would decode a Buffer path as UTF-8.
    execFileSync("sh", ["-c", `printf bytes > "$1/$(printf '\\377A\\376')"`, "sh", dir]);
    const id = emptyFileId();
    assert.equal(libc.statAt(dirFd, name, 0, id), 0);
    assert.equal(id.size, 5n);
    assert.equal(withFd(libc.openAt(dirFd, name, OPEN_READ), readAll), "bytes");
  });
}

const own = getLibc();
callsOf(own, own.binding);
if (own.binding !== "node:fs") callsOf(loadNodeFs("tested beside the FFI binding"), "node:fs");
