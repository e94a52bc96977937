/**
 * Many handles at once, several iterations interleaved on one handle, and
 * queries made while an iteration over the same handle is live. Each handle
 * reuses one query struct and name buffer for all its calls: these tests
 * check that no result handed out is changed by a later call, and that
 * interleaved walks do not disturb each other.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ProcMaps, type Vma } from "../mod.ts";
import { compileC, type MapperInfo, startChild, type Started, startMapper } from "./helpers/child.ts";
import { expectedQuery, expectedWalk, fields, type Filters, readRows, type Row } from "./helpers/ground_truth.ts";
import { BACKENDS } from "./helpers/backends.ts";
import { count, Rng, seed } from "./helpers/rng.ts";
import { countFds } from "./helpers/fds.ts";

const SEED = seed(3);

let mapper: Started<MapperInfo>;
let rows: Row[];
/** A second, different process, so that mixed-up handles would show. */
let other: Started<{ pid: number }>;
let otherRows: Row[];
before(async () => {
  mapper = await startMapper(true); // long and overlong names make the name buffer grow mid-run
  rows = readRows(mapper.pid);
  other = await startChild(compileC("churn"), ["--hold"]);
  otherRows = readRows(other.pid);
});
after(async () => {
  await mapper.stop();
  await other.stop();
});

/** A frozen copy of everything a Vma reports, to compare with later. */
function snapshot(v: Vma): string {
  return JSON.stringify(v.toJSON());
}

/** Addresses in, at the edges of, and between the mapper's VMAs. */
function addresses(rng: Rng, n: number): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) {
    const r = rng.pick(rows);
    out.push(rng.pick([r.start, r.end - 1n, r.end, r.start - 1n, r.start + BigInt(rng.int(Number(r.end - r.start)))]));
  }
  return out;
}

const FILTERS: Filters[] = [{}, { readable: true }, { fileBacked: true }, { writable: true }, { executable: true }];

/** Advances every iterator one step in turn until all are done. */
async function interleave<T>(its: (Iterator<T> | AsyncIterator<T>)[]): Promise<T[][]> {
  const out: T[][] = its.map(() => []);
  const done = its.map(() => false);
  while (done.includes(false)) {
    for (let i = 0; i < its.length; i++) {
      if (done[i]) continue;
      const r = await its[i].next();
      if (r.done) done[i] = true;
      else out[i].push(r.value);
    }
  }
  return out;
}

/** This process's descriptors on files under /proc (what a handle holds). */
const procFds = () => countFds((link) => link.startsWith("/proc/"));

test("256 handles open at once, queried round-robin, each answers for its own process", () => {
  const fds = procFds();
  const handles = Array.from(
    { length: 256 },
    (_, i) => ProcMaps.open(i % 3 === 2 ? other.pid : mapper.pid, { backend: BACKENDS[i % BACKENDS.length] }),
  );
  try {
    // Each handle holds its /proc/<pid> directory and its maps.
    assert.equal(procFds(), fds + 2 * 256);
    const rng = new Rng(SEED);
    for (const addr of [...addresses(rng, count(40, 2_000)), ...otherRows.map((r) => r.start)]) {
      for (const h of handles) {
        const want = expectedQuery(h.pid === other.pid ? otherRows : rows, addr);
        const got = h.query(addr);
        assert.deepEqual(got && fields(got), want && fields(want), `0x${addr.toString(16)} via ${h.backend}`);
      }
    }
  } finally {
    for (const h of handles) h.close();
  }
  assert.equal(procFds(), fds);
});

for (const backend of BACKENDS) {
  test(`${backend}: several async and sync iterations interleaved on one handle each see the whole map`, async () => {
    using maps = ProcMaps.open(mapper.pid, { backend });
    const its: (Iterator<Vma> | AsyncIterator<Vma>)[] = [];
    for (const f of FILTERS) {
      its.push(maps.vmas(f));
      its.push(maps.vmasSync(f));
    }
    const results = await interleave(its);
    FILTERS.forEach((f, i) => {
      const want = expectedWalk(rows, f).map(fields);
      assert.deepEqual(results[2 * i].map(fields), want, `async ${JSON.stringify(f)}`);
      assert.deepEqual(results[2 * i + 1].map(fields), want, `sync ${JSON.stringify(f)}`);
    });
  });

  test(`${backend}: queries and nested walks inside a for await loop do not disturb it or earlier results`, async () => {
    using maps = ProcMaps.open(mapper.pid, { backend });
    const rng = new Rng(SEED + 1);
    const seen: { vma: Vma; frozen: string }[] = [];
    for await (const v of maps.vmas({ buildId: true })) {
      seen.push({ vma: v, frozen: snapshot(v) });
      // Queries of every kind on the same handle while the loop is suspended here.
      for (const addr of addresses(rng, 20)) {
        const f = rng.pick(FILTERS);
        const got = maps.query(addr, { ...f, buildId: rng.chance(0.3), name: rng.chance(0.8) });
        const want = expectedQuery(rows, addr, f);
        assert.deepEqual(
          got && [got.start, got.end, got.perms],
          want && [want.start, want.end, want.perms],
          `0x${addr.toString(16)} ${JSON.stringify(f)}`,
        );
        if (got) seen.push({ vma: got, frozen: snapshot(got) });
      }
      // The VMAs with the longest names (the ioctl grows its name buffer, or reads the text).
      for (const key of ["long", "overlong"] as const) {
        const r = mapper.info[key]!;
        assert.equal(maps.query(BigInt(r.start))?.name, r.path);
      }
      if (seen.length % 7 === 0) assert.deepEqual([...maps.vmasSync()].map(fields), rows.map(fields), "nested walk");
    }
    for (const s of seen) assert.equal(snapshot(s.vma), s.frozen, "a result changed after it was returned");
  });

  test(`${backend}: results of many queries stay as returned after thousands more (seed ${SEED})`, () => {
    using maps = ProcMaps.open(mapper.pid, { backend });
    const rng = new Rng(SEED + 2);
    const kept: { vma: Vma; frozen: string; addr: bigint }[] = [];
    for (const addr of addresses(rng, count(5_000, 200_000))) {
      const v = maps.query(addr, { coveringOrNext: true, buildId: rng.chance(0.1) });
      if (v && rng.chance(0.2)) kept.push({ vma: v, frozen: snapshot(v), addr });
    }
    for (const k of kept) {
      assert.equal(snapshot(k.vma), k.frozen);
      assert.equal(k.vma.start, expectedQuery(rows, k.addr, { coveringOrNext: true })?.start);
    }
  });
}

test("32 handles iterated concurrently with Promise.all each equal the ground truth", async () => {
  const handles = Array.from(
    { length: 32 },
    (_, i) => ProcMaps.open(mapper.pid, { backend: BACKENDS[i % BACKENDS.length] }),
  );
  try {
    const collect = async (h: ProcMaps, f: Filters) => {
      const out: Vma[] = [];
      for await (const v of h.vmas(f)) {
        out.push(v);
        if (out.length % 5 === 0) await new Promise((r) => setTimeout(r, 0)); // let the others run
      }
      return out;
    };
    const results = await Promise.all(handles.map((h, i) => collect(h, FILTERS[i % FILTERS.length])));
    results.forEach((r, i) => {
      assert.deepEqual(r.map(fields), expectedWalk(rows, FILTERS[i % FILTERS.length]).map(fields), `handle ${i}`);
    });
  } finally {
    for (const h of handles) h.close();
  }
});
