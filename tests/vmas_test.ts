/**
 * Iteration against the kernel's text maps read at the same moment, for this
 * process and for a child with awkward mappings, with each backend.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { BACKENDS } from "./helpers/backends.ts";
import { ProcMaps, type Vma } from "../mod.ts";
import { atSameMoment, expectedWalk, fields, FILTER_SETS } from "./helpers/ground_truth.ts";
import { type MapperInfo, type Started, startMapper } from "./helpers/child.ts";

let mapper: Started<MapperInfo>;
before(async () => {
  mapper = await startMapper(true);
});
after(() => mapper.stop());

for (const backend of BACKENDS) {
  test(`${backend}: vmasSync() of this process equals its text maps`, () => {
    using maps = ProcMaps.open("self", { backend });
    const { rows, result } = atSameMoment("self", () => [...maps.vmasSync()]);
    assert.deepEqual(result.map(fields), rows.map(fields));
  });

  test(`${backend}: vmasSync() of a child equals its text maps, all fields`, () => {
    using maps = ProcMaps.open(mapper.pid, { backend });
    const { rows, result } = atSameMoment(mapper.pid, () => [...maps.vmasSync()]);
    assert.deepEqual(result.map(fields), rows.map(fields));
    // Spot checks that the comparison covered the awkward names.
    const names = new Set(result.map((v) => v.name));
    assert.ok(names.has(mapper.info.spaces.path!));
    assert.ok(names.has(mapper.info.newline.path!));
    assert.ok(names.has(mapper.info.odd.path!), "tab, backslash and trailing spaces kept");
    assert.ok(names.has(mapper.info.deleted.path + " (deleted)"));
    assert.ok(names.has(mapper.info.overlong!.path!), "a name longer than PATH_MAX");
    assert.ok(names.has("/memfd:procmap-test (deleted)"));
    assert.ok(names.has("/dev/zero (deleted)"));
  });

  test(`${backend}: for await vmas() equals vmasSync()`, async () => {
    using maps = ProcMaps.open(mapper.pid, { backend });
    const asyncList: Vma[] = [];
    for await (const v of maps.vmas()) asyncList.push(v);
    assert.deepEqual(asyncList, [...maps.vmasSync()]);
  });

  for (const f of FILTER_SETS) {
    test(`${backend}: vmasSync(${JSON.stringify(f)}) equals the filtered text maps`, () => {
      using maps = ProcMaps.open(mapper.pid, { backend });
      const { rows, result } = atSameMoment(mapper.pid, () => [...maps.vmasSync(f)]);
      const expected = expectedWalk(rows, f);
      assert.ok(expected.length > 0, "the child has VMAs of this kind");
      assert.deepEqual(result.map(fields), expected.map(fields));
    });
  }

  test(`${backend}: from/to bound the iteration`, () => {
    using maps = ProcMaps.open(mapper.pid, { backend });
    const all = [...maps.vmasSync()];
    const from = BigInt(mapper.info.memfd.start) + 1n; // inside a VMA: that VMA is included
    const to = BigInt(mapper.info.guarded.end);
    const part = [...maps.vmasSync({ from, to })];
    assert.deepEqual(part, all.filter((v) => v.end > from && v.start < to));
    assert.equal(part[0].start, BigInt(mapper.info.memfd.start));
  });

  test(`${backend}: name: false leaves names undefined, buildId: true adds build IDs`, () => {
    using maps = ProcMaps.open(mapper.pid, { backend });
    for (const v of maps.vmasSync({ name: false })) assert.equal(v.name, undefined);
    const withIds = [...maps.vmasSync({ buildId: true })];
    const mapperBin = withIds.filter((v) => v.name?.includes("procmap-test-bin/mapper"));
    assert.ok(mapperBin.length > 0);
    for (const v of mapperBin) assert.match(v.buildId ?? "", /^[0-9a-f]{40}$/);
    for (const v of withIds.filter((v) => v.inode === 0n)) assert.equal(v.buildId, undefined);
  });

  test(`${backend}: break stops the iteration and the handle stays usable`, async () => {
    using maps = ProcMaps.open(mapper.pid, { backend });
    let n = 0;
    for await (const _ of maps.vmas()) if (++n === 3) break;
    assert.equal(n, 3);
    assert.ok(maps.query(BigInt(mapper.info.spaces.start)));
  });

  test(`${backend}: an aborted signal stops the async iteration with its reason`, async () => {
    using maps = ProcMaps.open(mapper.pid, { backend });
    const ac = new AbortController();
    let n = 0;
    await assert.rejects(async () => {
      for await (const _ of maps.vmas({ signal: ac.signal })) if (++n === 2) ac.abort(new Error("enough"));
    }, /enough/);
    assert.equal(n, 2);
    assert.throws(() => maps.vmas({ signal: ac.signal }), /enough/);
  });
}

test("vmasSync() stops at the next step once its signal is aborted", () => {
  using maps = ProcMaps.open(mapper.pid);
  const ac = new AbortController();
  const it = maps.vmasSync({ signal: ac.signal });
  assert.equal(it.next().done, false);
  ac.abort(new Error("no more"));
  assert.throws(() => it.next(), /no more/);
  assert.equal(it.next().done, true);
});
