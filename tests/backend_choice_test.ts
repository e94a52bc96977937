/**
 * Backend choice: "auto" takes the ioctl where the kernel answers it and the
 * text otherwise; forcing "ioctl" where it is missing is a clear error. A
 * kernel without PROCMAP_QUERY is simulated with a binding whose ioctl
 * answers ENOTTY, as such kernels do.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { getLibc, type Libc, setLibcForTesting } from "../ffi/mod.ts";
import { ProcMaps, ProcMapsError } from "../mod.ts";
import { ERRNO } from "../src/errors.ts";
import { IOCTL_SKIP } from "./helpers/backends.ts";
import { readRows } from "./helpers/ground_truth.ts";

/** Runs `fn` with a binding derived from the real one. */
function withLibc(change: Partial<Libc>, fn: () => void): void {
  const real = getLibc();
  setLibcForTesting({ ...real, ...change });
  try {
    fn();
  } finally {
    setLibcForTesting(real);
  }
}

function expectError(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (e) => e instanceof ProcMapsError && e.code === code && message.test(e.message));
}

test("auto picks the ioctl on this kernel", { skip: IOCTL_SKIP }, () => {
  using maps = ProcMaps.open("self");
  assert.equal(maps.backend, "ioctl");
});

test("a kernel answering ENOTTY: auto falls back to text, forcing ioctl names the kernel version", () => {
  let ioctls = 0;
  withLibc({ canIoctl: true, ioctl: () => (ioctls++, -ERRNO.ENOTTY) }, () => {
    {
      using maps = ProcMaps.open("self");
      assert.equal(maps.backend, "text");
      // The text backend answers correctly.
      const rows = readRows("self");
      const stack = rows.find((r) => r.name === "[stack]")!;
      assert.equal(maps.query(stack.start)!.end, stack.end);
    }
    expectError(() => ProcMaps.open("self", { backend: "ioctl" }), "ENOTTY", /Linux 6\.11/);
    // The probe runs once per process (per binding), not per open.
    const before = ioctls;
    for (let i = 0; i < 5; i++) ProcMaps.open("self").close();
    assert.equal(ioctls, before);
  });
});

test("a runtime without FFI (Node.js): auto uses text, forcing ioctl explains why not", () => {
  withLibc({ canIoctl: false, runtime: "node", whyNoIoctl: undefined }, () => {
    using maps = ProcMaps.open("self");
    assert.equal(maps.backend, "text");
    expectError(() => ProcMaps.open("self", { backend: "ioctl" }), "ENOTTY", /no built-in FFI/);
  });
  // The binding's own reason, when it gives one, is what the error says.
  const why = "Node.js 20.20.2 has no node:ffi (Node 26.1 and later have it)";
  withLibc({ canIoctl: false, runtime: "node", binding: "node:fs", whyNoIoctl: why }, () => {
    expectError(() => ProcMaps.open("self", { backend: "ioctl" }), "ENOTTY", /has no node:ffi.*Node.js 26/);
  });
});

test("an architecture whose request number is not known: auto uses text, forcing ioctl refuses", () => {
  withLibc({ arch: "mips64", canIoctl: true }, () => {
    using maps = ProcMaps.open("self");
    assert.equal(maps.backend, "text");
    expectError(() => ProcMaps.open("self", { backend: "ioctl" }), "EOPNOTSUPP", /mips64/);
  });
});

test("forcing text works everywhere", () => {
  using maps = ProcMaps.open("self", { backend: "text" });
  assert.equal(maps.backend, "text");
});

test("EAGAIN from PROCMAP_QUERY (the map changing under per-VMA locks) is asked again, a bounded number of times", {
  skip: IOCTL_SKIP,
}, () => {
  const real = getLibc();
  let eagains = 0, calls = 0;
  const flaky: Partial<Libc> = {
    ioctlAt: (fd, req, addr) => {
      calls++;
      if (eagains > 0) {
        eagains--;
        return -ERRNO.EAGAIN;
      }
      return real.ioctlAt(fd, req, addr);
    },
  };
  withLibc(flaky, () => {
    using maps = ProcMaps.open("self", { backend: "ioctl" });
    // A file-backed VMA, whose start holds still (the stack's moves down as it grows).
    const file = readRows("self").find((r) => r.inode !== 0n && r.name.startsWith("/"))!;
    // A few EAGAINs: the query, a walk step and a table row answer as if none had happened.
    eagains = 3;
    assert.equal(maps.query(file.start)?.start, file.start);
    eagains = 3;
    assert.equal(maps.vmasSync({ from: file.start }).next().value?.start, file.start);
    eagains = 3;
    assert.equal(maps.table({ from: file.start }).start[0], file.start);
    // EAGAIN that does not stop: a typed, transient error after a bounded number of calls.
    eagains = Infinity;
    calls = 0;
    expectError(() => maps.query(file.start), "EAGAIN", /EAGAIN/);
    assert.ok(calls > 1 && calls <= 20, `${calls} calls`);
  });
});
