/**
 * Opening a VMA's file from user space (build IDs of the text backend, ELF
 * headers for resolve()): only the mapped regular file is ever opened, also
 * where stat reports another device than the maps do (btrfs subvolumes),
 * simulated here with a binding that shifts fstat's device numbers. Every
 * route is opened O_PATH first and checked through that descriptor; only
 * then is the checked file opened for reading (through /proc/self/fd).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { getLibc, type Libc } from "../ffi/mod.ts";
import { AT_FDCWD, O_DIRECTORY, O_PATH } from "../ffi/constants.ts";
import { type MappedFile, openMappedFile } from "../src/elf/mapped_file.ts";
import { type MapperInfo, type Started, startMapper } from "./helpers/child.ts";
import { readRows } from "./helpers/ground_truth.ts";

const real = getLibc();
const O_PATH_FLAG = O_PATH;

let mapper: Started<MapperInfo>;
let file: MappedFile;
let procDir: number;
before(async () => {
  mapper = await startMapper();
  const row = readRows(mapper.pid).find((r) => r.start === BigInt(mapper.info.spaces.start))!;
  file = { ...row, path: new TextEncoder().encode(row.name) };
  procDir = real.openAt(AT_FDCWD, `/proc/${mapper.pid}`, O_PATH | O_DIRECTORY);
  assert.ok(procDir >= 0);
});
after(async () => {
  real.close(procDir);
  await mapper.stop();
});

const text = (p: string | Uint8Array) => typeof p === "string" ? p : new TextDecoder().decode(p);

/**
 * A binding whose fstat results are changed by `edit` (given the path the
 * descriptor was opened with), and which records what it opens for reading
 * (not O_PATH).
 */
function binding(edit: (path: string, id: { devMinor: number; mode: number; mountId: bigint }) => number | void) {
  const opened: string[] = [];
  const pathOf = new Map<number, string>();
  const libc: Libc = {
    ...real,
    openAt(dirfd, path, flags) {
      const fd = real.openAt(dirfd, path, flags);
      if (fd >= 0) pathOf.set(fd, text(path));
      // Reading mountinfo is not opening the file.
      if (!(flags & O_PATH_FLAG) && !text(path).endsWith("mountinfo")) opened.push(text(path));
      return fd;
    },
    openat2(dirfd, path, flags, resolve) {
      const fd = real.openat2(dirfd, path, flags, resolve);
      if (fd >= 0) pathOf.set(fd, `root:${text(path)}`);
      if (!(flags & O_PATH_FLAG)) opened.push(text(path));
      return fd;
    },
    fstat(fd, out) {
      const r = real.fstat(fd, out);
      return r === 0 ? edit(pathOf.get(fd) ?? "", out) ?? 0 : r;
    },
    openRead(path) {
      opened.push(text(path));
      return real.openRead(path);
    },
  };
  return { libc, opened };
}

function opens(libc: Libc): boolean {
  const fd = openMappedFile(libc, procDir, file);
  if (fd >= 0) real.close(fd);
  return fd >= 0;
}

test("the mapped file opens through map_files (as root) or by path", () => {
  assert.ok(opens(real));
});

test("stat reporting another device (btrfs): every route, map_files too, is checked through its mount's device", {
  skip: real.binding === "node:fs" ? "Node's fs.stat has no mount ID" : false,
}, () => {
  const shifted = binding((_p, id) => void (id.devMinor += 1000));
  assert.ok(opens(shifted.libc), "through a route whose mount shows the maps' device");
  // Without map_files: only the path routes, each checked through mountinfo.
  const noMapFiles = binding((p, id) => (p.includes("/map_files/") ? -1 : void (id.devMinor += 1000)));
  assert.ok(opens(noMapFiles.libc));
  // A mount whose device is not the maps' one: refused on every route, map_files included.
  const wrongMount = binding((_p, id) => {
    id.devMinor += 1000;
    id.mountId = 999999n;
  });
  assert.equal(opens(wrongMount.libc), false);
  assert.deepEqual(wrongMount.opened, [], "nothing opened for reading");
});

test("a device node, FIFO or directory at the VMA's identity is never opened", () => {
  for (const mode of [0o020644, /* char device */ 0o010644, /* FIFO */ 0o040755 /* directory */]) {
    const b = binding((_p, id) => void (id.mode = mode));
    assert.equal(opens(b.libc), false);
    assert.deepEqual(b.opened, [], `mode ${mode.toString(8)}: nothing opened`);
  }
});

test("another file at the path (another inode) is not opened", () => {
  const other = { ...file, inode: file.inode + 1n };
  const b = binding(() => {});
  assert.equal(openMappedFile(b.libc, procDir, other), -2, "ENOENT: no route opens another file");
  assert.deepEqual(b.opened, []);
});
