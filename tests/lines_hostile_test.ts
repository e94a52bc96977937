/**
 * Files a target names for its DWARF are attacker input: a dwz file or
 * `.dwo` replaced by a FIFO, a directory or another build's file must not
 * hang, crash or be used; a chrooted target's `.dwo` is looked for inside
 * its root (procfs/target_files.ts), never on the host.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProcMaps, type SymbolFrame, Symbolizer } from "../mod.ts";
import { getLibc, setLibcForTesting } from "../ffi/mod.ts";
import { O_PATH } from "../ffi/constants.ts";
import { startChild } from "./helpers/child.ts";
import { readRows } from "./helpers/ground_truth.ts";
import { loadBias } from "./helpers/tools.ts";
import { isRoot } from "./helpers/runtime.ts";
import { instructionAddresses } from "./helpers/dwarf_tools.ts";
import { sample } from "./helpers/dwarf_builds.ts";

const HERE = new URL(".", import.meta.url).pathname;
const FIXTURES = [join(HERE, "fixtures/lines"), join(HERE, "../../tests/fixtures/lines")].find((d) =>
  existsSync(join(d, "lines_target.c"))
)!;
const C = join(FIXTURES, "lines_target.c");
/** lines_target.c's inline functions. */
const INLINE_NAMES = ["mix", "mix_twice", "step", "walk", "tri"];
const has = (cmd: string) => spawnSync(cmd, ["--version"]).status === 0;

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "procmap-lines-hostile-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function sh(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr || r.error}`);
}

/** Frames of a few addresses, timed: no lookup may wait on what a file names. */
function framesOf(bin: string) {
  const addrs = sample(instructionAddresses(bin, [".text"]), 40);
  const t0 = performance.now();
  const r = new Symbolizer({ debugDirs: [] }).symbolizeFile(bin, addrs);
  const ms = performance.now() - t0;
  assert.ok(ms < 5000, `answers in < 5 s (${ms.toFixed(0)} ms)`);
  return r.map((x) => x.symbol?.frames);
}

test("a .dwo replaced by a FIFO, a directory or another build's .dwo: no hang, no frames from it", {
  skip: has("gcc") ? false : "gcc is needed",
}, () => {
  const sub = join(dir, "split");
  mkdirSync(sub);
  sh("gcc", ["-O2", "-g", "-gsplit-dwarf", "-c", C, "-o", "lt.o"], sub);
  sh("gcc", ["-o", "lt", "lt.o"], sub);
  const good = framesOf(join(sub, "lt"));
  assert.ok(good.some((f) => (f?.length ?? 0) > 1), "the .dwo gives inlined frames");
  copyFileSync(join(sub, "lt.dwo"), join(sub, "keep.dwo"));
  // Another build of the same unit (other flags): another DWO id.
  sh("gcc", ["-O1", "-g", "-gsplit-dwarf", "-c", C, "-o", "lt.o"], sub);
  const other = framesOf(join(sub, "lt"));
  assert.ok(other.every((f) => (f?.length ?? 0) <= 1), "a .dwo of another id is not used");
  for (const replace of ["fifo", "dir"]) {
    rmSync(join(sub, "lt.dwo"), { recursive: true, force: true });
    if (replace === "fifo") sh("mkfifo", ["lt.dwo"], sub);
    else mkdirSync(join(sub, "lt.dwo"));
    const r = framesOf(join(sub, "lt"));
    assert.ok(r.every((f) => (f?.length ?? 0) <= 1), `${replace}: no inlined frames`);
  }
});

test("a dwz file replaced by a FIFO or a file of another build ID is not used", {
  skip: has("gcc") && has("dwz") ? false : "gcc and dwz are needed",
}, () => {
  const sub = join(dir, "dwz");
  mkdirSync(sub);
  sh("gcc", ["-O2", "-g", "-o", "a", C], sub);
  copyFileSync(join(sub, "a"), join(sub, "b"));
  sh("dwz", ["-m", "common.dwz", "-M", "common.dwz", "a", "b"], sub);
  // The inline functions' abstract instances (their names) are what dwz moves to the shared file.
  const inlined = (f: readonly SymbolFrame[] | undefined) => f?.some((x) => x.inlined && INLINE_NAMES.includes(x.name));
  const good = framesOf(join(sub, "a"));
  assert.ok(good.some(inlined), "names from the dwz file");
  rmSync(join(sub, "common.dwz"));
  sh("mkfifo", ["common.dwz"], sub);
  framesOf(join(sub, "a")); // answers, does not wait on the FIFO
  rmSync(join(sub, "common.dwz"));
  writeFileSync(join(sub, "common.dwz"), "not ELF");
  const r = framesOf(join(sub, "a"));
  assert.ok(!r.some(inlined), "no names from a file that is not the linked one");
});

test("a dwz file that is not beside the binary is found by build ID in the debuginfod cache", {
  skip: has("gcc") && has("dwz") ? false : "gcc and dwz are needed",
}, () => {
  const sub = join(dir, "dwz-cache");
  mkdirSync(sub);
  sh("gcc", ["-O2", "-g", "-o", "a", C], sub);
  copyFileSync(join(sub, "a"), join(sub, "b"));
  sh("dwz", ["-m", "common.dwz", "-M", "common.dwz", "a", "b"], sub);
  const notes = spawnSync("readelf", ["-n", join(sub, "common.dwz")], { encoding: "utf8" }).stdout;
  const id = /Build ID: ([0-9a-f]+)/.exec(notes)![1];
  const cache = join(dir, "debuginfod-cache");
  mkdirSync(join(cache, id), { recursive: true });
  copyFileSync(join(sub, "common.dwz"), join(cache, id, "debuginfo"));
  rmSync(join(sub, "common.dwz"));
  const inlined = (f: readonly SymbolFrame[] | undefined) => f?.some((x) => x.inlined && INLINE_NAMES.includes(x.name));
  const addrs = sample(instructionAddresses(join(sub, "a"), [".text"]), 40);
  const frames = (s: Symbolizer) => s.symbolizeFile(join(sub, "a"), addrs).map((r) => r.symbol?.frames);
  // No server is asked: the cache is only read (symbolizeFile never fetches).
  const withCache = new Symbolizer({ debugDirs: [], debuginfod: { urls: ["http://127.0.0.1:9"], cachePath: cache } });
  assert.ok(frames(withCache).some(inlined), "names from the dwz file in the cache");
  assert.ok(!frames(new Symbolizer({ debugDirs: [], debuginfod: false })).some(inlined), "none without it");
  // A file of another build ID there is not used.
  copyFileSync(join(sub, "a"), join(cache, id, "debuginfo"));
  const other = new Symbolizer({ debugDirs: [], debuginfod: { urls: ["http://127.0.0.1:9"], cachePath: cache } });
  assert.ok(!frames(other).some(inlined), "not from a file of another build ID");
});

test("a chrooted target's .dwo is looked for in its root: an absolute link there to the host's .dwo is not read", {
  skip: isRoot ? (has("gcc") ? false : "gcc is needed") : "needs root (chroot)",
}, async () => {
  // Split DWARF built in `sub` (the skeleton names sub/lt.dwo), run confined to `root`.
  const sub = join(dir, "chroot-split");
  mkdirSync(sub);
  sh("gcc", ["-O2", "-g", "-gsplit-dwarf", "-c", C, "-o", "lt.o"], sub);
  sh("gcc", ["-o", "lt", "lt.o"], sub);
  const root = mkdtempSync(join(dir, "root-"));
  const child = await startChild<{ pid: number }>(join(sub, "lt"), ["--chroot", root]);
  try {
    const bin = join(sub, "lt");
    const addrs = sample(instructionAddresses(bin, [".text"]), 60);
    const bias = loadBias(readRows(child.pid), bin);
    const inlined = () => {
      using maps = ProcMaps.open(child.pid);
      const r = maps.symbolize(addrs.map((a) => a + bias), { symbolizer: new Symbolizer({ debugDirs: [] }) });
      return r.filter((x) => x?.symbol?.frames?.some((f) => f.inlined)).length;
    };
    // The host's sub/lt.dwo is not in the target's root: no inlined frames (they live in the .dwo).
    assert.equal(inlined(), 0, "no .dwo in the root");
    // In the root, at the skeleton's path, an absolute link to the host's .dwo: resolved in the root, a loop.
    mkdirSync(join(root, sub), { recursive: true });
    symlinkSync(join(sub, "lt.dwo"), join(root, sub, "lt.dwo"));
    assert.equal(inlined(), 0, "an absolute link is resolved inside the root, never on the host");
    // The .dwo itself in the root is read.
    rmSync(join(root, sub, "lt.dwo"));
    copyFileSync(join(sub, "lt.dwo"), join(root, sub, "lt.dwo"));
    assert.ok(inlined() > 0, "the .dwo inside the root gives inlined frames");
  } finally {
    await child.stop();
  }
});

test(
  "a dwz file that is a pseudo-file (procfs says size 0; /proc/kmsg gives the kernel log away when read) is never read",
  {
    skip: has("gcc") && has("dwz") ? false : "gcc and dwz are needed",
  },
  () => {
    const sub = join(dir, "dwz-proc");
    mkdirSync(sub);
    sh("gcc", ["-O2", "-g", "-o", "a", C], sub);
    copyFileSync(join(sub, "a"), join(sub, "b"));
    sh("dwz", ["-m", "common.dwz", "-M", "common.dwz", "a", "b"], sub);
    rmSync(join(sub, "common.dwz"));
    // What a target could name instead (absolutely, or by a link): procfs says size 0 for whatever it holds.
    symlinkSync("/proc/self/status", join(sub, "common.dwz"));
    const real = getLibc();
    const pathOf = new Map<number, string>();
    const readOpened: string[] = [];
    setLibcForTesting({
      ...real,
      openAt: (dirfd, p, flags) => {
        const fd = real.openAt(dirfd, p, flags);
        const text = typeof p === "string" ? p : new TextDecoder().decode(p);
        if (fd >= 0 && flags & O_PATH) pathOf.set(fd, text);
        const via = /^\/proc\/self\/fd\/(\d+)$/.exec(text);
        if (fd >= 0 && !(flags & O_PATH) && via) readOpened.push(pathOf.get(Number(via[1])) ?? text);
        return fd;
      },
    });
    try {
      framesOf(join(sub, "a"));
    } finally {
      setLibcForTesting(real);
    }
    assert.ok(readOpened.some((p) => p.endsWith("/a")), `the binary is read: ${readOpened}`);
    assert.ok(!readOpened.some((p) => p.endsWith("common.dwz")), `opened for reading: ${readOpened}`);
  },
);
