/**
 * Files on the kernel's internal pseudo filesystems (here an AIO ring,
 * "/[aio] (deleted)"): same page size in both backends, without the text
 * backend reading smaps for them, and resolve() calls them in-memory files.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ProcMaps, type Vma } from "../mod.ts";
import { compileC, startChild, type Started } from "./helpers/child.ts";
import { BACKENDS } from "./helpers/backends.ts";
import { getLibc, setLibcForTesting } from "../ffi/mod.ts";

let child: Started<{ ring: string | null }>;
before(async () => {
  child = await startChild(compileC("aio"), []);
});
after(() => child.stop());

test("an AIO ring: a shared file mapping on a pseudo filesystem, base pages in every backend", () => {
  assert.ok(child.info.ring, "io_setup worked");
  for (const backend of BACKENDS) {
    using maps = ProcMaps.open(child.pid, { backend });
    const v: Vma = maps.query(BigInt(child.info.ring!))!;
    assert.equal(v.name, "/[aio] (deleted)");
    assert.equal(v.devMajor, 0);
    assert.ok(v.shared && v.fileBacked);
    assert.equal(v.pageSize, 4096);
    assert.equal(maps.resolve([v.start])[0]!.kind, "memory-file");
  }
});

test("text snapshots of a process with an AIO ring do not read its smaps, and read its mountinfo once", () => {
  const real = getLibc();
  const opened: string[] = [];
  setLibcForTesting({
    ...real,
    openRead: (p) => (opened.push(String(p)), real.openRead(p)),
    openAt: (dirfd, p, flags) => (opened.push(`/${String(p)}`), real.openAt(dirfd, p, flags)),
  });
  try {
    using maps = ProcMaps.open(child.pid, { backend: "text" });
    for (let i = 0; i < 3; i++) {
      maps.refresh();
      assert.ok(maps.query(BigInt(child.info.ring!)));
    }
  } finally {
    setLibcForTesting(real);
  }
  assert.ok(opened.some((p) => p.endsWith("/maps")));
  assert.deepEqual(opened.filter((p) => p.endsWith("/smaps")), []);
  // The ring's device is not mounted: learned once per handle, not re-read for every snapshot.
  assert.equal(opened.filter((p) => p.endsWith("/mountinfo")).length, 1);
});
