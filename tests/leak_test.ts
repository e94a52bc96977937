/**
 * Resource leaks over long runs: descriptors (the count of /proc/self/fd
 * after thousands of open/close cycles, early-stopped iterations, failed
 * opens, build-ID lookups, and handles dropped without close()) and memory
 * (RSS over 100,000 queries in CI, 1,000,000 with PROCMAP_STRESS=1).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { setTimeout as sleep } from "node:timers/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { ProcMaps, ProcMapsError } from "../mod.ts";
import { getLibc, type Libc, setLibcForTesting } from "../ffi/mod.ts";
import { compileC, startChild, type Started } from "./helpers/child.ts";
import { BACKENDS } from "./helpers/backends.ts";
import { count } from "./helpers/rng.ts";
import { countFds } from "./helpers/fds.ts";

const CYCLES = count(10_000, 100_000);
const EARLY_STOPS = count(1_000, 10_000);
const QUERIES = count(100_000, 1_000_000);

let target: Started<{ pid: number; mark: { start: string } }>;
before(async () => {
  // A small, quiet process: cycles cost little, and its map does not change.
  target = await startChild(compileC("churn"), ["--hold"]);
});
after(() => target.stop());

/** This process's descriptors of files and directories (their links name a path): all that procmap opens. */
const fdCount = () => countFds((link) => link.startsWith("/"));

/**
 * A way to force a full garbage collection, where the runtime offers one
 * (Deno through V8's --expose-gc set at run time, Bun through Bun.gc).
 */
function findGc(): (() => void) | undefined {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (typeof g.gc === "function") return g.gc;
  if (g.Bun) return () => g.Bun!.gc(true);
  try {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc");
    if (typeof gc === "function") return gc;
  } catch {
    // no way to force a collection here
  }
  return undefined;
}
const gc = findGc();

function rssMiB(): number {
  return process.memoryUsage().rss / 2 ** 20;
}

for (const backend of BACKENDS) {
  test(`${backend}: ${CYCLES} open/query/close cycles (close() and \`using\`) leave the descriptor count unchanged`, () => {
    // Garbage of earlier test files first (Bun closes a dropped child's pipes when it collects them):
    // descriptors closed during the cycles would hide as many leaked ones.
    gc?.();
    const before = fdCount();
    const mark = BigInt(target.info.mark.start);
    for (let i = 0; i < CYCLES; i++) {
      if (i & 1) {
        using maps = ProcMaps.open(target.pid, { backend });
        assert.ok(maps.query(mark));
      } else {
        const maps = ProcMaps.open(target.pid, { backend });
        assert.ok(maps.query(mark));
        maps.close();
      }
    }
    assert.equal(fdCount(), before);
  });

  test(`${backend}: iterations stopped early (break, throw, abort, abandoned) leak nothing`, async () => {
    const before = fdCount();
    for (let i = 0; i < EARLY_STOPS; i++) {
      {
        using maps = ProcMaps.open(target.pid, { backend });
        for (const _ of maps.vmasSync()) break;
      }
      {
        using maps = ProcMaps.open(target.pid, { backend });
        for await (const _ of maps.vmas()) break;
      }
      {
        using maps = ProcMaps.open(target.pid, { backend });
        await assert.rejects(async () => {
          for await (const _ of maps.vmas({ buildId: true })) throw new Error("stop");
        }, /stop/);
      }
      {
        using maps = ProcMaps.open(target.pid, { backend });
        const ac = new AbortController();
        await assert.rejects(async () => {
          for await (const _ of maps.vmas({ signal: ac.signal })) ac.abort(new Error("aborted"));
        }, /aborted/);
      }
      {
        // An iterator left half-way and never returned: the handle still closes.
        using maps = ProcMaps.open(target.pid, { backend });
        const it = maps.vmasSync();
        it.next();
        void maps.vmas().next();
      }
    }
    assert.equal(fdCount(), before);
  });

  test(`${backend}: opens that fail after the descriptor is open close it`, () => {
    // A kernel without PROCMAP_QUERY (a binding whose ioctl says ENOTTY) makes
    // a forced "ioctl" open fail after open(2) succeeded.
    const real = getLibc();
    const before = fdCount();
    for (let i = 0; i < CYCLES / 10; i++) {
      const noIoctl: Libc = { ...real, ioctl: () => -25 };
      setLibcForTesting(noIoctl);
      try {
        assert.throws(
          () => ProcMaps.open(target.pid, { backend: "ioctl" }),
          (e: unknown) => e instanceof ProcMapsError && e.code === "ENOTTY",
        );
        if (backend === "text") ProcMaps.open(target.pid, { backend }).close();
      } finally {
        setLibcForTesting(real);
      }
      assert.throws(() => ProcMaps.open(4194304, { backend }), ProcMapsError);
    }
    assert.equal(fdCount(), before);
  });

  test(`${backend}: build-ID lookups close every file they open`, () => {
    using maps = ProcMaps.open("self", { backend });
    const before = fdCount();
    let found = 0;
    for (let i = 0; i < count(50, 2_000); i++) {
      maps.refresh(); // the text backend caches build IDs per snapshot
      for (const v of maps.vmasSync({ fileBacked: true, buildId: true })) if (v.buildId) found++;
    }
    assert.ok(found > 0, "some build IDs were read");
    assert.equal(fdCount(), before);
  });
}

test("handles dropped without close() are closed when garbage-collected", {
  skip: gc ? false : "this runtime offers no way to force a garbage collection",
}, async () => {
  const before = fdCount();
  const dropped = 1_000;
  (() => {
    for (let i = 0; i < dropped; i++) ProcMaps.open(target.pid, { backend: BACKENDS[i % BACKENDS.length] }).query(0n);
  })();
  assert.equal(
    fdCount(),
    before + 2 * dropped,
    "each handle holds two descriptors (/proc/<pid>, maps) until collected",
  );
  // Finalizers run as tasks after a collection: collect, yield, repeat (bounded).
  for (let round = 0; round < 100 && fdCount() > before; round++) {
    gc!();
    await sleep(10);
  }
  assert.equal(fdCount(), before, "the FinalizationRegistry closed every dropped handle's descriptor");
});

test(`RSS stays flat over ${QUERIES} queries (${BACKENDS.join(" and ")}; names, build IDs, walks)`, async () => {
  const mark = BigInt(target.info.mark.start);
  const handles = BACKENDS.map((backend) => ProcMaps.open(target.pid, { backend }));
  const round = (n: number) => {
    for (let i = 0; i < n; i++) {
      for (const maps of handles) {
        maps.query(mark + BigInt(i & 0x3fff));
        if ((i & 15) === 0) maps.query(0n, { coveringOrNext: true, fileBacked: true, buildId: true });
        if ((i & 1023) === 0) {
          maps.refresh();
          for (const _ of maps.vmasSync({ buildId: true })) { /* walk */ }
        }
      }
    }
  };
  const settle = async () => {
    gc?.();
    await sleep(0);
    gc?.();
    return rssMiB();
  };
  // Warm up with a whole round: JIT, buffers, caches, and the allocator's high-water mark (RSS
  // never shrinks after a peak, so a shorter warm-up let one late GC look like growth under load).
  round(QUERIES);
  const start = await settle();
  round(QUERIES);
  const end = await settle();
  console.log(
    `RSS over ${QUERIES} queries: ${start.toFixed(1)} MiB -> ${end.toFixed(1)} MiB (${(end - start).toFixed(1)} MiB)`,
  );
  for (const maps of handles) maps.close();
  // Generous: a leak of even 100 bytes per query would show as ~10 MiB per 100,000.
  assert.ok(end - start < 32, `RSS grew by ${(end - start).toFixed(1)} MiB`);
});
