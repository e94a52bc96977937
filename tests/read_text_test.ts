/**
 * Whole-file reads of procfs text: files that report size 0 and return
 * about a page per read() call must be read to EOF, whatever the first
 * buffer size. Ground truth is cat(1).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLibc } from "../ffi/mod.ts";
import { readWhole } from "../src/procfs/read.ts";
import { ProcMaps } from "../mod.ts";
import { compileC } from "./helpers/child.ts";
import { parseText } from "./helpers/ground_truth.ts";

let child: ChildProcess;
let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), "procmap-many-"));
  // ~3,000 VMAs: a text of about 180 KB, far past the first buffer (64 KB).
  child = spawn(compileC("maps/many_vmas"), [join(dir, "scratch"), "2400", "600"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`many_vmas exited with ${code}`)));
  });
});
after(async () => {
  child.stdin!.end();
  await new Promise((r) => child.once("exit", r));
  rmSync(dir, { recursive: true, force: true });
});

const decoder = new TextDecoder();

test("readWhole reads a large maps text to EOF whatever the size hint", () => {
  const path = `/proc/${child.pid}/maps`;
  const truth = spawnSync("cat", [path], { encoding: "utf8", maxBuffer: 64 << 20 }).stdout;
  assert.ok(truth.length > 100_000, `a large text (${truth.length} bytes)`);
  assert.equal(statSync(path).size, 0, "procfs reports size 0");
  const libc = getLibc();
  const fd = libc.openRead(path);
  try {
    for (const hint of [0, 1, 4096, truth.length, truth.length * 4]) {
      const r = readWhole(libc, fd, hint);
      assert.ok(typeof r !== "number", `read failed: ${r}`);
      assert.equal(decoder.decode(r.bytes.subarray(0, r.length)), truth, `size hint ${hint}`);
    }
  } finally {
    libc.close(fd);
  }
});

test("the text backend sees every line of a large text", () => {
  const rows = parseText(
    spawnSync("cat", [`/proc/${child.pid}/maps`], { encoding: "utf8", maxBuffer: 64 << 20 }).stdout,
  );
  using maps = ProcMaps.open(child.pid!, { backend: "text" });
  const vmas = [...maps.vmasSync()];
  assert.equal(vmas.length, rows.length);
  assert.ok(vmas.length > 2900);
  assert.equal(vmas.at(-1)!.start, rows.at(-1)!.start);
});

test("a long for-await walk lets timers run: an abort from a timer stops it midway", async () => {
  using maps = ProcMaps.open(child.pid!);
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error("stopped by a timer")), 5);
  let seen = 0;
  await assert.rejects(async () => {
    for await (const _ of maps.vmas({ signal: ac.signal })) {
      seen++;
      const until = performance.now() + 0.02; // ~20 us per VMA: the walk takes ~60 ms
      while (performance.now() < until);
    }
  }, /stopped by a timer/);
  assert.ok(seen > 0 && seen < 2900, `stopped after ${seen} VMAs`);
});
