// The vDSO's bytes against /proc/<pid>/mem read with node:fs and gdb's
// `dump memory`; its build ID against readelf -n and eu-unstrip -n -p.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { getLibc } from "../ffi/mod.ts";
import { findVdsoRange, readVdso, readVdsoImage, VDSO_MAX_BYTES, vdsoBuildId } from "../src/symbolize/vdso.ts";
import { asleepIn } from "./helpers/child.ts";
import { readRows } from "./helpers/ground_truth.ts";
import { isRoot, runAsNobody } from "./helpers/runtime.ts";

const libc = getLibc();
const tmp = mkdtempSync(join(tmpdir(), "procmap-vdso-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
// Deno does not emit "exit" to test files: after() cleans up there.
after(() => rmSync(tmp, { recursive: true, force: true }));
const has = (cmd: string, arg = "--version") => spawnSync(cmd, [arg]).status === 0;

function vdsoRow(pid: number | "self") {
  const row = readRows(pid).find((r) => r.name === "[vdso]");
  assert.ok(row, "no [vdso] in the maps");
  return row;
}

/** Memory of `pid` read with node:fs, independently of the Libc binding. */
function memOf(pid: number | "self", start: bigint, end: bigint): Uint8Array {
  const fd = openSync(`/proc/${pid}/mem`, "r");
  try {
    const buf = new Uint8Array(Number(end - start));
    assert.equal(readSync(fd, buf, 0, buf.length, start), buf.length);
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** A `sleep` child to read from. */
async function withSleeper(fn: (pid: number) => void | Promise<void>): Promise<void> {
  const child = spawn("sleep", ["60"], { stdio: "ignore" });
  process.on("exit", () => child.kill("SIGKILL"));
  try {
    await asleepIn(child, "sleep"); // before its exec it is this runtime, whose vDSO the exec replaces
    await fn(child.pid!);
  } finally {
    child.kill("SIGKILL");
  }
}

describe("vDSO", () => {
  it("this process's image equals /proc/self/mem read with node:fs, and is an ELF", () => {
    const row = vdsoRow("self");
    assert.deepEqual(findVdsoRange(libc, "self"), { start: row.start, end: row.end });
    const v = readVdso(libc, "self");
    assert.ok(v);
    assert.equal(v.image.length, Number(row.end - row.start));
    assert.deepEqual(v.image, memOf("self", row.start, row.end));
    assert.deepEqual([...v.image.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
    assert.match(vdsoBuildId(v.image) ?? "", /^[0-9a-f]{40}$/);
  });

  it("another process's image equals gdb's dump memory; the build ID equals readelf -n and eu-unstrip", {
    skip: has("gdb") ? false : "gdb is not installed",
    timeout: 60_000,
  }, async () => {
    await withSleeper((pid) => {
      const row = vdsoRow(pid);
      const image = readVdsoImage(libc, pid, row.start, row.end);
      assert.ok(image);
      const dump = join(tmp, "vdso.so");
      const g = spawnSync("gdb", [
        "-nx",
        "-batch",
        "-p",
        String(pid),
        "-ex",
        `dump binary memory ${dump} 0x${row.start.toString(16)} 0x${row.end.toString(16)}`,
      ], { encoding: "utf8", timeout: 30_000 });
      assert.equal(g.status, 0, g.stderr);
      assert.deepEqual(image, new Uint8Array(readFileSync(dump)));
      const id = vdsoBuildId(image);
      const readelf = spawnSync("readelf", ["-n", dump], { encoding: "utf8" }).stdout;
      assert.equal(id, /Build ID: ([0-9a-f]+)/.exec(readelf)?.[1]);
      if (has("eu-unstrip")) {
        const eu = spawnSync("eu-unstrip", ["-n", "-p", String(pid)], { encoding: "utf8" }).stdout;
        const line = eu.split("\n").find((l) => l.includes("[vdso"));
        assert.ok(line, eu);
        assert.equal(line.split(" ")[1].split("@")[0], id);
        assert.equal(line.split(" ")[0], `0x${row.start.toString(16)}+0x${(row.end - row.start).toString(16)}`);
      }
    });
  });

  it("bounds the range and refuses what is not a vDSO", () => {
    const row = vdsoRow("self");
    assert.equal(readVdsoImage(libc, "self", row.start, row.start), null);
    assert.equal(readVdsoImage(libc, "self", row.end, row.start), null);
    assert.equal(readVdsoImage(libc, "self", row.start, row.start + BigInt(VDSO_MAX_BYTES) + 1n), null);
    assert.equal(readVdsoImage(libc, "self", 0x1000n, 0x3000n), null); // not mapped
    const heap = readRows("self").find((r) => r.perms.startsWith("rw") && r.name === "[heap]") ??
      readRows("self").find((r) => r.perms.startsWith("rw") && r.inode === 0n)!;
    assert.equal(readVdsoImage(libc, "self", heap.start, heap.start + 4096n), null); // not an ELF image
    assert.equal(readVdsoImage(libc, 0x3fffffff, row.start, row.end), null); // no such process
    assert.throws(() => readVdsoImage(libc, "self", 1 as unknown as bigint, 2n), TypeError);
  });

  it("as nobody: its own vDSO, but not a root process's", {
    skip: isRoot ? false : "needs root to drop to nobody",
    timeout: 60_000,
  }, async () => {
    await withSleeper((pid) => {
      const row = vdsoRow(pid);
      const r = runAsNobody("tests/fixtures/symbolize/vdso_as_user.ts", [
        String(pid),
        String(row.start),
        String(row.end),
      ]);
      assert.deepEqual(r, { self: true, other: false });
    });
  });
});
