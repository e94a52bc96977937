/**
 * Opening a VMA's file from user space (build IDs of the text backend, ELF
 * headers for resolve()): only the mapped regular file is ever opened, also
 * where stat reports another device than the maps do (btrfs subvolumes),
 * simulated here with a binding that shifts stat's device numbers.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { getLibc, type Libc } from "../ffi/mod.ts";
import { type MappedFile, openMappedFile } from "../src/elf/mapped_file.ts";
import { type MapperInfo, type Started, startMapper } from "./helpers/child.ts";
import { readRows } from "./helpers/ground_truth.ts";

let mapper: Started<MapperInfo>;
let file: MappedFile;
before(async () => {
  mapper = await startMapper();
  const row = readRows(mapper.pid).find((r) => r.start === BigInt(mapper.info.spaces.start))!;
  file = { ...row, path: new TextEncoder().encode(row.name) };
});
after(() => mapper.stop());

const real = getLibc();

/** A binding whose stat results are changed by `edit`, and which records what it opens. */
function binding(edit: (path: string, id: { devMinor: number; mode: number; mountId: bigint }) => number | void) {
  const opened: string[] = [];
  const libc: Libc = {
    ...real,
    stat(path, out) {
      const r = real.stat(path, out);
      const p = typeof path === "string" ? path : new TextDecoder().decode(path);
      return r === 0 ? edit(p, out) ?? 0 : r;
    },
    fstat(fd, out) {
      const r = real.fstat(fd, out);
      return r === 0 ? edit("", out) ?? 0 : r;
    },
    openRead(path) {
      opened.push(typeof path === "string" ? path : new TextDecoder().decode(path));
      return real.openRead(path);
    },
  };
  return { libc, opened };
}

function opens(libc: Libc): boolean {
  const fd = openMappedFile(libc, mapper.pid, file);
  if (fd >= 0) real.close(fd);
  return fd >= 0;
}

test("the mapped file opens through map_files (as root) or by path", () => {
  assert.ok(opens(real));
});

test("stat reporting another device (btrfs): map_files is trusted, a path is checked through its mount's device", {
  skip: real.binding === "node:fs" ? "Node's fs.stat has no mount ID" : false,
}, () => {
  const shifted = binding((_p, id) => void (id.devMinor += 1000));
  assert.ok(opens(shifted.libc), "through map_files, or a path whose mount shows the maps' device");
  // Without map_files: only the path routes, each checked through mountinfo.
  const noMapFiles = binding((p, id) => (p.includes("/map_files/") ? -1 : void (id.devMinor += 1000)));
  assert.ok(opens(noMapFiles.libc));
  // A mount whose device is not the maps' one: refused.
  const wrongMount = binding((p, id) => {
    if (p.includes("/map_files/")) return -1;
    id.devMinor += 1000;
    id.mountId = 999999n;
  });
  assert.equal(opens(wrongMount.libc), false);
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
  assert.equal(openMappedFile(b.libc, mapper.pid, other), -2, "ENOENT: no route opens another file");
  assert.deepEqual(b.opened, []);
});
