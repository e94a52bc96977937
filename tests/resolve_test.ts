/**
 * resolve() against a brute-force answer: the kernel's text maps for the
 * VMA, `readelf -n` for build IDs and `readelf -lW` for PT_LOAD headers
 * (an ELF address where the file's load bias, from its lowest VMA, puts one
 * of them and the page maps that segment's bytes), on
 * a child with known mappings and 10,000 random addresses (mapped and
 * unmapped, duplicated, unsorted), for every strategy.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { realpathSync } from "node:fs";
import { ProcMaps, type Resolved } from "../mod.ts";
import { toBatch } from "../src/resolve/batch.ts";
import { fields, readRows, type Row } from "./helpers/ground_truth.ts";
import { compileC, type MapperInfo, startChild, type Started, startMapper } from "./helpers/child.ts";
import { haveReadelf, readelfBuildId } from "./helpers/elf_notes.ts";
import { IOCTL_SKIP } from "./helpers/backends.ts";
import { Rng } from "./helpers/rng.ts";

let mapper: Started<MapperInfo>;
let rows: Row[];
before(async () => {
  mapper = await startMapper();
  rows = readRows(mapper.pid);
});
after(() => mapper.stop());

interface Load {
  offset: bigint;
  vaddr: bigint;
  filesz: bigint;
  memsz: bigint;
}

/** PT_LOAD headers as `readelf -lW` prints them; null when readelf says it is not ELF. */
function readelfLoads(path: string): Load[] | null {
  const r = spawnSync("readelf", ["-lW", path], { encoding: "utf8" });
  if (r.status !== 0 || !/Program Headers:/.test(r.stdout)) return null;
  const loads: Load[] = [];
  const re = /^\s*LOAD\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)/gm;
  for (const m of r.stdout.matchAll(re)) {
    loads.push({ offset: BigInt(m[1]), vaddr: BigInt(m[2]), filesz: BigInt(m[3]), memsz: BigInt(m[4]) });
  }
  return loads;
}

/** Random addresses: inside VMAs (edges too), in gaps, far away; with duplicates. */
function randomAddresses(rng: Rng, rows: Row[], n: number): bigint[] {
  const out: bigint[] = [];
  while (out.length < n) {
    const r = rows[rng.int(rows.length)];
    const size = r.end - r.start;
    switch (rng.int(6)) {
      case 0:
        out.push(r.start);
        break;
      case 1:
        out.push(r.end - 1n);
        break;
      case 2:
        out.push(r.end); // often the next VMA's start, sometimes a gap
        break;
      case 3:
        out.push(r.start - 1n - rng.below(4096n));
        break;
      case 4:
        out.push(rng.below(1n << 47n));
        break;
      default:
        out.push(r.start + rng.below(size));
    }
    if (rng.int(10) === 0) out.push(out[rng.int(out.length)]); // duplicate
  }
  return rng.shuffle(out.slice(0, n));
}

const buildIds = new Map<string, string | undefined>();
function buildIdOf(path: string): string | undefined {
  if (!buildIds.has(path)) buildIds.set(path, readelfBuildId(path));
  return buildIds.get(path);
}

function bruteForce(addr: bigint, loadsOf: (p: string) => Load[] | null) {
  const r = rows.find((r) => addr >= r.start && addr < r.end);
  if (!r) return null;
  const fileBacked = r.inode !== 0n || r.devMajor !== 0 || r.devMinor !== 0;
  const onDisk = fileBacked && r.name.startsWith("/") && !r.name.endsWith(" (deleted)") &&
    !r.name.startsWith("/memfd:");
  const fileOffset = fileBacked ? addr - r.start + r.offset : undefined;
  let elfAddr: bigint | undefined;
  const loads = onDisk ? loadsOf(r.name) : null;
  if (fileOffset !== undefined && loads && loads.length) {
    // The loader puts the first segment's page at the file's lowest VMA (offset 0 here).
    const first = rows.find((o) => o.inode === r.inode && o.devMajor === r.devMajor && o.name === r.name);
    const bias = first!.start - (loads[0].vaddr & ~0xfffn);
    const vaddr = addr - bias;
    const l = loads.find((l) => vaddr >= l.vaddr && vaddr < l.vaddr + l.memsz);
    if (l && fileOffset === vaddr - l.vaddr + l.offset) elfAddr = vaddr;
  }
  return { row: r, fileOffset, elfAddr, buildId: onDisk ? buildIdOf(r.name) : undefined };
}

const strategies = IOCTL_SKIP ? (["auto", "text"] as const) : (["auto", "ioctl", "text"] as const);

test("resolve() of 10,000 random addresses equals the brute-force answer, for every strategy", {
  skip: haveReadelf ? false : "readelf is needed for the brute-force answer",
}, () => {
  const rng = new Rng(20261125);
  const addrs = randomAddresses(rng, rows, 10_000);
  const loadCache = new Map<string, Load[] | null>();
  const loadsOf = (p: string) => {
    if (!loadCache.has(p)) loadCache.set(p, readelfLoads(p));
    return loadCache.get(p)!;
  };
  const expected = addrs.map((a) => bruteForce(a, loadsOf));
  assert.ok(expected.some((e) => e === null) && expected.some((e) => e?.elfAddr !== undefined));

  const answers: (Resolved | null)[][] = [];
  for (const strategy of strategies) {
    using maps = ProcMaps.open(mapper.pid);
    const got = maps.resolve(addrs, { strategy });
    assert.equal(got.length, addrs.length);
    for (let i = 0; i < addrs.length; i++) {
      const want = expected[i], r = got[i];
      const where = `${strategy}: address 0x${addrs[i].toString(16)} (#${i})`;
      if (want === null) {
        assert.equal(r, null, where);
        continue;
      }
      assert.ok(r, where);
      assert.equal(r.addr, addrs[i], where);
      assert.deepEqual(fields(r.vma), fields(want.row), where);
      assert.equal(r.name, want.row.name, where);
      assert.equal(r.fileOffset, want.fileOffset, where);
      assert.equal(r.elfAddr, want.elfAddr, where);
      assert.equal(r.buildId, want.buildId, where);
      assert.equal(r.vma.buildId, r.buildId, where);
      assert.equal(r.reason === undefined, r.fileOffset !== undefined && r.elfAddr !== undefined, where);
    }
    answers.push(got);
  }
  // Identical across strategies, including kinds and reasons.
  for (const other of answers.slice(1)) assert.deepEqual(other, answers[0]);
});

test("resolve() reports what backs each known mapping", () => {
  using maps = ProcMaps.open(mapper.pid);
  const i = mapper.info;
  const at = (s: string, delta = 0n) => BigInt(s) + delta;
  const libc = rows.find((r) => /libc\.so/.test(r.name) && r.perms.includes("x"))!;
  const vdso = rows.find((r) => r.name === "[vdso]");
  const addrs = [
    at(i.spaces.start, 5n),
    at(i.deleted.start),
    at(i.memfd.start),
    at(i.sharedAnon.start),
    at(i.guarded.start),
    at(i.rwx.start),
    libc.start + 0x10n,
    at(i.spaces.start, -1n),
    ...(vdso ? [vdso.start] : []),
  ];
  const r = maps.resolve(addrs);
  assert.equal(r[0]!.kind, "file");
  assert.equal(r[0]!.fileOffset, 4096n + 5n, "addr - start + offset (mapped from offset 4096)");
  assert.equal(r[0]!.elfAddr, undefined);
  assert.equal(r[0]!.reason, "no-elf-headers", "a data file has no ELF headers");
  assert.match(r[0]!.reasonText!, /ELF/);
  assert.equal(r[1]!.kind, "deleted");
  assert.equal(r[1]!.fileOffset, 0n);
  assert.equal(r[2]!.kind, "memory-file");
  assert.equal(r[3]!.kind, "memory-file");
  assert.equal(r[4]!.kind, "anonymous");
  assert.equal(r[4]!.fileOffset, undefined);
  assert.equal(r[4]!.reason, "anonymous");
  assert.match(r[4]!.reasonText!, /anonymous/);
  assert.equal(r[5]!.kind, "jit");
  assert.equal(r[5]!.reason, "jit");
  assert.match(r[5]!.reasonText!, /JIT/);
  assert.equal(r[6]!.kind, "file");
  assert.ok(r[6]!.elfAddr !== undefined && r[6]!.buildId !== undefined && r[6]!.reason === undefined);
  assert.equal(r[7], null);
  if (vdso) {
    assert.equal(r[8]!.kind, "special");
    assert.equal(r[8]!.reason, "kernel");
    assert.match(r[8]!.reasonText!, /kernel/);
  }
});

test("resolve() takes a BigUint64Array, numbers, and duplicates share one result", () => {
  using maps = ProcMaps.open(mapper.pid);
  const a = BigInt(mapper.info.spaces.start);
  const r1 = maps.resolve(new BigUint64Array([a, a + 1n, a]));
  assert.equal(r1[0], r1[2]);
  assert.equal(r1[1]!.fileOffset, 4097n);
  const r2 = maps.resolve([Number(a), a]);
  assert.deepEqual(r2[0], r2[1]);
  assert.deepEqual(maps.resolve([]), []);
});

test("resolve() refuses bad input before any system call, naming the bad address", () => {
  using maps = ProcMaps.open(mapper.pid);
  assert.throws(() => maps.resolve([1n, -1n]), /address \[1\]/);
  assert.throws(() => maps.resolve([1.5]), RangeError);
  assert.throws(() => maps.resolve(5n as never), TypeError);
  assert.throws(() => maps.resolve([1n], { strategy: "fast" } as never), /strategy/);
  assert.throws(() => maps.resolve([1n], { buildID: true } as never), /unknown resolve option/);
});

test("buildId: false and elfAddr: false skip those reads", () => {
  using maps = ProcMaps.open(mapper.pid);
  const libc = rows.find((r) => /libc\.so/.test(r.name) && r.perms.includes("x"))!;
  const [r] = maps.resolve([libc.start], { buildId: false, elfAddr: false });
  assert.equal(r!.buildId, undefined);
  assert.equal(r!.elfAddr, undefined);
  assert.equal(r!.fileOffset, libc.offset);
});

test("the planner: ioctl for a few addresses; for most of a known process at most the text's cost in queries", {
  skip: IOCTL_SKIP,
}, () => {
  using maps = ProcMaps.open(mapper.pid);
  const few = rows.slice(0, 3).map((r) => r.start);
  assert.equal(maps.planResolve(few).strategy, "ioctl");
  const all = rows.flatMap((r) => [r.start, r.end - 1n]);
  maps.resolve(all, { strategy: "text" }); // now the handle knows the process's size
  const plan = maps.planResolve(all);
  assert.equal(plan.knownVmas, rows.length);
  // Text, or the ioctl for a bounded number of queries and then text: which one depends on what a
  // query and a text read cost on this machine at this moment (planner_test.ts makes them decisive).
  const c = plan.costs!;
  const textNs = rows.length * c.textPerVmaNs + c.textFixedNs;
  if (plan.strategy !== "text") {
    assert.equal(plan.strategy, "ioctl", plan.reason);
    assert.ok(Number.isFinite(plan.queryBudget), plan.reason);
    assert.ok(plan.queryBudget <= Math.max(64, 2 * Math.ceil(textNs / c.queryNs) + 2), plan.reason);
  }
  // Three queries cost less than reading the text, unless queries are very dear here right now.
  const again = maps.planResolve(few);
  const c2 = again.costs!;
  if (3 * c2.queryNs < rows.length * c2.textPerVmaNs + c2.textFixedNs) {
    assert.equal(again.strategy, "ioctl", again.reason);
    assert.equal(again.queryBudget, Infinity);
  }
});

test("batches are de-duplicated exactly, in order of first appearance, whatever the mix of values", () => {
  const rng = new Rng(99);
  for (let round = 0; round < 200; round++) {
    const n = rng.int(300);
    const pool = [0n, 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 0xffffffffff600000n, 2n ** 64n - 1n];
    const addrs: (bigint | number)[] = [];
    for (let i = 0; i < n; i++) {
      const r = rng.int(4);
      if (r === 0) addrs.push(pool[rng.int(pool.length)]);
      else if (r === 1) addrs.push(rng.int(1 << 30)); // a number
      else if (r === 2 && addrs.length) addrs.push(addrs[rng.int(addrs.length)]); // a duplicate
      else addrs.push(rng.below(1n << 64n));
    }
    for (const input of [addrs, BigUint64Array.from(addrs.map(BigInt))]) {
      const b = toBatch(input);
      const want = [...new Set(addrs.map((a) => BigInt(a)))];
      assert.equal(b.count, want.length);
      assert.deepEqual(b.unique, want);
      addrs.forEach((a, i) => {
        assert.equal(b.unique[b.slot[i]], BigInt(a));
        assert.equal(b.first[b.slot[i]] <= i, true);
      });
      b.unique.forEach((u, i) => {
        assert.equal((BigInt(b.hi[i]) << 32n) | BigInt(b.lo[i]), u);
        assert.equal(BigInt(addrs[b.first[i]]), u);
      });
    }
  }
});

test("strategy ioctl on a handle that reads the text is refused, auto and text work", () => {
  using maps = ProcMaps.open(mapper.pid, { backend: "text" });
  const a = BigInt(mapper.info.spaces.start);
  assert.throws(
    () => maps.resolve([a], { strategy: "ioctl" }),
    (e: unknown) => (e as { code?: string }).code === "ENOTTY",
  );
  assert.equal(maps.resolve([a], { strategy: "auto" })[0]!.vma.start, a);
  assert.equal(maps.planResolve([a]).strategy, "text");
});

test("a handle's VMAs kept between calls give way when the map changes: files mapped in turn at one address", {
  skip: IOCTL_SKIP || (!haveReadelf && "readelf is not installed"),
}, async () => {
  // Two ELF files with their own build IDs, mapped in turn over the same page: every call of one handle must see
  // the file mapped at that moment (its name, build ID and ELF address), as a fresh handle does.
  const files = [compileC("toggler"), compileC("remapper")].map((f) => realpathSync(f));
  const child = await startChild<{ at: string }>(files[1], []);
  const replies: string[] = [];
  let wake: (() => void) | undefined;
  child.child.stdout!.on("data", (s: string) => {
    replies.push(...s.split("\n").filter(Boolean));
    wake?.();
  });
  const command = async (line: string) => {
    child.child.stdin!.write(line + "\n");
    while (replies.length === 0) await new Promise<void>((r) => wake = r);
    return replies.shift();
  };
  try {
    const at = BigInt(child.info.at);
    const addrs = [at + 0x10n, at + 0x10n, at + 0x40n];
    using maps = ProcMaps.open(child.pid);
    for (const file of [files[0], files[1], files[0]]) {
      assert.equal(await command(`map ${file}`), "ok");
      const load = readelfLoads(file)!.find((l) => l.offset === 0n)!;
      for (const got of [maps.resolve(addrs), maps.resolveTable(addrs).toArray()]) {
        assert.equal(got[0]!.name, file);
        assert.equal(got[0]!.buildId, readelfBuildId(file));
        assert.equal(got[0]!.fileOffset, 0x10n);
        assert.equal(got[0]!.elfAddr, load.vaddr + 0x10n);
        assert.equal(got[2]!.elfAddr, load.vaddr + 0x40n);
        using fresh = ProcMaps.open(child.pid);
        assert.deepEqual(JSON.stringify(got), JSON.stringify(fresh.resolve(addrs)));
      }
    }
  } finally {
    await child.stop();
  }
});
