/**
 * resolveTable() and resolve(): the columns and the objects say the same
 * thing, and both equal a per-address answer (query() for the VMA, and the
 * address resolved alone), over many random address sets (mapped,
 * unmapped, edges, kernel and garbage values, duplicates, numbers, a
 * BigUint64Array) on live idle processes, every backend and strategy.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  MAPPING_KINDS,
  PERM,
  ProcMaps,
  RESOLVE_REASONS,
  type Resolved,
  ResolvedTable,
  type ResolvePlan,
  type ResolveReason,
  Vma,
} from "../mod.ts";
import { toBatch } from "../src/resolve/batch.ts";
import { type Finished, resolvedAt, type Shifted } from "../src/resolve/resolve.ts";
import { resolvedObjects } from "../src/resolve/objects.ts";
import { readRows, type Row } from "./helpers/ground_truth.ts";
import { asleepIn, type MapperInfo, type Started, startMapper } from "./helpers/child.ts";
import { BACKENDS, IOCTL_SKIP } from "./helpers/backends.ts";
import { Rng } from "./helpers/rng.ts";

let mapper: Started<MapperInfo>;
let sleeper: ReturnType<typeof spawn>;
before(async () => {
  mapper = await startMapper();
  sleeper = spawn("sleep", ["300"], { stdio: "ignore" });
  await asleepIn(sleeper, "sleep"); // its map whole (Deno and Bun spawn asynchronously: it may not have exec'd yet)
});
after(async () => {
  sleeper.kill();
  await mapper.stop();
});

/** Random addresses over `rows`: inside, at the edges, in gaps, kernel and garbage values, duplicates, numbers. */
function randomAddresses(rng: Rng, rows: Row[], n: number): (bigint | number)[] {
  const odd = [0n, 1n, 0xffffffffff600000n, 0xffffffffff600fffn, 2n ** 64n - 1n, 2n ** 53n, 0xffffffff81000000n];
  const out: (bigint | number)[] = [];
  while (out.length < n) {
    const r = rows[rng.int(rows.length)];
    let a: bigint;
    switch (rng.int(8)) {
      case 0:
        a = r.start;
        break;
      case 1:
        a = r.end - 1n;
        break;
      case 2:
        a = r.end;
        break;
      case 3:
        a = r.start - 1n - rng.below(8192n);
        break;
      case 4:
        a = rng.below(1n << 64n);
        break;
      case 5:
        a = odd[rng.int(odd.length)];
        break;
      default:
        a = r.start + rng.below(r.end - r.start);
    }
    out.push(a > 0n && a < 2n ** 53n && rng.int(5) === 0 ? Number(a) : a);
    if (rng.int(8) === 0) out.push(out[rng.int(out.length)]);
  }
  return rng.shuffle(out.slice(0, n));
}

/** Checks the table's columns against the objects of resolve(). */
function checkTable(t: ResolvedTable, input: (bigint | number)[], objects: (Resolved | null)[], where: string) {
  assert.equal(t.inputLength, input.length, where);
  const rowOf = new Map<bigint, number>();
  for (let i = 0; i < input.length; i++) {
    const a = BigInt(input[i]);
    const r = t.index[i];
    assert.equal(t.addr[r], a, `${where}: addr of row ${r}`);
    if (rowOf.has(a)) assert.equal(rowOf.get(a), r, `${where}: equal addresses share a row`);
    rowOf.set(a, r);
    const o = objects[i];
    assert.deepEqual(t.at(i), o, `${where}: at(${i})`);
    if (o === null) {
      assert.equal(t.vma[r], -1, where);
      assert.equal(t.kind[r], 0, where);
      continue;
    }
    const v = t.vma[r];
    assert.equal(t.vmas.find(a), v, `${where}: vmas.find()`);
    assert.equal(t.vmas.start[v], o.vma.start, where);
    assert.equal(t.vmas.end[v], o.vma.end, where);
    assert.equal(t.vmas.name(v), o.name, where);
    assert.equal(t.vmas.buildId(v), o.buildId, where);
    assert.equal(MAPPING_KINDS[t.kind[r]], o.kind, where);
    assert.equal(RESOLVE_REASONS[t.reason[r]], o.reason, where);
    assert.equal(t.fileOffsetAt(r), o.fileOffset, where);
    assert.equal(t.elfAddrAt(r), o.elfAddr, where);
    assert.equal(t.fileOffset[r], o.fileOffset ?? 0n, where);
    assert.equal(t.elfAddr[r], o.elfAddr ?? 0n, where);
  }
  assert.equal(rowOf.size, t.length, `${where}: one row per distinct address`);
  for (let v = 1; v < t.vmas.length; v++) assert.ok(t.vmas.start[v - 1] < t.vmas.start[v], `${where}: vmas in order`);
}

const STRATEGIES = IOCTL_SKIP ? (["auto", "text"] as const) : (["auto", "ioctl", "text"] as const);

test("resolveTable() and resolve() agree with each other and with each address alone, on live processes", () => {
  const rng = new Rng(20261207);
  let checked = 0;
  for (const pid of [mapper.pid, sleeper.pid!]) {
    const rows = readRows(pid);
    for (const backend of BACKENDS) {
      using maps = ProcMaps.open(pid, { backend });
      for (let round = 0; round < 12; round++) {
        const input = randomAddresses(rng, rows, [1, 7, 60, 400, 2500][rng.int(5)]);
        const strategy = backend === "text" ? "auto" : STRATEGIES[rng.int(STRATEGIES.length)];
        const opts = [{ strategy }, { strategy, buildId: false }, { strategy, elfAddr: false }][rng.int(3)];
        const where = `pid ${pid}, ${backend}, ${JSON.stringify(opts)}, round ${round}`;
        const objects = maps.resolve(input, opts);
        // Equal addresses share one object.
        const first = new Map<bigint, Resolved | null>();
        input.forEach((a, i) => {
          const k = BigInt(a);
          if (first.has(k)) assert.equal(objects[i], first.get(k), where);
          else first.set(k, objects[i]);
        });
        checkTable(maps.resolveTable(input, opts), input, objects, where);
        // A BigUint64Array gives the same.
        const big = BigUint64Array.from(input.map(BigInt));
        assert.deepEqual(maps.resolve(big, opts), objects, `${where}: BigUint64Array`);
        // Each address alone (no batch to share), and query() for its VMA.
        for (let k = 0; k < Math.min(input.length, 40); k++) {
          const i = rng.int(input.length);
          const [alone] = maps.resolve([input[i]], opts);
          assert.deepEqual(objects[i], alone, `${where}: 0x${BigInt(input[i]).toString(16)} alone`);
          const vma = maps.query(BigInt(input[i]));
          assert.equal(objects[i]?.vma.start, vma?.start, where);
          assert.equal(objects[i]?.vma.end, vma?.end, where);
          checked++;
        }
      }
    }
  }
  assert.ok(checked > 500, `${checked} addresses checked alone`);
});

test("resolveTable(): empty input, a repeated address, and its accessors' edges", () => {
  using maps = ProcMaps.open(mapper.pid);
  const empty = maps.resolveTable([]);
  assert.equal(empty.length, 0);
  assert.equal(empty.inputLength, 0);
  assert.deepEqual(empty.toArray(), []);
  assert.equal(empty.vmas.length, 0);
  const a = BigInt(mapper.info.spaces.start);
  const t = maps.resolveTable(new BigUint64Array([a, a, a + 1n, a]));
  assert.equal(t.length, 2);
  assert.deepEqual([...t.index], [0, 0, 1, 0]);
  assert.equal(t.at(0), t.at(3));
  assert.equal(t.at(-1), t.at(0));
  assert.equal(t.at(4), undefined);
  assert.throws(() => t.at(0.5), TypeError);
  assert.throws(() => t.rowAt(2), RangeError);
  assert.equal(t.fileOffsetAt(5), undefined);
  assert.equal(t.vmas.length, 1);
  assert.equal(t.kindAt(0), "file");
  assert.equal(t.plan.uniqueAddresses, 2);
  assert.throws(() => maps.resolveTable([1n, -1n]), /address \[1\]/);
  assert.throws(() => maps.resolveTable(5n as never), TypeError);
});

test("resolveTable(): a batch of mostly repeats gets columns of its own, the same answers", () => {
  using maps = ProcMaps.open(mapper.pid);
  const rows = readRows(mapper.pid);
  const few = [rows[0].start, rows[1].start + 8n, 0xffffffffff600000n, 5n];
  const input = Array.from({ length: 400 }, (_, i) => few[i % few.length]);
  const t = maps.resolveTable(input);
  assert.equal(t.length, few.length);
  assert.equal(t.addr.buffer.byteLength < 40 * few.length, true, "the rows' columns are sized to the rows");
  checkTable(t, input, maps.resolve(input), "repeats");
});

test("ResolvedTable: values past 2^53 (and past 2^64, from a lying ELF header) take the exact route", () => {
  const vma = new Vma(0x1000n, 0x3000n, PERM.read | PERM.exec, 0x10n, 8, 1, 42n, 4096, "/lies", undefined);
  const f = (delta: bigint, shift: bigint): Finished => ({
    vma,
    kind: "file",
    name: "/lies",
    buildId: undefined,
    delta,
    segments: [{ offset: 0n, end: 2n ** 64n + 0x10000n, shift }],
    why: undefined,
  });
  const batch = toBatch([0x1000n, 0x2000n, 0x1008n]);
  batch.entry.set([0, 1, 0]);
  const plan = { strategy: "ioctl", uniqueAddresses: 3 } as ResolvePlan;
  const t = new ResolvedTable({
    batch,
    entryOf: batch.entry,
    finished: [f(-0xff0n, 2n ** 63n), f(2n ** 64n - 0x1000n, 0n)],
    plan,
  });
  // Row 0: file offset 0x10, ELF address 2^63 + 0x10 (past 2^53: a bigint route, exact in the column).
  assert.equal(t.fileOffsetAt(0), 0x10n);
  assert.equal(t.elfAddrAt(0), 2n ** 63n + 0x10n);
  assert.equal(t.elfAddr[0], 2n ** 63n + 0x10n);
  assert.equal(t.at(0)!.elfAddr, 2n ** 63n + 0x10n);
  // Row 1: file offset 2^64 + 0x1000 does not fit 64 bits: the accessors and the object keep it exact.
  assert.equal(t.fileOffsetAt(1), 2n ** 64n + 0x1000n);
  assert.equal(t.at(1)!.fileOffset, 2n ** 64n + 0x1000n);
  assert.equal(t.at(1)!.elfAddr, 2n ** 64n + 0x1000n);
  assert.equal(t.reasonAt(1), undefined);
  assert.equal(t.at(2)!.elfAddr, 2n ** 63n + 0x18n);
});

test("resolve()'s objects straight from a batch equal the table's rows and resolvedAt(), on every route", () => {
  const vma = new Vma(0x1000n, 0x3000n, PERM.read | PERM.exec, 0x10n, 8, 1, 42n, 4096, "/f", undefined);
  const high = new Vma(2n ** 52n, 2n ** 52n + 0x2000n, PERM.read | PERM.exec, 0x0n, 8, 1, 43n, 4096, "/g", undefined);
  const anon = new Vma(0x8000n, 0x9000n, PERM.read | PERM.write, 0n, 0, 0, 0n, 4096, undefined, undefined);
  const file = (v: Vma, segments: Shifted[] | null, why?: ResolveReason): Finished => ({
    vma: v,
    kind: "file",
    name: v.name!,
    buildId: "ab",
    delta: v.offset - v.start,
    segments,
    why,
  });
  const finished: Finished[] = [
    // One segment whose shift is 0 (a library's code), and one whose is not; the file's bytes from 0x40.
    file(vma, [{ offset: 0x40n, end: 0x1800n, shift: 0n }]),
    file(vma, [{ offset: 0x40n, end: 0x1800n, shift: 0x400000n }]),
    // No segment check (elfAddr: false), no segment at all, and no ELF headers.
    file(vma, null, "not-requested"),
    file(vma, [], undefined),
    file(vma, null, "no-elf-headers"),
    // Past 2^52: the bigint route.
    file(high, [{ offset: 0n, end: 0x2000n, shift: 0x10n }]),
    // Past 2^52 by its delta (a lying offset): the bigint route too.
    file(new Vma(0x1000n, 0x3000n, PERM.read, 2n ** 60n, 8, 1, 44n, 4096, "/h", undefined), [{
      offset: 0n,
      end: 2n ** 61n,
      shift: 5n,
    }]),
    { vma: anon, kind: "anonymous", name: "", buildId: undefined, delta: undefined, segments: null, why: "anonymous" },
  ];
  // Offsets into each VMA: inside the segment, at its edges, before and past it (file offset = 0x10 + offset).
  const offsets = [0n, 0x30n, 0x100n, 0x17efn, 0x17f0n, 0x1fffn, 0x234n];
  const entries = [0, 1, 2, 3, 4, 5, 6, 7, -1];
  for (let round = 0; round < entries.length; round++) {
    // Distinct address r in the VMA of entry (r + round) (-1: unmapped, at 0x5000), then a repeat of the first.
    const entryOf = offsets.map((_, r) => entries[(r + round) % entries.length]);
    const addrs = offsets.map((off, r) => {
      const e = entryOf[r];
      return e < 0 ? 0x5000n + off : finished[e].vma.start + (off % (finished[e].vma.end - finished[e].vma.start));
    });
    addrs.push(addrs[0]);
    for (const input of [addrs, BigUint64Array.from(addrs)]) {
      const batch = toBatch(input);
      assert.equal(batch.count, offsets.length);
      batch.entry.set(entryOf);
      const objects = resolvedObjects(batch, finished);
      const where = `round ${round}, ${input instanceof BigUint64Array ? "BigUint64Array" : "bigints"}`;
      assert.equal(objects.length, addrs.length, where);
      assert.equal(objects[addrs.length - 1], objects[0], `${where}: equal addresses share one object`);
      const t = new ResolvedTable({
        batch: toBatchWith(input, batch.entry),
        entryOf: batch.entry,
        finished,
        plan: { strategy: "ioctl", uniqueAddresses: offsets.length } as ResolvePlan,
      });
      for (let i = 0; i < addrs.length; i++) {
        const e = batch.entry[batch.slot[i]];
        assert.deepEqual(objects[i], t.at(i), `${where}: input ${i} against the table's row`);
        assert.deepEqual(objects[i], e < 0 ? null : resolvedAt(finished[e], addrs[i]), `${where}: input ${i}`);
        assert.deepEqual({ ...objects[i] }, { ...t.at(i) }, `${where}: input ${i}, spread`);
      }
    }
  }
});

/** A fresh batch of `input` with the entries given (a table fills and renumbers its own). */
function toBatchWith(input: bigint[] | BigUint64Array, entry: Int32Array) {
  const b = toBatch(input);
  b.entry.set(entry.subarray(0, b.count));
  return b;
}
