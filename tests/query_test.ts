/**
 * Point queries against a child with known mappings: inside, at the first
 * and last byte, in gaps, with each filter, for both backends. Expected
 * answers come from the child's text maps and the kernel's matching rules.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { BACKENDS } from "./helpers/backends.ts";
import { ProcMaps } from "../mod.ts";
import { expectedQuery, fields, type Filters, readRows, type Row } from "./helpers/ground_truth.ts";
import { type MapperInfo, type Started, startMapper } from "./helpers/child.ts";

let mapper: Started<MapperInfo>;
let rows: Row[];
before(async () => {
  mapper = await startMapper(true);
  rows = readRows(mapper.pid);
});
after(() => mapper.stop());

const hex = (s: string) => BigInt(s);

/** Interesting addresses: each region's first and last byte, its middle, the gap before it. */
function probes(info: MapperInfo): bigint[] {
  const out: bigint[] = [];
  for (const [key, r] of Object.entries(info)) {
    if (typeof r !== "object" || key === "arena") continue;
    const s = hex(r.start), e = hex(r.end);
    out.push(s, e - 1n, (s + e) / 2n, s - 1n, s - 4096n, e);
  }
  out.push(0n, 1n, hex(info.arena.start), hex(info.arena.end) - 1n, 0x7fffffffffffn, 0xffffffffffffffffn);
  return out;
}

const FILTERS: Filters[] = [
  {},
  { coveringOrNext: true },
  { readable: true },
  { writable: true },
  { executable: true },
  { shared: true },
  { fileBacked: true },
  { coveringOrNext: true, executable: true },
  { coveringOrNext: true, shared: true },
  { coveringOrNext: true, fileBacked: true },
  { coveringOrNext: true, writable: true, shared: true },
  { readable: true, writable: true, executable: true },
];

for (const backend of BACKENDS) {
  for (const f of FILTERS) {
    test(`${backend}: query(${JSON.stringify(f)}) at region edges and gaps matches the kernel's rules`, () => {
      using maps = ProcMaps.open(mapper.pid, { backend });
      let found = 0, missing = 0;
      for (const addr of probes(mapper.info)) {
        const want = expectedQuery(rows, addr, f);
        const got = maps.query(addr, f);
        assert.deepEqual(got && fields(got), want && fields(want), `address 0x${addr.toString(16)}`);
        if (want) found++;
        else missing++;
      }
      assert.ok(found > 0 && (missing > 0 || f.coveringOrNext), "probes hit both VMAs and misses");
    });
  }

  test(`${backend}: known mappings have the expected properties`, () => {
    using maps = ProcMaps.open(mapper.pid, { backend });
    const at = (r: { start: string }) => maps.query(hex(r.start))!;
    const i = mapper.info;

    const spaces = at(i.spaces);
    assert.equal(spaces.name, i.spaces.path);
    assert.equal(spaces.perms, "r--p");
    assert.equal(spaces.offset, 4096n, "mapped from the file's second page");
    assert.equal(spaces.end - spaces.start, 3n * 4096n);
    assert.ok(spaces.inode > 0n && spaces.fileBacked);

    assert.equal(at(i.odd).name, i.odd.path, "tab, backslash, trailing spaces verbatim");
    assert.equal(at(i.odd).perms, "r-xp");
    assert.equal(at(i.newline).name, i.newline.path, "newline unescaped");
    assert.equal(at(i.deleted).name, `${i.deleted.path} (deleted)`);
    assert.equal(at(i.long!).name, i.long!.path, "name longer than the first buffer");
    assert.equal(at(i.overlong!).name, i.overlong!.path, "name longer than PATH_MAX");
    assert.ok(i.overlong!.path!.length > 4096);

    const memfd = at(i.memfd);
    assert.equal(memfd.name, "/memfd:procmap-test (deleted)");
    assert.equal(memfd.perms, "rw-s");
    assert.ok(memfd.shared && memfd.fileBacked);

    const shm = at(i.sharedAnon);
    assert.equal(shm.name, "/dev/zero (deleted)");
    assert.ok(shm.shared && shm.fileBacked);

    const g = hex(i.guarded.start);
    assert.equal(maps.query(g)!.perms, "rw-p");
    assert.equal(maps.query(g + 4096n)!.perms, "---p", "the PROT_NONE guard is its own VMA");
    assert.equal(maps.query(g + 4096n, { readable: true }), null);
    assert.equal(maps.query(g + 4096n, { readable: true, coveringOrNext: true })!.start, g + 8192n);
    assert.equal(maps.query(g + 8192n)!.perms, "rw-p");
    assert.equal(maps.query(g)!.name, "");

    const w = maps.query(hex(i.writeOnly.start))!;
    assert.equal(w.perms, "-w-p");
    assert.ok(!w.readable && w.writable && !w.fileBacked);

    // The unmapped page before each region is a gap.
    assert.equal(maps.query(hex(i.memfd.start) - 1n), null);
    assert.equal(maps.query(hex(i.memfd.start) - 1n, { coveringOrNext: true })!.start, hex(i.memfd.start));
    assert.equal(maps.query(hex(i.memfd.end)), null);
  });

  test(`${backend}: name: false skips the name, the rest is unchanged`, () => {
    using maps = ProcMaps.open(mapper.pid, { backend });
    const a = hex(mapper.info.spaces.start);
    const withName = maps.query(a)!;
    const without = maps.query(a, { name: false })!;
    assert.equal(without.name, undefined);
    assert.deepEqual({ ...without, name: withName.name }, { ...withName });
  });

  test(`${backend}: numbers that are safe integers work like bigints`, () => {
    using maps = ProcMaps.open(mapper.pid, { backend });
    const a = hex(mapper.info.spaces.start) + 5n;
    assert.deepEqual(maps.query(Number(a)), maps.query(a));
  });
}
