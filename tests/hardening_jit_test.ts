/**
 * The JIT symbol sources as attacker input (issue 22): a target's perf map
 * is a path the target names, in a root the target controls.
 * - A chrooted root target linking its perf map to a host file: the host
 *   file is never read (the path is resolved inside the target's root).
 * - A perf map that is a FIFO or a device: refused without being opened.
 * - A perf map left by a dead process whose pid was reused (written before
 *   the process started): refused, with a reason.
 * - A target appending to a large map while a call's addresses miss: the
 *   map is read once per call, not once per miss.
 * - The JIT tables count in the Symbolizer's maxCacheBytes and stay within it.
 * - The user-space resolution (for kernels and bindings without openat2)
 *   agrees with the kernel's RESOLVE_IN_ROOT on a tree of hostile links.
 *
 * Oracles: the kernel's openat2 and fstat, what the test planted, and a
 * recording binding (what was opened for reading).
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProcMaps, Symbolizer } from "../mod.ts";
import { emptyFileId, getLibc, setLibcForTesting } from "../ffi/mod.ts";
import { AT_FDCWD, O_DIRECTORY, O_PATH, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS } from "../ffi/constants.ts";
import { resolveInRoot } from "../src/procfs/target_files.ts";
import { compileC, startChild, type Started } from "./helpers/child.ts";
import { watchingLibc } from "./helpers/counting_libc.ts";
import { isRoot } from "./helpers/runtime.ts";
import process from "node:process";

const real = getLibc();
const dir = mkdtempSync(join(tmpdir(), "procmap-hardjit-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const jitBin = compileC("jit_target");
const ROOT_SKIP = isRoot ? false : "needs root (chroot, mknod)";

interface JitInfo {
  pid: number;
  jit: string;
}

/** A jit_target confined to a fresh root directory (with a /tmp). */
async function chrooted(): Promise<{ child: Started<JitInfo>; root: string; addr: bigint; map: string }> {
  const root = mkdtempSync(join(dir, "root-"));
  mkdirSync(join(root, "tmp"));
  const child = await startChild<JitInfo>(jitBin, ["--chroot", root]);
  return { child, root, addr: BigInt("0x" + child.info.jit), map: join(root, "tmp", `perf-${child.pid}.map`) };
}

/** symbolize() of one address with `libc` installed; also returns what was opened for reading. */
function symbolizeWith(pid: number, addr: bigint) {
  const { libc, watch } = watchingLibc(real);
  setLibcForTesting(libc);
  try {
    using maps = ProcMaps.open(pid);
    const [r] = maps.symbolize([addr]);
    return { r, watch };
  } finally {
    setLibcForTesting(real);
  }
}

test("a chrooted root target's perf map linking to a host file: the host file is never read", {
  skip: ROOT_SKIP,
}, async () => {
  const { child, root, addr, map } = await chrooted();
  try {
    // A host-only file in perf-map form, naming the target's JIT address.
    const secret = join(dir, "host-secret.map");
    writeFileSync(secret, `${addr.toString(16)} 1000 HOST_SECRET_LINE\n`);
    symlinkSync(secret, map);
    const { r } = symbolizeWith(child.pid, addr);
    assert.equal(r?.kind, "jit");
    assert.equal(r?.symbol, undefined, `read the host file: ${r?.symbol?.name}`);
    assert.equal(r?.symbolReason, "jit-no-perf-map");
    assert.match(r?.symbolMessage ?? "", /does not exist/);
    // The same link resolved inside the root (absolute, and with `..` past the root) is followed.
    mkdirSync(join(root, "data"));
    writeFileSync(join(root, "data", "real.map"), `${addr.toString(16)} 1000 inside_root\n`);
    for (const target of ["/data/real.map", "../../../../../../../../data/real.map"]) {
      unlinkSync(map);
      symlinkSync(target, map);
      const { r } = symbolizeWith(child.pid, addr);
      assert.equal(r?.symbol?.name, "inside_root", target);
    }
  } finally {
    await child.stop();
  }
});

test("a perf map that is a FIFO or a device is refused without being opened", { skip: ROOT_SKIP }, async () => {
  const { child, addr, map } = await chrooted();
  try {
    // A device node (/dev/null's numbers), a FIFO (opening it would release a blocked writer), and a
    // link to the host's /dev/ptmx (opening it makes a pseudo-terminal; inside the root there is none).
    const cases: [string[], RegExp][] = [
      [["mknod", map, "c", "1", "3"], /not a regular file/],
      [["mkfifo", map], /not a regular file/],
      [["ln", "-s", "/dev/ptmx", map], /does not exist/],
    ];
    for (const [make, message] of cases) {
      rmSync(map, { force: true });
      assert.equal(spawnSync(make[0], make.slice(1)).status, 0, make.join(" "));
      const { r, watch } = symbolizeWith(child.pid, addr);
      assert.deepEqual(watch.special, [], `opened: ${watch.special}`);
      assert.equal(r?.symbol, undefined);
      assert.match(r?.symbolMessage ?? "", message, make.join(" "));
    }
  } finally {
    await child.stop();
  }
});

test("a perf map written before the process started (a dead process's, pid reused) is refused", {
  skip: ROOT_SKIP,
}, async () => {
  const { child, addr, map } = await chrooted();
  try {
    writeFileSync(map, `${addr.toString(16)} 1000 dead_process_function\n`);
    const hourAgo = new Date(Date.now() - 3600_000);
    utimesSync(map, hourAgo, hourAgo);
    const { r } = symbolizeWith(child.pid, addr);
    assert.equal(r?.symbol, undefined, `a stale map named it: ${r?.symbol?.name}`);
    assert.equal(r?.symbolReason, "jit-no-perf-map");
    assert.match(r?.symbolMessage ?? "", /before the process started/);
    // Written now (the process writes its map): used.
    writeFileSync(map, `${addr.toString(16)} 1000 live_function\n`);
    assert.equal(symbolizeWith(child.pid, addr).r?.symbol?.name, "live_function");
  } finally {
    await child.stop();
  }
});

/** A perf map of `lines` lines naming code far from the target's JIT memory (`fn_<i>`). */
function bigMap(lines: number): string {
  const parts: string[] = [];
  for (let i = 0; i < lines; i++) parts.push(`${(0x100000000000 + 0x40 * i).toString(16)} 40 fn_${i}\n`);
  return parts.join("");
}

test("a target appending to a 200,000-line map while 2,000 addresses miss: one read per call", async () => {
  const child = await startChild<JitInfo>(jitBin, []);
  const map = `/tmp/perf-${child.pid}.map`;
  const appender = spawn("sh", ["-c", 'while :; do echo "2000000000 10 appended" >> "$0"; done', map]);
  try {
    writeFileSync(map, bigMap(200_000));
    const addr = BigInt("0x" + child.info.jit);
    const misses = Array.from({ length: 2000 }, (_, i) => addr + BigInt(8 * i));
    using maps = ProcMaps.open(child.pid);
    const symbolizer = new Symbolizer();
    assert.equal(maps.symbolize([addr], { symbolizer })[0]?.symbolReason, "jit-no-perf-map"); // reads the map
    for (let call = 0; call < 2; call++) {
      const { libc, watch } = watchingLibc(real);
      setLibcForTesting(libc);
      const cpu = process.cpuUsage();
      let r;
      try {
        r = maps.symbolize(misses, { symbolizer });
      } finally {
        setLibcForTesting(real);
      }
      const used = process.cpuUsage(cpu);
      const ms = (used.user + used.system) / 1000;
      const preads = [...watch.preads.values()].reduce((a, b) => a + b, 0);
      assert.ok(r.every((x) => x?.symbolReason === "jit-no-perf-map"));
      // What was appended is read once (a few chunks), not once per miss.
      assert.ok(preads < 64, `call ${call}: ${preads} reads`);
      assert.ok(ms < 1000, `call ${call}: ${ms.toFixed(0)} ms of CPU`);
    }
  } finally {
    appender.kill("SIGKILL");
    rmSync(map, { force: true });
    await child.stop();
  }
});

test("JIT tables count in the Symbolizer's maxCacheBytes and stay within it", async () => {
  const child = await startChild<JitInfo>(jitBin, []);
  const map = `/tmp/perf-${child.pid}.map`;
  try {
    const addr = BigInt("0x" + child.info.jit);
    // 400,000 lines (about 12 MB) ahead of the line that names the JIT address.
    writeFileSync(map, bigMap(400_000) + `${addr.toString(16)} 100 jit_function\n`);
    using maps = ProcMaps.open(child.pid);
    const small = new Symbolizer({ maxCacheBytes: 4 << 20 });
    const [r] = maps.symbolize([addr], { symbolizer: small });
    // Reading stopped at the bound, before the last line: said so.
    assert.equal(r?.symbol, undefined);
    assert.match(r?.symbolMessage ?? "", /limit \(perf map: maxTableBytes/);
    assert.ok(small.cacheBytes > 0 && small.cacheBytes <= 4 << 20, `cacheBytes ${small.cacheBytes}`);
    // Under the default bound the whole map is read and counted.
    const big = new Symbolizer();
    assert.equal(maps.symbolize([addr], { symbolizer: big })[0]?.symbol?.name, "jit_function");
    assert.ok(big.cacheBytes > 12 << 20 && big.cacheBytes <= big.maxCacheBytes, `cacheBytes ${big.cacheBytes}`);
    // clear() drops them too; they are read again when next needed.
    big.clear();
    assert.equal(big.cacheBytes, 0);
    assert.equal(maps.symbolize([addr], { symbolizer: big })[0]?.symbol?.name, "jit_function");
    // maxCacheBytes 0 keeps nothing across calls, and still names JIT code within the call.
    const none = new Symbolizer({ maxCacheBytes: 0 });
    assert.equal(maps.symbolize([addr], { symbolizer: none })[0]?.symbol?.name, "jit_function");
    assert.equal(none.cacheBytes, 0);
  } finally {
    rmSync(map, { force: true });
    await child.stop();
  }
});

test("resolution inside a root without openat2 agrees with the kernel's RESOLVE_IN_ROOT", () => {
  const t = mkdtempSync(join(dir, "tree-"));
  mkdirSync(join(t, "a", "b"), { recursive: true });
  writeFileSync(join(t, "a", "b", "file"), "in the root\n");
  writeFileSync(join(dir, "outside"), "outside the root\n");
  const links: [string, string][] = [
    ["abs", "/a/b/file"],
    ["up", "../../../../../a/b/file"],
    ["host", join(dir, "outside")], // an absolute host path: not in the root
    ["dirlink", "/a"],
    ["through", "dirlink/b/file"],
    ["dotdot", "dirlink/../a/b/file"],
    ["loop1", "loop2"],
    ["loop2", "loop1"],
    ["self", "/proc/self/root/etc/hostname"],
    ["dangling", "/nowhere"],
    ["a/b/rel", "../../a/b/./file"],
  ];
  for (const [name, target] of links) symlinkSync(target, join(t, name));
  /** What each path names: a file of the tree (by its path in the root), or an error. */
  const cases: [string, string | "error"][] = [
    ["a/b/file", "/a/b/file"],
    ["/a/b/file", "/a/b/file"],
    ["abs", "/a/b/file"],
    ["up", "/a/b/file"],
    ["host", "error"],
    ["dirlink/b/file", "/a/b/file"],
    ["through", "/a/b/file"],
    ["dotdot", "/a/b/file"],
    ["loop1", "error"],
    ["self", "error"],
    ["dangling", "error"],
    ["a/b/rel", "/a/b/file"],
    ["a/b/file/x", "error"],
    ["../../a/b/file", "/a/b/file"],
    ["/", "/"],
    ["", "/"],
    ["a/./b//file", "/a/b/file"],
    ["missing", "error"],
  ];
  const inodeOf = (p: string) => statSync(join(t, p)).ino;
  const rootFd = real.openAt(AT_FDCWD, t, O_PATH | O_DIRECTORY);
  assert.ok(rootFd >= 0);
  const id = emptyFileId();
  const identity = (fd: number) => {
    if (fd < 0) return "error";
    assert.equal(real.fstat(fd, id), 0);
    real.close(fd);
    return Number(id.inode);
  };
  try {
    for (const [p, want] of cases) {
      const ours = identity(resolveInRoot(real, rootFd, p));
      assert.equal(ours, want === "error" ? "error" : inodeOf(want), `${p} -> ${want}`);
      const kernel = real.openat2(rootFd, p === "" ? "." : p, O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
      if (kernel !== -38 /* ENOSYS: node:fs */) assert.equal(identity(kernel), ours, `${p}: kernel and ours`);
    }
  } finally {
    real.close(rootFd);
  }
});
