/**
 * errno comes back from the FFI layer as the error of the call that failed,
 * not a stale one: sequences of calls failing with ENOENT, ENOTTY,
 * ENAMETOOLONG and EACCES, interleaved with successes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { getLibc } from "../ffi/mod.ts";
import { requestFor } from "../src/ioctl/abi.ts";
import { ERRNO } from "../src/errors.ts";
import { QueryStruct } from "../src/ioctl/query_struct.ts";
import { FLAG, WANT_NAME } from "../src/request.ts";
import { isRoot, runAsNobody } from "./helpers/runtime.ts";

const libc = getLibc();
const canIoctl = libc.canIoctl && requestFor(libc.arch) !== undefined;

test("ioctl errnos in this process: ENOENT, ENOTTY, ENAMETOOLONG, interleaved with successes", {
  skip: canIoctl ? false : `no ioctl from ${libc.runtime}`,
}, () => {
  const req = requestFor(libc.arch)!;
  const maps = libc.openRead("/proc/self/maps");
  const smaps = libc.openRead("/proc/self/smaps");
  assert.ok(maps >= 0 && smaps >= 0);
  try {
    const q = new QueryStruct((b) => libc.addressOf(b));
    const tiny = new QueryStruct((b) => libc.addressOf(b), 2);
    q.prepare(0n, FLAG.coveringOrNext | FLAG.fileBacked);
    assert.equal(libc.ioctl(maps, req, q.bytes), 0);
    const named = q.start();
    const calls: Record<string, () => number> = {
      ENOENT: () => (q.prepare(0n, 0), libc.ioctl(maps, req, q.bytes)),
      ENOTTY: () => (q.prepare(named, 0), libc.ioctl(smaps, req, q.bytes)),
      ENAMETOOLONG: () => (tiny.prepare(named, WANT_NAME), libc.ioctl(maps, req, tiny.bytes)),
      ok: () => (q.prepare(named, WANT_NAME), libc.ioctl(maps, req, q.bytes)),
      EBADF: () => (q.prepare(named, 0), libc.ioctl(1 << 20, req, q.bytes)),
    };
    const order = [
      "ENOENT",
      "ENOTTY",
      "ok",
      "ENAMETOOLONG",
      "ENOENT",
      "EBADF",
      "ENOTTY",
      "ok",
      "ENAMETOOLONG",
      "ENOENT",
    ];
    for (let round = 0; round < 100; round++) {
      for (const name of order) {
        const r = calls[name]();
        if (name === "ok") assert.equal(r, 0);
        else assert.equal(r, -ERRNO[name as keyof typeof ERRNO], `${name} in round ${round}`);
      }
    }
  } finally {
    libc.close(maps);
    libc.close(smaps);
  }
});

test("open errnos: ENOENT for a missing file, then success, then ENOENT again", () => {
  for (let i = 0; i < 50; i++) {
    assert.equal(libc.openRead("/proc/self/no-such-file"), -ERRNO.ENOENT);
    const fd = libc.openRead("/proc/self/maps");
    assert.ok(fd >= 0);
    assert.equal(libc.close(fd), 0);
    assert.equal(libc.close(fd), -ERRNO.EBADF);
  }
});

test("errnos as an unprivileged user: EACCES interleaved with ENOTTY, ENAMETOOLONG, ENOENT", {
  skip: !isRoot ? "needs root to drop privileges to nobody" : !canIoctl ? `no ioctl from ${libc.runtime}` : false,
}, () => {
  const results = runAsNobody("tests/fixtures/errno_sequence.ts") as [string, number][];
  const want: Record<string, number> = {
    eacces: -ERRNO.EACCES,
    enotty: -ERRNO.ENOTTY,
    enametoolong: -ERRNO.ENAMETOOLONG,
    enoent: -ERRNO.ENOENT,
    ok: 0,
  };
  assert.equal(results.length, 11);
  for (const [name, r] of results) assert.equal(r, want[name], name);
});
