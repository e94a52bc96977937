/**
 * Reading a process whose memory map changes under the reader (modelled on
 * the kernel selftest proc-maps-race). The churn child (fixtures/churn.c)
 * keeps splitting, remapping, resizing and moving VMAs in "windows" between
 * stable sentinel mappings, and lists every VMA each window can show.
 *
 * With each backend, thousands of walks and queries must:
 * - report every VMA outside the windows exactly as it was before the race;
 * - report in a window only VMAs from the child's list (an old or a new
 *   state, never one that never existed);
 * - make progress: each VMA ends strictly above the one before.
 * The ioctl walk yields each VMA as the kernel returned it, so under change a
 * VMA may start below the previous one's end; the text backend never yields
 * overlapping rows (it re-reads, then drops stale rows). Both are asserted.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProcMaps, type Vma } from "../mod.ts";
import { compileC, startChild, type Started } from "./helpers/child.ts";
import { fields, readRows, type Row } from "./helpers/ground_truth.ts";
import { BACKENDS } from "./helpers/backends.ts";
import { count, Rng, seed } from "./helpers/rng.ts";

interface VmaJson {
  start: string;
  end: string;
  perms: string;
  offset: string;
  devMajor: number;
  devMinor: number;
  inode: string;
  name: string;
}
interface ChurnInfo {
  pid: number;
  page: number;
  canName: boolean;
  arena: { start: string; end: string };
  sentinels: VmaJson[];
  windows: { kind: string; start: string; end: string; states: VmaJson[][] }[];
}

interface Window {
  kind: string;
  start: bigint;
  end: bigint;
  /** Keys of every VMA the window can show. */
  possible: Set<string>;
  /** Whether the window's states differ at all (a rename window does not without anon names). */
  changes: boolean;
  /** Keys seen by walks, to show the race really happened. */
  seen: Set<string>;
}

const SEED = seed(7);
const WALKS = count(600, 40_000);
const QUERIES = count(20_000, 1_000_000);
const TEXT_QUERIES = count(1_500, 100_000); // each re-reads the whole text

function key(v: Row | Vma): string {
  return `${v.start.toString(16)}-${v.end.toString(16)} ${v.perms} ${v.offset.toString(16)} ` +
    `${v.devMajor}:${v.devMinor} ${v.inode} ${v.name}`;
}

function row(j: VmaJson): Row {
  return {
    start: BigInt(j.start),
    end: BigInt(j.end),
    perms: j.perms,
    offset: BigInt(j.offset),
    devMajor: j.devMajor,
    devMinor: j.devMinor,
    inode: BigInt(j.inode),
    name: j.name,
  };
}

let child: Started<ChurnInfo>;
let dir: string;
let windows: Window[];
let sentinels: Row[];
/** Every VMA outside the windows, as the ground truth read it before the race. */
let stable: Row[];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "procmap-churn-"));
  child = await startChild<ChurnInfo>(compileC("churn"), [dir]);
  const info = child.info;
  windows = info.windows.map((w) => {
    const states = w.states.map((s) => s.map((v) => key(row(v))));
    return {
      kind: w.kind,
      start: BigInt(w.start),
      end: BigInt(w.end),
      possible: new Set(states.flat()),
      changes: states.some((s) => s.join() !== states[0].join()),
      seen: new Set(),
    };
  });
  sentinels = info.sentinels.map(row);
  stable = readRows(child.pid).filter((r) => windowOf(r) === undefined);
});

after(async () => {
  await child?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The window a VMA intersects, if any. */
function windowOf(v: { start: bigint; end: bigint }): Window | undefined {
  for (const w of windows) if (v.start < w.end && v.end > w.start) return w;
  return undefined;
}

interface WalkStats {
  walks: number;
  overlaps: number;
}

/**
 * Checks one walk against the model; returns how many VMAs started below the
 * end of the one before.
 */
function checkWalk(vmas: Vma[], what: string, filter: (r: Row) => boolean = () => true): number {
  let prevEnd = -1n;
  let overlaps = 0;
  const outside: Row[] = [];
  assert.ok(vmas.length < 4 * (stable.length + 6 * windows.length), `${what}: ${vmas.length} VMAs, looping?`);
  for (const v of vmas) {
    assert.ok(v.end > prevEnd, `${what}: end 0x${v.end.toString(16)} not above the previous 0x${prevEnd.toString(16)}`);
    if (v.start < prevEnd) overlaps++;
    prevEnd = v.end;
    const w = windowOf(v);
    if (w) {
      assert.ok(w.possible.has(key(v)), `${what}: ${w.kind} window shows a VMA that never existed: ${v}`);
      w.seen.add(key(v));
    } else {
      outside.push(fields(v));
    }
  }
  assert.deepEqual(outside, stable.filter(filter), `${what}: VMAs outside the windows changed`);
  return overlaps;
}

function assertSentinels(vmas: Vma[], what: string): void {
  const keys = new Set(vmas.map(key));
  for (const s of sentinels) assert.ok(keys.has(key(s)), `${what}: sentinel ${key(s)} missing or altered`);
}

const summary: Record<string, WalkStats> = {};

for (const backend of BACKENDS) {
  test(`${backend}: walks under churn report stable VMAs exactly and churned ones in a real state`, async () => {
    using maps = ProcMaps.open(child.pid, { backend });
    const stats: WalkStats = { walks: 0, overlaps: 0 };
    // WALKS at least, and on until every window that changes has been seen changing: a busy machine may give
    // the child little CPU meanwhile (bounded: 20 times as many walks).
    const unseen = () => windows.some((w) => w.changes && w.seen.size < 2);
    for (let i = 0; i < WALKS || (unseen() && i < 20 * WALKS); i++) {
      let vmas: Vma[];
      if (i % 4 === 3) {
        vmas = [];
        for await (const v of maps.vmas()) vmas.push(v);
      } else {
        vmas = [...maps.vmasSync()];
      }
      stats.overlaps += checkWalk(vmas, `${backend} walk ${i}`);
      if (i % 16 === 0) assertSentinels(vmas, `${backend} walk ${i}`);
      stats.walks++;
    }
    if (backend === "text") assert.equal(stats.overlaps, 0, "the text backend never yields overlapping rows");
    summary[backend] = stats;
    console.log(`${backend}: ${stats.walks} walks under churn, ${stats.overlaps} VMAs started below the previous end`);
    for (const w of windows) {
      if (w.changes) assert.ok(w.seen.size >= 2, `${w.kind} window at 0x${w.start.toString(16)} never seen changing`);
    }
  });

  test(`${backend}: filtered walks and walks from inside a window under churn`, () => {
    using maps = ProcMaps.open(child.pid, { backend });
    const rng = new Rng(SEED);
    const perm = (i: number) => (r: Row) => r.perms[i] !== "-";
    for (let i = 0; i < WALKS / 4; i++) {
      const w = rng.pick(windows);
      const from = w.start + BigInt(rng.int(Number(w.end - w.start)));
      const vmas = [...maps.vmasSync({ writable: true })];
      checkWalk(vmas, `${backend} writable walk ${i}`, perm(1));
      assert.ok(vmas.every((v) => v.writable));
      const tail = [...maps.vmasSync({ from, to: BigInt(child.info.arena.end) })];
      for (const v of tail) assert.ok(v.end > from && v.start < BigInt(child.info.arena.end), `${backend}: from/to`);
      let prevEnd = from;
      for (const v of tail) {
        assert.ok(v.end > prevEnd, `${backend}: ends increase from 0x${from.toString(16)}`);
        prevEnd = v.end;
        const win = windowOf(v);
        assert.ok(win ? win.possible.has(key(v)) : stable.some((r) => key(r) === key(v)), `${backend}: ${v}`);
      }
    }
  });

  test(`${backend}: point queries under churn return a real state or null (seed ${SEED})`, () => {
    using maps = ProcMaps.open(child.pid, { backend });
    const rng = new Rng(SEED + 1);
    const n = backend === "text" ? TEXT_QUERIES : QUERIES;
    const stableKeys = new Set(stable.map(key));
    let hits = 0;
    for (let i = 0; i < n; i++) {
      if (backend === "text") maps.refresh(); // else every query answers from one snapshot
      if (i % 8 === 0) {
        const s = rng.pick(sentinels);
        const addr = s.start + BigInt(rng.int(Number(s.end - s.start)));
        const got = maps.query(addr);
        assert.equal(got && key(got), key(s), `${backend}: sentinel at 0x${addr.toString(16)}`);
        continue;
      }
      const w = rng.pick(windows);
      const addr = w.start + BigInt(rng.int(Number(w.end - w.start)));
      const next = rng.chance(0.3);
      const got = maps.query(addr, next ? { coveringOrNext: true } : undefined);
      const at = `${backend} query ${i} at 0x${addr.toString(16)}${next ? " (or next)" : ""}`;
      if (!got) {
        assert.ok(!next, `${at}: stable VMAs follow every window, so or-next always finds one`);
        continue;
      }
      hits++;
      assert.ok(got.end > addr, `${at}: ends above the address`);
      if (!next) assert.ok(got.contains(addr), `${at}: covers the address`);
      const win = windowOf(got);
      assert.ok(win ? win.possible.has(key(got)) : stableKeys.has(key(got)), `${at}: never existed: ${got}`);
      // Or-next may skip the rest of the window, but never a stable VMA.
      if (next) assert.ok(!stable.some((r) => r.end > addr && r.end <= got.start), `${at}: skipped a stable VMA`);
    }
    assert.ok(hits > n / 4, `${backend}: ${hits} of ${n} window queries found a VMA`);
  });
}

test("the child's model holds: the kernel's own text shows only listed VMAs in the windows", () => {
  // Checks the fixture, not procmap: if this fails, the tests above cannot be trusted.
  for (let i = 0; i < count(200, 5_000); i++) {
    for (const r of readRows(child.pid)) {
      const w = windowOf(r);
      if (w) assert.ok(w.possible.has(key(r)), `kernel text shows ${key(r)} in the ${w.kind} window`);
    }
  }
});
