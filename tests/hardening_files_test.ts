/**
 * The files behind VMAs as attacker input (issue 14): a target swapping a
 * FIFO, device node or symbolic link at its library's path never makes
 * procmap open one; names that are not UTF-8 keep elfAddr; a live file
 * named "x (deleted)" is a file; hostile PT_NOTE headers cost one bounded
 * scan per handle and never reach the kernel's unbounded parser; transient
 * errors are never cached; names longer than PATH_MAX cost one text read
 * per walk.
 *
 * Oracles: nm and readelf on the files, the kernel's maps text, and
 * system-call counts through a recording binding (never wall time).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { Buffer } from "node:buffer";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nameBytesOf } from "../src/vma.ts";
import { ProcMaps, ProcMapsError } from "../mod.ts";
import { emptyFileId, getLibc, setLibcForTesting } from "../ffi/mod.ts";
import { AT_FDCWD, O_DIRECTORY, O_PATH } from "../ffi/constants.ts";
import { openMappedFile } from "../src/elf/mapped_file.ts";
import { compileC, startChild } from "./helpers/child.ts";
import { BACKENDS, IOCTL_SKIP } from "./helpers/backends.ts";
import { watchingLibc } from "./helpers/counting_libc.ts";
import { buildElf, PT_LOAD, PT_NOTE } from "./helpers/elf_files.ts";
import { elfWithBuildId, FIXED_ADDR, hardBin, startMap } from "./helpers/hard.ts";
import { readelfBuildId } from "./helpers/elf_notes.ts";
import { isRoot, runtimeCommand } from "./helpers/runtime.ts";

const real = getLibc();
const EMFILE = 24;

/** Runs `fn` with `libc` installed for the handles it opens. */
function withLibc<T>(libc: typeof real, fn: () => T): T {
  setLibcForTesting(libc);
  try {
    return fn();
  } finally {
    setLibcForTesting(real);
  }
}

let dir: string;
let probeLib: string;
/** nm's address of `probe` in probe_lib.so. */
let probeVaddr: bigint;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "procmap-hard-"));
  probeLib = compileC("probe_lib", ["-shared", "-fPIC"]);
  const nm = spawnSync("nm", ["-D", probeLib], { encoding: "utf8" });
  probeVaddr = BigInt("0x" + /^([0-9a-f]+) T probe$/m.exec(nm.stdout)![1]);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("a target swapping a FIFO, device node and symbolic links at its library's path: nothing but the file is opened", {
  skip: isRoot ? false : "needs root: mknod of a device node",
}, async () => {
  const d = mkdtempSync(join(dir, "swap-"));
  const lib = join(d, "lib.so");
  copyFileSync(probeLib, lib);
  const id = emptyFileId();
  assert.equal(real.stat(lib, id), 0);
  const swapper = await startChild<Record<string, never>>(hardBin, ["swap", d]);
  const procDir = real.openAt(AT_FDCWD, `/proc/${swapper.pid}`, O_PATH | O_DIRECTORY);
  try {
    // A VMA of that file at a range the swapper does not map: map_files has
    // nothing there, so every attempt goes through the swapped path (root/ and as is).
    const file = {
      start: 0x10000n,
      end: 0x11000n,
      devMajor: id.devMajor,
      devMinor: id.devMinor,
      inode: id.inode,
      path: new TextEncoder().encode(lib),
    };
    const { libc, watch } = watchingLibc();
    let found = 0;
    const attempts = 6_000;
    for (let i = 0; i < attempts; i++) {
      const fd = openMappedFile(libc, procDir, file);
      if (fd >= 0) {
        found++;
        libc.close(fd);
      }
    }
    assert.deepEqual(watch.special, [], "no FIFO or device was ever opened for reading");
    assert.ok(found > 0, `the real file was found at its path sometimes (${found} of ${attempts})`);
    assert.equal(watch.regular, found, "every file opened for reading was the mapped file, and was handed out");
  } finally {
    real.close(procDir);
    await swapper.stop();
  }
});

/** The library at `name` in a fresh directory (a copy of probe_lib.so); its path as bytes. */
function libAt(name: Uint8Array): { path: Buffer; dir: string } {
  const d = mkdtempSync(join(dir, "lib-"));
  const path = Buffer.concat([Buffer.from(d + "/"), name]);
  // The shell's printf writes the name's bytes as they are (a runtime's
  // string paths would re-encode bytes that are not UTF-8).
  const octal = Array.from(path, (b) => "\\" + b.toString(8).padStart(3, "0")).join("");
  const r = spawnSync("sh", ["-c", `cp "$0" "$(printf '${octal}')"`, probeLib]);
  assert.equal(r.status, 0, `cp: ${r.stderr}`);
  return { path, dir: d };
}

test("names that are not UTF-8 keep elfAddr and the build ID in every backend (map_files refused, as in containers)", async () => {
  const { path } = libAt(Uint8Array.from([0x62, 0xff, 0xfe, 0x80, 0x2e, 0x73, 0x6f])); // "b\xff\xfe\x80.so"
  const c = await startChild<{ pid: number; addrs: string[] }>(hardBin, ["dlopen", `hex:${path.toString("hex")}`]);
  try {
    assert.equal(c.info.addrs.length, 1, "the library loaded");
    const addr = BigInt(c.info.addrs[0]);
    const want = readelfBuildId(probeLib);
    // Refuse map_files, as unprivileged containers do: the path routes must use the raw bytes.
    const { libc } = watchingLibc(real, (p) => (p.includes("map_files/") ? 1 /* EPERM */ : 0));
    for (const backend of BACKENDS) {
      withLibc(libc, () => {
        using maps = ProcMaps.open(c.pid, { backend });
        const [r] = maps.resolve([addr]);
        assert.ok(r, backend);
        assert.ok(r.name.includes("\uFFFD"), `${backend}: the public name is U+FFFD-decoded: ${r.name}`);
        assert.equal(r.kind, "file");
        assert.equal(r.elfAddr, probeVaddr, `${backend}: elfAddr is nm's address (${r.reason})`);
        if (want) assert.equal(r.buildId, want, `${backend}: build ID as readelf reads it`);
        // A table row keeps the raw bytes too, as query() does.
        const t = maps.table();
        const row = t.find(addr);
        assert.ok(row >= 0, backend);
        assert.deepEqual(nameBytesOf(t.at(row)!), nameBytesOf(maps.query(addr)!), backend);
        assert.ok(nameBytesOf(t.at(row)!).includes(0xff), backend);
      });
    }
  } finally {
    await c.stop();
  }
});

test('a live file named "x (deleted)" is a file; a deleted one is deleted', async () => {
  const live = libAt(new TextEncoder().encode("live.so (deleted)"));
  const gone = libAt(new TextEncoder().encode("gone.so"));
  const c = await startChild<{ pid: number; addrs: string[] }>(hardBin, [
    "dlopen",
    live.path.toString(),
    gone.path.toString(),
  ]);
  assert.equal(c.info.addrs.length, 2, "both libraries loaded");
  try {
    unlinkSync(gone.path);
    const [liveAddr, goneAddr] = c.info.addrs.map(BigInt);
    // Ground truth: both names in the kernel's text end in " (deleted)".
    const text = readFileSync(`/proc/${c.pid}/maps`, "utf8");
    assert.ok(text.includes(`${live.path} (deleted)`) || text.includes(`${live.path}`));
    assert.ok(text.includes(`${gone.path} (deleted)`));
    for (const backend of BACKENDS) {
      using maps = ProcMaps.open(c.pid, { backend });
      const [l, g] = maps.resolve([liveAddr, goneAddr]);
      assert.equal(l?.name, live.path.toString(), backend);
      assert.equal(l?.kind, "file", `${backend}: the file lives at exactly that name`);
      assert.equal(g?.kind, "deleted", backend);
      assert.equal(l?.elfAddr, probeVaddr);
    }
  } finally {
    await c.stop();
  }
});

/**
 * A hostile ELF file: 256 PT_NOTE headers, each over the whole file of
 * empty 12-byte notes (the kernel parses 256 x size/12 notes per query).
 */
function hostileElf(size: number): Uint8Array {
  const phdrs = [{ type: PT_LOAD, offset: 0n, filesz: BigInt(size) }];
  for (let i = 0; i < 255; i++) phdrs.push({ type: PT_NOTE, offset: 0x4000n, filesz: BigInt(size - 0x4000) });
  return buildElf({ phdrs, size });
}

test("hostile PT_NOTE headers: never handed to the kernel, one bounded scan per handle; honest files keep the kernel's answer", async () => {
  const hostile = join(dir, "hostile.so");
  writeFileSync(hostile, hostileElf(256 * 1024));
  const honest = join(dir, "honest.so");
  const H = elfWithBuildId(0x42);
  writeFileSync(honest, H.bytes);
  const h = await startMap(hostile, FIXED_ADDR);
  const o = await startMap(honest, FIXED_ADDR);
  try {
    for (const backend of BACKENDS) {
      const { libc, watch } = watchingLibc();
      withLibc(libc, () => {
        using maps = ProcMaps.open(h.pid, { backend });
        for (let i = 0; i < 3; i++) {
          assert.equal(maps.query(FIXED_ADDR, { buildId: true })?.buildId, undefined, backend);
          maps.refresh();
          for (const v of maps.vmasSync({ buildId: true })) {
            if (v.start === FIXED_ADDR) assert.equal(v.buildId, undefined);
          }
          assert.equal(maps.resolve([FIXED_ADDR, FIXED_ADDR + 16n])[0]?.buildId, undefined);
        }
      });
      assert.deepEqual(
        watch.buildIdQueries.filter((a) => a === FIXED_ADDR),
        [],
        `${backend}: the kernel was never asked about the hostile file`,
      );
      // Reads of the file itself (through the descriptors procmap checked):
      // one bounded scan (4096 notes, 256 headers) for the handle, plus ELF headers.
      let fileReads = 0;
      for (const [fd, n] of watch.preads) if (watch.pathOf.get(fd)?.startsWith("/proc/self/fd/")) fileReads += n;
      assert.ok(fileReads >= 4096, `${backend}: the scan ran (${fileReads} reads)`);
      assert.ok(
        fileReads < 4096 + 256 + 64,
        `${backend}: one bounded scan per handle, not per call (${fileReads} reads)`,
      );
    }
    for (const backend of BACKENDS) {
      const { libc, watch } = watchingLibc();
      withLibc(libc, () => {
        using maps = ProcMaps.open(o.pid, { backend });
        assert.equal(maps.query(FIXED_ADDR, { buildId: true })?.buildId, H.buildId, backend);
        assert.equal(maps.resolve([FIXED_ADDR])[0]?.buildId, H.buildId, backend);
      });
      if (backend === "ioctl") {
        assert.ok(watch.buildIdQueries.includes(FIXED_ADDR), "the kernel's answer for an honest file");
      }
    }
  } finally {
    await h.stop();
    await o.stop();
  }
});

test("EMFILE while opening mapped files is thrown, never cached: the same handle answers right afterwards", async () => {
  const c = await startChild<{ pid: number; addrs: string[] }>(hardBin, ["dlopen", probeLib]);
  try {
    const addr = BigInt(c.info.addrs[0]);
    const want = readelfBuildId(probeLib);
    for (const backend of BACKENDS) {
      let short = false;
      // Out of descriptors for every file procmap opens after the handle.
      const { libc } = watchingLibc(real, () => (short ? EMFILE : 0));
      withLibc(libc, () => {
        using maps = ProcMaps.open(c.pid, { backend });
        short = true;
        assert.throws(
          () => maps.resolve([addr]),
          (e: unknown) => e instanceof ProcMapsError && e.code === "EMFILE",
          `${backend}: the shortage is reported`,
        );
        if (backend === "text") {
          assert.throws(() => maps.query(addr, { buildId: true }), (e: unknown) => e instanceof ProcMapsError);
        }
        short = false;
        const [r] = maps.resolve([addr]);
        assert.equal(r?.elfAddr, probeVaddr, `${backend}: right elfAddr after the shortage (${r?.reason})`);
        if (want) {
          assert.equal(r?.buildId, want, backend);
          assert.equal(maps.query(addr, { buildId: true })?.buildId, want, backend);
        }
      });
    }
  } finally {
    await c.stop();
  }
});

test(
  "EMFILE for real (RLIMIT_NOFILE exhausted in a child runtime): the same handle answers right once descriptors are free",
  {
    skip: spawnSync("prlimit", ["--version"]).status === 0 ? false : "prlimit(1) is not installed",
  },
  async () => {
    const c = await startChild<{ pid: number; addrs: string[] }>(hardBin, ["dlopen", probeLib]);
    try {
      const want = readelfBuildId(probeLib);
      for (const backend of BACKENDS) {
        const cmd = [
          "prlimit",
          "--nofile=256:256",
          ...runtimeCommand("tests/fixtures/emfile_child.ts", [
            String(c.pid),
            c.info.addrs[0],
            backend,
          ]),
        ];
        const r = spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: 120_000 });
        assert.equal(r.status, 0, `${cmd.join(" ")}: ${r.stderr}`);
        const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
        assert.ok(out.held > 0, "the child used up its descriptors");
        assert.ok(["EMFILE", "ENFILE"].includes(out.during), `${backend}: reported as a shortage: ${out.during}`);
        assert.equal(out.elfAddr, "0x" + probeVaddr.toString(16), `${backend}: right elfAddr afterwards`);
        if (want) assert.equal(out.buildId, want, `${backend}: right build ID afterwards`);
      }
    } finally {
      await c.stop();
    }
  },
);

test("names longer than PATH_MAX: an ioctl walk reads the maps text once, not once per such VMA", {
  skip: IOCTL_SKIP,
}, async () => {
  const d = mkdtempSync(join(tmpdir(), "procmap-overlong-"));
  const c = await startChild<{ pid: number; count: number }>(hardBin, ["overlong", d, "200"]);
  try {
    const { libc, watch } = watchingLibc();
    const names = withLibc(libc, () => {
      using maps = ProcMaps.open(c.pid, { backend: "ioctl" });
      return [...maps.vmasSync()].filter((v) => v.name!.length > 4096);
    });
    assert.equal(names.length, 200, "every overlong VMA, named");
    assert.ok(names.every((v) => v.name!.endsWith("/file")));
    assert.equal(watch.textReads.get("maps"), 1, "one read of the text for the whole walk");
  } finally {
    await c.stop();
    spawnSync("rm", ["-rf", d]);
  }
});
