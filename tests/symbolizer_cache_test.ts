/**
 * The Symbolizer's cache: bounded in bytes (0 keeps nothing), shared by
 * handles, and never remembering a transient failure (a pread failing with
 * ENOMEM), counted through a binding that counts and fails on demand. Also
 * option checks.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, realpathSync } from "node:fs";
import { getLibc, type Libc } from "../ffi/mod.ts";
import { ProcMaps, Symbolizer } from "../mod.ts";
import { ByteLru } from "../src/symbolize/cache.ts";
import { moduleTables } from "../src/symbolize/symbolizer.ts";
import { countCalls } from "./helpers/counting_libc.ts";
import { IOCTL_SKIP } from "./helpers/backends.ts";

const libcPath = realpathSync("/lib/x86_64-linux-gnu/libc.so.6");
const real = getLibc();

test("ByteLru: the least recently used go first; an entry larger than the bound is not kept", () => {
  const c = new ByteLru<string>(100);
  c.set("a", "A", 40);
  c.set("b", "B", 40);
  assert.equal(c.get("a"), "A"); // a is now the most recent
  c.set("c", "C", 40);
  assert.equal(c.get("b"), undefined);
  assert.equal(c.get("a"), "A");
  assert.equal(c.bytes, 80);
  c.set("huge", "H", 101);
  assert.equal(c.get("huge"), undefined);
  assert.equal(c.bytes, 80);
  c.clear();
  assert.equal(c.bytes, 0);
});

test("maxCacheBytes bounds the cache; 0 keeps nothing; clear() empties it", () => {
  const none = new Symbolizer({ maxCacheBytes: 0 });
  const [a] = none.symbolizeFile(libcPath, [0x9ec80n], { debugDirs: [] });
  assert.ok(a.symbol);
  assert.equal(none.cacheBytes, 0);
  const some = new Symbolizer();
  some.symbolizeFile(libcPath, [0x9ec80n], { debugDirs: [] });
  assert.ok(some.cacheBytes > 0 && some.cacheBytes <= some.maxCacheBytes);
  some.clear();
  assert.equal(some.cacheBytes, 0);
});

test("a transient read failure is not cached; a good read is, and later calls read nothing", () => {
  let preads = 0;
  let fail = true;
  const libc: Libc = {
    ...real,
    pread: (fd, buf, off) => (preads++, fail ? -12 /* ENOMEM */ : real.pread(fd, buf, off)),
  };
  const s = new Symbolizer();
  const fd = real.openRead(libcPath);
  assert.ok(fd >= 0);
  try {
    const key = "test:libc";
    const ctx = { buildId: "00", path: libcPath, procDir: undefined, debugDirs: [] as string[] };
    const failed = moduleTables(s, libc, fd, key, ctx);
    assert.equal(failed.transient, true);
    assert.equal(failed.tables.length, 0);
    assert.equal(s.cacheBytes, 0);
    fail = false;
    const good = moduleTables(s, libc, fd, key, ctx);
    assert.equal(good.transient, false);
    assert.ok(good.tables.length > 0);
    assert.ok(s.cacheBytes > 0);
    preads = 0;
    fail = true;
    assert.equal(moduleTables(s, libc, fd, key, ctx), good);
    assert.equal(preads, 0);
  } finally {
    real.close(fd);
  }
});

test("one Symbolizer shared by two handles reads each file once", () => {
  const s = new Symbolizer();
  using a = ProcMaps.open("self");
  const libcVma = [...a.vmasSync({ executable: true })].find((v) => v.name?.includes("libc.so"));
  if (!libcVma) return; // statically linked runtime: nothing to share
  const addr = libcVma.start + 0x100n;
  const [r1] = a.symbolize([addr], { symbolizer: s });
  const bytes = s.cacheBytes;
  assert.ok(bytes > 0);
  using b = ProcMaps.open("self", { backend: "text" });
  const [r2] = b.symbolize([addr], { symbolizer: s });
  assert.equal(s.cacheBytes, bytes);
  assert.deepEqual(r2?.symbol, r1?.symbol);
});

test("bad options are refused before any work", () => {
  using maps = ProcMaps.open("self");
  assert.throws(() => maps.symbolize([1n], { symbolizer: {} as Symbolizer }), TypeError);
  assert.throws(() => maps.symbolize([1n], { debugDirs: ["relative"] }), TypeError);
  assert.throws(() => maps.symbolize([1n], { debugDirs: "/usr/lib/debug" as unknown as string[] }), TypeError);
  assert.throws(() => maps.symbolize([1n], { perfMap: 1 as unknown as boolean }), TypeError);
  assert.throws(() => maps.symbolize([1n], { nope: 1 } as never), TypeError);
  assert.throws(() => maps.symbolize([-1n]), RangeError);
  assert.throws(() => new Symbolizer({ maxCacheBytes: -1 }), RangeError);
  assert.throws(() => new Symbolizer({ debugDirs: [""] }), TypeError);
  assert.throws(() => new Symbolizer().symbolizeFile("", [0n]), TypeError);
  maps.close();
  assert.throws(() => maps.symbolize([1n]), /closed/);
});

test("warm: a second symbolize() on a handle opens and reads no file", {
  skip: IOCTL_SKIP || false,
}, () => {
  const s = new Symbolizer();
  using maps = ProcMaps.open("self");
  const addrs = [...maps.vmasSync({ executable: true, fileBacked: true })].map((v) => v.start + 0x40n);
  const first = maps.symbolize(addrs, { symbolizer: s });
  assert.ok(first.some((r) => r?.symbol));
  // A handle keeps the binding it was opened with: open one under the counting binding.
  let m: ProcMaps | undefined;
  const counts = countCalls(() => {
    m = ProcMaps.open("self");
    m.symbolize(addrs, { symbolizer: s }); // resolve() reads program headers once per handle
  });
  try {
    assert.ok(counts.open > 1, "the first call on that handle opened files: the count works");
    const before = { ...counts };
    const again = m!.symbolize(addrs, { symbolizer: s });
    assert.deepEqual({ open: counts.open - before.open, pread: counts.pread - before.pread }, { open: 0, pread: 0 });
    assert.deepEqual(again.map((r) => r?.symbol), first.map((r) => r?.symbol));
  } finally {
    m?.close();
  }
});

test("symbolizeKernel: names as /proc/kallsyms lists them, or kernel-hidden", () => {
  const text = readFileSync("/proc/kallsyms", "utf8");
  const lines = [...text.matchAll(/^([0-9a-f]+) ([Tt]) (\S+)(?:\t\[(\S+)\])?$/gm)].slice(0, 20000);
  const s = new Symbolizer();
  if (lines.every((m) => /^0+$/.test(m[1]))) {
    const [r] = s.symbolizeKernel([0xffffffff81000000n]);
    assert.equal(r.symbolReason, "kernel-hidden");
    assert.ok(r.symbolMessage);
    return;
  }
  // Names at addresses that only one symbol has (aliases at one address: any is right, so skip them).
  const count = new Map<string, number>();
  for (const m of lines) count.set(m[1], (count.get(m[1]) ?? 0) + 1);
  const unique = lines.filter((m) => count.get(m[1]) === 1).slice(0, 2000);
  const got = s.symbolizeKernel(unique.map((m) => BigInt("0x" + m[1])));
  got.forEach((r, i) => {
    assert.equal(r.symbol?.name, unique[i][3], `0x${unique[i][1]}`);
    assert.equal(r.symbol?.source, "kallsyms");
    assert.equal(r.symbol?.offset, 0n);
    assert.equal(r.module, unique[i][4]);
  });
  assert.throws(() => s.symbolizeKernel([1n], { refresh: 1 as unknown as boolean }), TypeError);
});
