/**
 * A handle stays tied to the process, and the address space, it opened
 * (issue 14): after exec, exit or pid reuse it answers ESRCH with a
 * `reason`, never another program's or process's data; kernel threads have
 * an empty map; a zombie is said to await its parent; no descriptor leaks,
 * also when open() fails.
 *
 * Oracles: the kernel's own files (/proc/<pid>/maps, stat), a fresh handle
 * (which must see the new program or process: the setup really happened),
 * and the build IDs written into the ELF files the children map.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { ProcMaps, ProcMapsError } from "../mod.ts";
import { getLibc, setLibcForTesting } from "../ffi/mod.ts";
import { pid2IsKernelThread } from "./helpers/ground_truth.ts";
import { asleepIn, compileC, startChild } from "./helpers/child.ts";
import { BACKENDS } from "./helpers/backends.ts";
import { countFds } from "./helpers/fds.ts";
import {
  elfWithBuildId,
  FIXED_ADDR,
  killAndReap,
  MOUNT_SKIP,
  mountExt4,
  mountTmpfs,
  type Scratch,
  startMap,
} from "./helpers/hard.ts";

function esrch(fn: () => unknown, reason: string, what: string): ProcMapsError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ProcMapsError, `${what}: expected ProcMapsError ESRCH, got ${caught}`);
  assert.equal(caught.code, "ESRCH", `${what}: ${caught.message}`);
  assert.equal(caught.reason, reason, `${what}: ${caught.message}`);
  return caught;
}

/** Two fresh tmpfs mounts, each holding lib.so as its first file: the same inode number, other devices. */
function twinLibs(): { a: Scratch; b: Scratch; libA: string; libB: string; idA: string; idB: string } {
  const a = mountTmpfs(), b = mountTmpfs();
  try {
    const A = elfWithBuildId(0x10), B = elfWithBuildId(0x80);
    const libA = join(a.dir, "lib.so"), libB = join(b.dir, "lib.so");
    writeFileSync(libA, A.bytes);
    writeFileSync(libB, B.bytes);
    assert.equal(statSync(libA).ino, statSync(libB).ino, "fresh tmpfs mounts number their first file alike");
    return { a, b, libA, libB, idA: A.buildId, idB: B.buildId };
  } catch (e) {
    a.remove();
    b.remove();
    throw e;
  }
}

test('exec: ESRCH with reason "exec" saying a new handle sees the new program; the text never reads as empty', {
  skip: MOUNT_SKIP,
}, async () => {
  const t = twinLibs();
  try {
    const c = await startMap(t.libA);
    try {
      const handles = BACKENDS.map((backend) => ProcMaps.open(c.pid, { backend }));
      // The text handle takes a snapshot of the old program (its build IDs not read yet).
      for (const h of handles) {
        if (h.backend === "text") assert.equal(h.query(FIXED_ADDR)?.end, FIXED_ADDR + 4096n);
        else assert.equal(h.query(FIXED_ADDR, { buildId: true })?.buildId, t.idA, h.backend);
      }
      // The new program maps a file with the same inode number at the same place.
      await c.send(`exec ${t.libB}`);
      for (const h of handles) {
        const e = esrch(() => h.query(FIXED_ADDR, { buildId: true }), "exec", `${h.backend}: build-ID query`);
        assert.match(e.message, /replaced its program \(exec\)/);
        assert.match(e.message, /new handle/);
        h.refresh();
        esrch(() => [...h.vmasSync()], "exec", `${h.backend}: walk after refresh (not an empty map)`);
        esrch(() => h.query(FIXED_ADDR), "exec", `${h.backend}: query after refresh`);
        h.close();
      }
      // The process lives on with the new program, and a new handle sees it.
      using fresh = ProcMaps.open(c.pid);
      assert.equal(fresh.query(FIXED_ADDR, { buildId: true })?.buildId, t.idB);
      assert.ok(readFileSync(`/proc/${c.pid}/maps`, "utf8").includes(t.libB), "ground truth: the new mapping");
    } finally {
      await c.stop();
    }
  } finally {
    t.a.remove();
    t.b.remove();
  }
});

test('pid reuse (clone3 set_tid): ESRCH with reason "reused", never the new process\'s build ID', {
  skip: MOUNT_SKIP,
}, async () => {
  const t = twinLibs();
  try {
    const old = await startMap(t.libA);
    const pid = old.pid;
    const handles = BACKENDS.map((backend) => ProcMaps.open(pid, { backend }));
    for (const h of handles) assert.equal(h.query(FIXED_ADDR)?.end, FIXED_ADDR + 4096n, h.backend);
    await killAndReap(old);
    // Another process gets exactly that pid and maps, at the same range, a
    // file with the same inode number on another device.
    const reused = await startMap(t.libB, FIXED_ADDR, pid);
    try {
      assert.equal(reused.info.pid, pid, "the new process has the old pid");
      {
        using fresh = ProcMaps.open(pid);
        assert.equal(fresh.query(FIXED_ADDR, { buildId: true })?.buildId, t.idB, "a new handle sees the new process");
      }
      for (const h of handles) {
        // The text handle's snapshot is of the old process: its build ID must not come from the new one.
        const e = esrch(() => h.query(FIXED_ADDR, { buildId: true }), "reused", `${h.backend}: build-ID query`);
        assert.match(e.message, /pid now belongs to another process/);
        h.refresh();
        esrch(() => [...h.vmasSync({ buildId: true })], "reused", `${h.backend}: walk`);
        esrch(() => h.resolve([FIXED_ADDR]), "reused", `${h.backend}: resolve()`);
      }
    } finally {
      for (const h of handles) h.close();
      await reused.stop();
    }
  } finally {
    t.a.remove();
    t.b.remove();
  }
});

test(
  "a file deleted and recreated with the same inode (ext4): a build ID is never paired with a VMA of another moment",
  {
    skip: MOUNT_SKIP,
  },
  async (t) => {
    const fs = mountExt4();
    if (typeof fs === "string") return t.skip(fs);
    try {
      const path = join(fs.dir, "lib.so");
      const A = elfWithBuildId(0x10, 8192), B = elfWithBuildId(0x80, 4096);
      writeFileSync(path, A.bytes);
      const inode = statSync(path).ino;
      const c = await startMap(path);
      try {
        const handles = BACKENDS.map((backend) => ProcMaps.open(c.pid, { backend }));
        for (const h of handles) {
          // The text handle keeps a snapshot from before the swap (its build IDs not read yet).
          const v = h.query(FIXED_ADDR, { buildId: h.backend !== "text" })!;
          if (h.backend !== "text") assert.equal(v.buildId, A.buildId, h.backend);
          assert.equal(v.end, FIXED_ADDR + 8192n);
        }
        await c.send("unmap");
        unlinkSync(path);
        writeFileSync(path, B.bytes);
        if (statSync(path).ino !== inode) return t.skip("ext4 did not reuse the inode number this time");
        await c.send(`map ${path}`);
        for (const h of handles) {
          const v = h.query(FIXED_ADDR, { buildId: true })!;
          // Whatever is reported, VMA and build ID are of the same moment: now.
          assert.equal(v.end, FIXED_ADDR + 4096n, `${h.backend}: the VMA of now`);
          assert.equal(v.buildId, B.buildId, `${h.backend}: the build ID of the file mapped now`);
          const [r] = h.resolve([FIXED_ADDR]);
          assert.equal(r?.buildId, B.buildId, `${h.backend}: resolve()`);
          h.close();
        }
      } finally {
        await c.stop();
      }
    } finally {
      fs.remove();
    }
  },
);

test('a kernel thread (pid 2) has an empty map: no VMAs, query() null, not "has exited"', {
  skip: pid2IsKernelThread() ? false : "pid 2 is not a kernel thread here (a container's own pid namespace)",
}, () => {
  // Ground truth: the kernel's text is empty and pmap prints a total of 0K.
  assert.equal(readFileSync("/proc/2/maps", "utf8"), "");
  const pmap = spawnSync("pmap", ["2"], { encoding: "utf8" });
  if (pmap.status === 0) assert.match(pmap.stdout, /total\s+0K/);
  for (const backend of BACKENDS) {
    using maps = ProcMaps.open(2, { backend });
    assert.equal(maps.backend, backend);
    assert.equal(maps.query(0n, { coveringOrNext: true }), null, backend);
    assert.equal(maps.query(0x400000n), null, backend);
    assert.deepEqual([...maps.vmasSync()], [], backend);
    assert.equal(maps.table().length, 0, backend);
    assert.deepEqual(maps.resolve([0x1000n, 0x7fff0000n]), [null, null], backend);
  }
});

test('a zombie: ESRCH (reason "exited") saying it has exited and awaits its parent', async () => {
  const z = await startChild<{ zombie: number }>(compileC("zombie"), []);
  try {
    for (const backend of BACKENDS) {
      using maps = ProcMaps.open(z.info.zombie, { backend });
      const e = esrch(() => maps.query(0n, { coveringOrNext: true }), "exited", backend);
      assert.match(e.message, /has exited and awaits its parent/);
    }
  } finally {
    await z.stop();
  }
});

/**
 * Descriptors this process has open on /proc/<pid> directories and maps
 * files (what a handle holds). Only those: the runtime opens and closes
 * descriptors of its own at any time, which made a count of all of them flaky.
 */
function openFds(): number {
  return countFds((link) => /^\/proc\/\d+(\/maps)?$/.test(link));
}

test("open() keeps /proc/<pid> and maps open until close(), and leaks nothing when it fails", () => {
  const before = openFds();
  const maps = ProcMaps.open("self");
  assert.equal(openFds(), before + 2, "the /proc/<pid> directory and maps");
  maps.close();
  assert.equal(openFds(), before);
  // Failure paths: no such process; a forced ioctl backend where the binding has none.
  for (let i = 0; i < 20; i++) {
    assert.throws(() => ProcMaps.open(4194304), (e: unknown) => e instanceof ProcMapsError && e.code === "ESRCH");
  }
  const real = getLibc();
  setLibcForTesting({ ...real, canIoctl: false });
  try {
    for (let i = 0; i < 20; i++) {
      assert.throws(
        () => ProcMaps.open("self", { backend: "ioctl" }),
        (e: unknown) => e instanceof ProcMapsError && e.code === "ENOTTY",
      );
    }
  } finally {
    setLibcForTesting(real);
  }
  assert.equal(openFds(), before, "failed opens close what they opened");
});

test('exit: ESRCH with reason "exited"', async () => {
  const t = elfWithBuildId(0x33);
  const path = join(mkdtempSync(join(tmpdir(), "procmap-exit-")), "lib.so");
  writeFileSync(path, t.bytes);
  try {
    const c = await startMap(path);
    const handles = BACKENDS.map((backend) => ProcMaps.open(c.pid, { backend }));
    for (const h of handles) h.query(FIXED_ADDR);
    await killAndReap(c);
    for (const h of handles) {
      const e = esrch(() => h.query(FIXED_ADDR, { buildId: true }), "exited", h.backend);
      assert.match(e.message, /has exited/);
      h.close();
    }
  } finally {
    unlinkSync(path);
  }
});

test("text backend: a text cut short (the process gone mid-read) is ESRCH, never a shorter map; a whole one, ending with the gate area, needs no liveness read", async () => {
  const child = spawn("sleep", ["600"], { stdio: "ignore" });
  try {
    const pid = child.pid!;
    await asleepIn(child, "sleep");
    // Ground truth: the kernel's own text, served by a fake pread (whole, without its gate line, or cut
    // at a line), with the liveness read (one byte at offset 0) answered by the kernel or as a dead process.
    const whole = readFileSync(`/proc/${pid}/maps`);
    const lines = whole.toString("latin1").split("\n").slice(0, -1);
    const gate = lines.at(-1)!.startsWith("ffffffffff600000-");
    const real = getLibc();
    let mapsFd = -1, served = whole, dead = false, probes = 0;
    setLibcForTesting({
      ...real,
      openAt: (dirfd, p, flags) => {
        const fd = real.openAt(dirfd, p, flags);
        if (String(p) === "maps") mapsFd = fd;
        return fd;
      },
      pread: (fd, buf, off) => {
        if (fd !== mapsFd) return real.pread(fd, buf, off);
        if (buf.length === 1 && off === 0) {
          probes++;
          return dead ? 0 : real.pread(fd, buf, off);
        }
        const n = Math.max(0, Math.min(buf.length, served.length - off));
        buf.set(served.subarray(off, off + n));
        return n;
      },
    });
    try {
      using maps = ProcMaps.open(pid, { backend: "text" });
      const walk = () => [...maps.vmasSync()].map((v) => v.start.toString(16));
      const starts = (ls: string[]) => ls.map((l) => l.slice(0, l.indexOf("-")).replace(/^0+(?=.)/, ""));
      walk(); // helper files (mountinfo) are read once per new device, with a liveness read after them
      probes = 0;
      assert.deepEqual(walk(), starts(lines));
      assert.equal(probes, gate ? 0 : 1, gate ? "a text ending with [vsyscall] is whole" : "no gate area here");

      served = Buffer.from(lines.slice(0, -1).join("\n") + "\n", "latin1");
      probes = 0;
      assert.deepEqual(walk(), starts(lines.slice(0, -1)), "a live process's text without the gate line");
      assert.equal(probes, 1, "a text not ending with the gate area is checked");

      served = Buffer.from(lines.slice(0, lines.length >> 1).join("\n") + "\n", "latin1");
      dead = true;
      assert.throws(walk, (e) => e instanceof ProcMapsError && e.code === "ESRCH", "a text cut short");
      assert.throws(() => maps.table(), (e) => e instanceof ProcMapsError && e.code === "ESRCH");
    } finally {
      setLibcForTesting(real);
    }
  } finally {
    child.kill("SIGKILL");
  }
});
