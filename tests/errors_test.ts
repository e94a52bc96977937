/**
 * Errors: bad arguments are refused before any system call; a missing or
 * exited process, missing permission and a closed handle give typed errors.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { BACKENDS, IOCTL_SKIP } from "./helpers/backends.ts";
import { existsSync, readFileSync } from "node:fs";
import { ProcMaps, ProcMapsError } from "../mod.ts";
import { compileC, type MapperInfo, startChild, type Started, startMapper } from "./helpers/child.ts";
import { countCalls } from "./helpers/counting_libc.ts";
import { isRoot, runAsNobody } from "./helpers/runtime.ts";

let mapper: Started<MapperInfo>;
before(async () => {
  mapper = await startMapper();
});
after(() => mapper.stop());

const BAD_ADDRESSES: [unknown, typeof TypeError | typeof RangeError][] = [
  [-1n, RangeError],
  [2n ** 64n, RangeError],
  [-1, RangeError],
  [1.5, RangeError],
  [NaN, RangeError],
  [Infinity, RangeError],
  [-Infinity, RangeError],
  [2 ** 53, RangeError],
  [Number.MAX_VALUE, RangeError],
  ["0x1000", TypeError],
  ["4096", TypeError],
  [null, TypeError],
  [undefined, TypeError],
  [{}, TypeError],
  [[4096], TypeError],
  [true, TypeError],
  [Symbol("a"), TypeError],
];

for (const backend of BACKENDS) {
  test(`${backend}: bad addresses throw TypeError/RangeError before any system call`, () => {
    using maps = ProcMaps.open(mapper.pid, { backend });
    maps.query(0n); // take the text snapshot now, so only the bad calls are counted
    const counts = countCalls(() => {
      for (const [addr, type] of BAD_ADDRESSES) {
        assert.throws(() => maps.query(addr as bigint), type, `query(${String(addr)})`);
        // from: undefined means "from 0", so it is not a bad value there.
        if (addr !== undefined) assert.throws(() => maps.vmasSync({ from: addr as bigint }), type);
      }
    });
    assert.deepEqual(counts, { open: 0, ioctl: 0, pread: 0 });
  });
}

test("valid extreme addresses are accepted: 0, 2^53 - 1, 2^64 - 1", () => {
  using maps = ProcMaps.open(mapper.pid);
  assert.doesNotThrow(() => maps.query(0));
  assert.doesNotThrow(() => maps.query(Number.MAX_SAFE_INTEGER));
  assert.equal(maps.query(2n ** 64n - 1n, { readable: true }), null);
});

const BAD_PIDS: [unknown, typeof TypeError | typeof RangeError][] = [
  [0, RangeError],
  [-1, RangeError],
  [1.5, RangeError],
  [NaN, RangeError],
  [Infinity, RangeError],
  [2 ** 22 + 1, RangeError],
  [1e20, RangeError],
  ["../1", TypeError],
  ["1/../2", TypeError],
  ["1", TypeError],
  ["", TypeError],
  ["self/../1", TypeError],
  [1n, TypeError],
  [null, TypeError],
  [{}, TypeError],
];

test("bad pids throw before any system call", () => {
  const counts = countCalls(() => {
    for (const [pid, type] of BAD_PIDS) assert.throws(() => ProcMaps.open(pid as number), type, `open(${String(pid)})`);
  });
  assert.deepEqual(counts, { open: 0, ioctl: 0, pread: 0 });
});

test("bad options throw TypeError naming the option", () => {
  using maps = ProcMaps.open(mapper.pid);
  assert.throws(() => maps.query(0n, { readble: true } as never), /unknown query option "readble"/);
  assert.throws(() => maps.query(0n, { readable: 1 } as never), /option readable must be a boolean/);
  assert.throws(() => maps.query(0n, "x" as never), TypeError);
  assert.throws(() => maps.query(0n, null as never), TypeError);
  assert.throws(() => maps.vmasSync({ coveringOrNext: true } as never), /unknown iteration option "coveringOrNext"/);
  assert.throws(() => maps.vmas({ signal: {} } as never), /AbortSignal/);
  assert.throws(() => ProcMaps.open("self", { backend: "fast" } as never), /backend must be/);
  assert.throws(() => ProcMaps.open("self", { bakend: "text" } as never), /unknown open option/);
});

/** A pid that no process has now. */
function freePid(): number {
  const max = Number(readFileSync("/proc/sys/kernel/pid_max", "utf8"));
  for (let pid = max - 1; pid > 300; pid--) if (!existsSync(`/proc/${pid}`)) return pid;
  throw new Error("no free pid");
}

test("a pid with no process gives ProcMapsError ESRCH", () => {
  const pid = freePid();
  for (const backend of ["auto", "ioctl", "text"] as const) {
    const e = assertProcMapsError(() => ProcMaps.open(pid, { backend }), "ESRCH");
    assert.equal(e.pid, pid);
    assert.match(e.message, /does not exist/);
  }
});

test("a zombie (exited, not reaped) gives ESRCH on use, with both backends", async () => {
  const z = await startChild<{ zombie: number }>(compileC("zombie"), []);
  try {
    for (const backend of BACKENDS) {
      using maps = ProcMaps.open(z.info.zombie, { backend });
      assertProcMapsError(() => maps.query(0n), "ESRCH");
      assertProcMapsError(() => [...maps.vmasSync()], "ESRCH");
    }
  } finally {
    await z.stop();
  }
});

test("a process that exits after open gives ESRCH, and the handle still closes", async () => {
  for (const backend of BACKENDS) {
    const child = await startMapper();
    const maps = ProcMaps.open(child.pid, { backend });
    await child.stop();
    const e = assertProcMapsError(() => maps.query(0n, { coveringOrNext: true }), "ESRCH");
    assert.match(e.message, /exited/);
    maps.close();
    assert.ok(maps.closed);
  }
});

test("a closed handle throws EBADF; close() is idempotent; using closes", () => {
  const maps = ProcMaps.open(mapper.pid);
  const it = maps.vmasSync();
  it.next();
  maps.close();
  maps.close();
  assertProcMapsError(() => maps.query(0n), "EBADF");
  assertProcMapsError(() => it.next(), "EBADF");
  assertProcMapsError(() => maps.backend, "EBADF");
  let escaped: ProcMaps;
  {
    using m = ProcMaps.open(mapper.pid);
    escaped = m;
    assert.equal(m.closed, false);
  }
  assert.equal(escaped.closed, true);
});

test("permission: an unprivileged user cannot open root's process (EACCES)", {
  skip: isRoot ? false : "needs root to drop privileges to nobody",
}, () => {
  for (const backend of ["auto", "text"]) {
    const r = runAsNobody("tests/fixtures/open_as_user.ts", [String(mapper.pid), backend]) as {
      ok: boolean;
      code: string;
      message: string;
    };
    assert.equal(r.ok, false);
    assert.equal(r.code, "EACCES");
    assert.match(r.message, /no permission/);
  }
});

test("permission: an unprivileged user gets the same build IDs from both backends for its own process", {
  skip: isRoot ? IOCTL_SKIP : "needs root to drop privileges to nobody",
}, () => {
  // map_files is refused to users without CAP_SYS_ADMIN, so the text backend
  // reads the files by path here.
  const r = runAsNobody("tests/fixtures/open_as_user.ts", ["self-build-ids"]) as {
    ioctl: Record<string, string | null>;
    text: Record<string, string | null>;
  };
  const files = Object.keys(r.ioctl).filter((k) => k in r.text);
  assert.ok(files.length > 3);
  for (const k of files) assert.equal(r.text[k], r.ioctl[k], `file ${k}`);
  assert.ok(files.some((k) => r.ioctl[k] !== null), "some files have build IDs");
});

function assertProcMapsError(fn: () => unknown, code: string): ProcMapsError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ProcMapsError, `expected ProcMapsError, got ${e}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected ProcMapsError ${code}`);
}
