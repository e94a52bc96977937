/**
 * maps.table(): the columnar walk, against the kernel's text maps read at
 * the same moment and against vmasSync(), for each backend, on a child with
 * awkward mappings (names with spaces, newlines, over PATH_MAX, deleted
 * files, memfd, the gate area).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { BACKENDS } from "./helpers/backends.ts";
import { PERM, ProcMaps, type Vma, VmaTable } from "../mod.ts";
import { atSameMoment, expectedQuery, expectedWalk, fields, FILTER_SETS } from "./helpers/ground_truth.ts";
import { type MapperInfo, type Started, startMapper } from "./helpers/child.ts";

let mapper: Started<MapperInfo>;
before(async () => {
  mapper = await startMapper(true);
});
after(() => mapper.stop());

/** Every row of `t` as a Vma, checking that each column says what at(i) says. */
function rowsOf(t: VmaTable): Vma[] {
  const out: Vma[] = [];
  for (let i = 0; i < t.length; i++) {
    const v = t.at(i)!;
    assert.equal(t.start[i], v.start);
    assert.equal(t.end[i], v.end);
    assert.equal(t.offset[i], v.offset);
    assert.equal(t.inode[i], v.inode);
    assert.equal(t.flags[i], v.flags);
    assert.equal(t.devMajor[i], v.devMajor);
    assert.equal(t.devMinor[i], v.devMinor);
    assert.equal(t.pageSize[i], v.pageSize);
    assert.equal(t.name(i), v.name);
    assert.equal(t.buildId(i), v.buildId);
    out.push(v);
  }
  return out;
}

for (const backend of BACKENDS) {
  test(`${backend}: table() of a child equals its text maps, all fields`, () => {
    using maps = ProcMaps.open(mapper.pid, { backend });
    const { rows, result } = atSameMoment(mapper.pid, () => maps.table());
    assert.ok(result instanceof VmaTable);
    assert.equal(result.length, rows.length);
    assert.deepEqual(rowsOf(result).map(fields), rows.map(fields));
    const names = new Set(rowsOf(result).map((v) => v.name));
    assert.ok(names.has(mapper.info.newline.path!), "a name with a newline");
    assert.ok(names.has(mapper.info.overlong!.path!), "a name longer than PATH_MAX (the ioctl's slow path)");
    assert.ok(names.has(mapper.info.deleted.path + " (deleted)"));
  });

  test(`${backend}: table() equals vmasSync() with the same options`, () => {
    using maps = ProcMaps.open(mapper.pid, { backend });
    const all = [...maps.vmasSync()];
    const from = BigInt(mapper.info.memfd.start) + 1n;
    const to = BigInt(mapper.info.guarded.end);
    const sets = [
      {},
      { name: false },
      { buildId: true },
      { from, to },
      { from: all[3].end },
      { to: all[5].start },
      { to: all[5].start + 1n },
      { from: 0xffffffffffffffffn },
      { executable: true, from },
    ];
    for (const opts of sets) {
      const { rows, result } = atSameMoment(mapper.pid, () => ({ t: maps.table(opts), v: [...maps.vmasSync(opts)] }));
      assert.deepEqual(rowsOf(result.t), result.v, JSON.stringify(opts, (_, x) => typeof x === "bigint" ? `${x}` : x));
      assert.ok(rows.length > 0);
    }
  });

  for (const f of FILTER_SETS) {
    test(`${backend}: table(${JSON.stringify(f)}) equals the filtered text maps`, () => {
      using maps = ProcMaps.open(mapper.pid, { backend });
      const { rows, result } = atSameMoment(mapper.pid, () => maps.table(f));
      const expected = expectedWalk(rows, f);
      assert.ok(expected.length > 0, "the child has VMAs of this kind");
      assert.deepEqual(rowsOf(result).map(fields), expected.map(fields));
    });
  }

  test(`${backend}: names are de-duplicated, name: false has none, buildId: true has readelf's IDs`, () => {
    using maps = ProcMaps.open(mapper.pid, { backend });
    const t = maps.table();
    assert.ok(t.names && t.nameIndex);
    assert.equal(new Set(t.names).size, t.names.length, "each distinct name once");
    assert.ok(t.names.length < t.length, "VMAs of one file share a name");
    for (let i = 0; i < t.length; i++) assert.equal(t.names[t.nameIndex[i]], t.name(i));
    const bare = maps.table({ name: false });
    assert.equal(bare.names, undefined);
    assert.equal(bare.nameIndex, undefined);
    assert.equal(bare.name(0), undefined);
    assert.equal(bare.at(0)!.name, undefined);
    const ids = maps.table({ buildId: true });
    const bin = rowsOf(ids).filter((v) => v.name?.includes("procmap-test-bin/mapper"));
    assert.ok(bin.length > 0);
    for (const v of bin) assert.match(v.buildId ?? "", /^[0-9a-f]{40}$/);
  });

  test(`${backend}: find() is the covering row, as the text maps say`, () => {
    using maps = ProcMaps.open(mapper.pid, { backend });
    const { rows, result: t } = atSameMoment(mapper.pid, () => maps.table());
    const probes = new Set<bigint>([0n, 1n, 0xffffffffffffffffn]);
    for (const r of rows) for (const a of [r.start - 1n, r.start, r.start + 1n, r.end - 1n, r.end]) probes.add(a);
    for (const a of probes) {
      if (a < 0n) continue;
      const want = expectedQuery(rows, a);
      const row = t.find(a);
      assert.deepEqual(row < 0 ? null : fields(t.at(row)!), want && fields(want), `0x${a.toString(16)}`);
    }
    assert.equal(t.find(Number(rows[1].start)), 1);
    assert.throws(() => t.find(-1), RangeError);
    assert.throws(() => t.find(1.5), RangeError);
    assert.throws(() => t.find(2n ** 64n), RangeError);
    assert.throws(() => t.find("0x1000" as unknown as bigint), TypeError);
  });

  test(`${backend}: at() counts from the end for negative rows; iteration gives every row`, () => {
    using maps = ProcMaps.open(mapper.pid, { backend });
    const t = maps.table();
    assert.deepEqual(t.at(-1), t.at(t.length - 1));
    assert.equal(t.at(t.length), undefined);
    assert.equal(t.at(-t.length - 1), undefined);
    assert.throws(() => t.at(0.5), TypeError);
    assert.deepEqual([...t], rowsOf(t));
    assert.equal(t.flags[0] & ~(PERM.read | PERM.write | PERM.exec | PERM.shared), 0);
  });

  test(`${backend}: table() refuses bad options and an aborted signal, and a closed handle`, () => {
    const maps = ProcMaps.open(mapper.pid, { backend });
    assert.throws(() => maps.table({ bogus: true } as never), TypeError);
    assert.throws(() => maps.table({ name: "yes" } as never), TypeError);
    assert.throws(() => maps.table({ from: -1 }), RangeError);
    const ac = new AbortController();
    ac.abort(new Error("stop"));
    assert.throws(() => maps.table({ signal: ac.signal }), /stop/);
    maps.close();
    assert.throws(() => maps.table(), (e: Error & { code?: string }) => e.code === "EBADF");
  });
}

test("Vma.flags holds the permission bits the derived fields read", () => {
  using maps = ProcMaps.open(mapper.pid);
  for (const v of maps.vmasSync()) {
    assert.equal(v.readable, (v.flags & PERM.read) !== 0);
    assert.equal(v.writable, (v.flags & PERM.write) !== 0);
    assert.equal(v.executable, (v.flags & PERM.exec) !== 0);
    assert.equal(v.shared, (v.flags & PERM.shared) !== 0);
    assert.equal(
      v.perms,
      (v.readable ? "r" : "-") + (v.writable ? "w" : "-") + (v.executable ? "x" : "-") + (v.shared ? "s" : "p"),
    );
  }
});
