/**
 * The planner weighs batches with what a query and a text read cost here,
 * measured through the handle's own binding: a binding whose ioctl is made
 * expensive turns it to the text, the real one keeps the ioctl; a binding
 * that becomes expensive later is measured again once batches drift. Only
 * the choices are asserted, never a time.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { getLibc, type Libc, setLibcForTesting } from "../ffi/mod.ts";
import { ProcMaps } from "../mod.ts";
import { IOCTL_SKIP } from "./helpers/backends.ts";
import { readRows } from "./helpers/ground_truth.ts";

/** A binding whose ioctl costs `extra()` microseconds more (a busy wait), made a new object (its costs are its own). */
function slowIoctl(extra: () => number): Libc {
  const real = getLibc();
  return {
    ...real,
    ioctlAt: (fd, req, addr) => {
      const end = performance.now() + extra() / 1000;
      while (performance.now() < end) { /* spin */ }
      return real.ioctlAt(fd, req, addr);
    },
  };
}

function withLibc<T>(libc: Libc, fn: () => T): T {
  const real = setLibcForTesting(libc);
  try {
    return fn();
  } finally {
    setLibcForTesting(real);
  }
}

/** Two addresses in two VMAs of this process: two queries, or one read of its whole text. */
function twoVmas(): bigint[] {
  const rows = readRows("self").filter((r) => r.start < 0xffff800000000000n);
  return [rows[0].start, rows[rows.length - 1].start];
}

test("the planner takes the text when queries are made expensive, the ioctl when they are cheap", {
  skip: IOCTL_SKIP,
}, () => {
  const addrs = twoVmas();
  const plan = (libc: Libc) =>
    withLibc(libc, () => {
      using maps = ProcMaps.open("self", { backend: "ioctl" });
      maps.resolve(addrs, { strategy: "text" }); // the handle now knows the process's size
      return maps.planResolve(addrs);
    });
  const cheap = plan(slowIoctl(() => 0));
  assert.equal(cheap.strategy, "ioctl", cheap.reason);
  assert.equal(cheap.costs?.source, "measured");
  assert.ok(cheap.costs!.queryNs > 0 && cheap.costs!.textPerVmaNs > 0 && cheap.costs!.measuredVmas > 0);
  assert.match(cheap.reason, /measured here/);
  // A query that costs 5 ms costs more than reading this process's text.
  const dear = plan(slowIoctl(() => 5000));
  assert.equal(dear.strategy, "text", dear.reason);
  assert.ok(dear.costs!.queryNs > cheap.costs!.queryNs);
  // Asked for ioctl, the planner obeys and says so; the text strategy needs no costs.
  withLibc(slowIoctl(() => 5000), () => {
    using maps = ProcMaps.open("self", { backend: "ioctl" });
    assert.equal(maps.planResolve(addrs, { strategy: "ioctl" }).strategy, "ioctl");
    assert.equal(maps.planResolve(addrs, { strategy: "text" }).costs, undefined);
  });
});

test("a binding whose queries become expensive is measured again once batches drift, and the plan follows", {
  skip: IOCTL_SKIP,
}, () => {
  let extra = 0;
  withLibc(slowIoctl(() => extra), () => {
    using maps = ProcMaps.open("self", { backend: "ioctl" });
    const addrs = twoVmas();
    maps.resolve(addrs, { strategy: "text" });
    const before = maps.planResolve(addrs);
    assert.equal(before.strategy, "ioctl", before.reason);
    assert.equal(before.costs?.measurements, 1);
    // Queries now cost 5 ms: batches of many queries say so, a few in a row.
    extra = 5000;
    // File-backed VMAs (the runtime's and its libraries'): the engine's own heap regions come and go (a
    // collection unmaps them), and addresses in unmapped gaps share a query, leaving too few to time.
    const many = readRows("self").filter((r) => r.inode !== 0n && r.name.startsWith("/")).slice(0, 16)
      .map((r) => r.start);
    assert.ok(many.length >= 8, `${many.length} file-backed VMAs`);
    // (Batches are timed now and then, not every one, and costs measured at most once a second.)
    let after = maps.planResolve(addrs);
    for (let i = 0; i < 200 && after.costs?.measurements === 1; i++) {
      maps.resolve(many, { strategy: "ioctl", buildId: false, elfAddr: false });
      after = maps.planResolve(addrs);
    }
    assert.equal(after.costs?.measurements, 2, "measured again");
    assert.equal(after.strategy, "text", after.reason);
  });
});
