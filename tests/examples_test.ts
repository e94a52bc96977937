// The examples' --json output is dynamic data, checked field by field by the assertions below.
// deno-lint-ignore-file no-explicit-any
/**
 * The examples, run end to end as separate processes under this runtime
 * against a child with known mappings; their --json output is checked
 * against the library and the kernel's text maps.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProcMaps } from "../mod.ts";
import { compileC, type MapperInfo, type Started, startMapper } from "./helpers/child.ts";
import { readRows } from "./helpers/ground_truth.ts";
import { runtimeCommand } from "./helpers/runtime.ts";
import { haveReadelf, readelfBuildId } from "./helpers/elf_notes.ts";
import { IOCTL_SKIP } from "./helpers/backends.ts";

let mapper: Started<MapperInfo>;
before(async () => {
  mapper = await startMapper();
});
after(() => mapper.stop());

function run(example: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const [cmd, ...rest] = runtimeCommand(`examples/${example}.ts`, args);
  const r = spawnSync(cmd, rest, { encoding: "utf8", timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function runJson(example: string, args: string[]): any {
  const r = run(example, [...args, "--json"]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const asJson = (x: unknown) => JSON.parse(JSON.stringify(x));

for (const example of ["pmap", "procfs_query", "buildids", "watch"]) {
  test(`${example} --help prints its usage and exits 0`, () => {
    const r = run(example, ["--help"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^usage: /);
  });
}

test("pmap --json lists the same VMAs as the library and the text maps", () => {
  const out = runJson("pmap", [String(mapper.pid)]);
  using maps = ProcMaps.open(mapper.pid);
  const vmas = [...maps.vmasSync()];
  assert.deepEqual(out.vmas, asJson(vmas));
  assert.equal(out.vmas.length, readRows(mapper.pid).length + 0);
  assert.equal(out.totalKb, Number(vmas.reduce((s, v) => s + v.size, 0n) / 1024n));
});

test("pmap prints a table with a total line", () => {
  const r = run("pmap", [String(mapper.pid), "-x"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Address +Kbytes Mode Offset +Device +Inode Mapping$/m);
  assert.match(r.stdout, /file name with spaces\.bin$/m);
  assert.match(r.stdout, /^total kB +\d+$/m);
});

test("pmap on a missing process says so and exits 1", () => {
  const r = run("pmap", ["4194303"]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /does not exist/);
});

test("procfs_query --json equals resolve(), in both modes", () => {
  const rows = readRows(mapper.pid);
  const addrs = [...rows.map((r) => r.start + 1n), 5n, rows[0].start - 1n];
  const dir = mkdtempSync(join(tmpdir(), "procmap-addrs-"));
  const file = join(dir, "addrs.txt");
  writeFileSync(file, "# sampled addresses\n" + addrs.map((a) => "0x" + a.toString(16)).join("\n") + "\n\n");
  using maps = ProcMaps.open(mapper.pid);
  const want = maps.resolve(addrs);
  if (IOCTL_SKIP) {
    // No ioctl in this runtime: -Q is refused with the reason.
    const r = run("procfs_query", ["-p", String(mapper.pid), "-f", file, "-Q"]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /strategy "ioctl" needs/);
  }
  for (const mode of IOCTL_SKIP ? ["-T"] : ["-Q", "-T"]) {
    const out = runJson("procfs_query", ["-p", String(mapper.pid), "-f", file, mode]);
    assert.equal(out.strategy, mode === "-T" ? "text" : out.backend === "ioctl" ? "ioctl" : "text");
    assert.equal(out.results.length, addrs.length);
    out.results.forEach((r: any, i: number) => {
      const w = want[i];
      assert.equal(r.addr, "0x" + addrs[i].toString(16));
      if (!w) return assert.equal(r.unmapped, true);
      assert.deepEqual(r.vma, asJson(w.vma));
      assert.equal(r.kind, w.kind);
      assert.equal(r.buildId, w.buildId ?? null);
      assert.equal(r.fileOffset, w.fileOffset === undefined ? null : "0x" + w.fileOffset.toString(16));
      assert.equal(r.elfAddr, w.elfAddr === undefined ? null : "0x" + w.elfAddr.toString(16));
    });
  }
});

test("procfs_query text output has one line per address and a timing line", () => {
  const rows = readRows(mapper.pid);
  const dir = mkdtempSync(join(tmpdir(), "procmap-addrs-"));
  const file = join(dir, "addrs.txt");
  writeFileSync(file, `${rows[0].start.toString(16)}\n0x5\n`);
  const r = run("procfs_query", ["-p", String(mapper.pid), "-f", file]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.match(lines[0], new RegExp(`^0x${rows[0].start.toString(16)} -> ${rows[0].start.toString(16)}-`));
  assert.equal(lines[1], "0x5 -> <unmapped>");
  assert.match(
    lines[2],
    /^resolved 2 addresses \(2 distinct, 1 mapped\) in [\d.]+ ms per run, planned as (ioctl|text)/,
  );
});

test("buildids --json lists each mapped file once, with the build ID readelf reports", () => {
  const out = runJson("buildids", [String(mapper.pid), "--all"]);
  const rows = readRows(mapper.pid).filter((r) => r.inode !== 0n);
  const files = new Set(rows.map((r) => `${r.devMajor}:${r.devMinor}:${r.inode}`));
  assert.equal(out.files.length, files.size);
  for (const f of out.files) {
    if (haveReadelf && f.path.startsWith("/") && !f.path.endsWith(" (deleted)")) {
      assert.equal(f.buildId, readelfBuildId(f.path) ?? null, f.path);
    }
  }
  assert.ok(out.files.some((f: any) => /libc\.so/.test(f.path) && f.buildId));
});

test("watch --json reports every VMA of the first sample as new, then no change for an idle process", () => {
  const r = run("watch", [String(mapper.pid), "--count", "2", "--interval", "50", "--json"]);
  assert.equal(r.status, 0, r.stderr);
  const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  const rows = readRows(mapper.pid);
  assert.equal(events.length, rows.length);
  assert.ok(events.every((e) => e.sample === 0 && e.change === "+"));
  assert.deepEqual(events.map((e) => e.vma.start), rows.map((r) => "0x" + r.start.toString(16)));
});

test("watch reports a mapping that appears and then disappears", async () => {
  // The toggler maps a region on "map", unmaps it on "unmap", printing its address.
  const toggler = spawn(compileC("toggler"), [], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = lineReader(toggler.stdout!);
  const pid = toggler.pid!;
  await lines.next(); // ready
  const [cmd, ...rest] = runtimeCommand("examples/watch.ts", [String(pid), "--interval", "50", "--json"]);
  const w = spawn(cmd, rest, { stdio: ["ignore", "pipe", "inherit"] });
  const events = lineReader(w.stdout!);
  try {
    const waitFor = async (pred: (e: any) => boolean) => {
      for (;;) {
        const line = await events.next();
        if (line === undefined) throw new Error("watch ended early");
        const e = JSON.parse(line);
        if (pred(e)) return e;
      }
    };
    await waitFor((e) => e.sample === 0);
    toggler.stdin!.write("map\n");
    const addr = await lines.next();
    const added = await waitFor((e) => e.change === "+" && e.vma.start === addr);
    assert.ok(added.sample > 0);
    assert.equal(added.vma.perms, "rw-p");
    toggler.stdin!.write("unmap\n");
    await lines.next();
    const removed = await waitFor((e) => e.change === "-" && e.vma.start === addr);
    assert.ok(removed.sample > added.sample);
  } finally {
    w.kill();
    toggler.stdin!.end();
    await new Promise((r) => toggler.on("exit", r));
  }
});

/** Async line iterator over a stream: next() resolves to a line, or undefined at the end. */
function lineReader(stream: NodeJS.ReadableStream): { next(): Promise<string | undefined> } {
  const queue: string[] = [];
  const waiters: ((l: string | undefined) => void)[] = [];
  let buf = "", ended = false;
  stream.setEncoding("utf8");
  stream.on("data", (d: string) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const w = waiters.shift();
      if (w) w(line);
      else queue.push(line);
    }
  });
  stream.on("end", () => {
    ended = true;
    for (const w of waiters.splice(0)) w(undefined);
  });
  return {
    next: () =>
      queue.length
        ? Promise.resolve(queue.shift())
        : ended
        ? Promise.resolve(undefined)
        : new Promise((r) => waiters.push(r)),
  };
}
