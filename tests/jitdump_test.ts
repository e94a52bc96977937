// jitdump files: synthetic ones written here from perf's specification
// (tools/perf/Documentation/jitdump-specification.txt), and the one Bun
// (JavaScriptCore) writes with BUN_JSC_useJITDump=1, checked against an
// independent parse of that file and the child's maps.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { getLibc } from "../ffi/mod.ts";
import { JitDump, openJitDump } from "../src/symbolize/jitdump.ts";
import { readRows } from "./helpers/ground_truth.ts";
import { withProcess } from "./helpers/runtime.ts";

const libc = getLibc();
const tmp = mkdtempSync(join(tmpdir(), "procmap-jitdump-"));
const cleanups: Array<() => void> = [() => rmSync(tmp, { recursive: true, force: true })];
process.on("exit", () => cleanups.forEach((f) => f()));
after(() => cleanups.forEach((f) => f()));

// A writer per the specification (little-endian, as on x86_64 and aarch64).
function header(pid: number, magic = 0x4a695444): Uint8Array {
  const b = new Uint8Array(40), v = new DataView(b.buffer);
  v.setUint32(0, magic, true);
  v.setUint32(4, 1, true); // version
  v.setUint32(8, 40, true); // total_size
  v.setUint32(12, 62, true); // EM_X86_64
  v.setUint32(20, pid, true);
  return b;
}
function load(addr: bigint, size: bigint, name: string, index: bigint, code = 8): Uint8Array {
  const nm = new TextEncoder().encode(name + "\0");
  const b = new Uint8Array(56 + nm.length + code), v = new DataView(b.buffer);
  v.setUint32(0, 0, true);
  v.setUint32(4, b.length, true);
  v.setBigUint64(24, addr, true); // vma
  v.setBigUint64(32, addr, true); // code_addr
  v.setBigUint64(40, size, true);
  v.setBigUint64(48, index, true);
  b.set(nm, 56);
  return b;
}
function move(from: bigint, to: bigint, size: bigint, index: bigint): Uint8Array {
  const b = new Uint8Array(64), v = new DataView(b.buffer);
  v.setUint32(0, 1, true);
  v.setUint32(4, 64, true);
  v.setBigUint64(32, from, true);
  v.setBigUint64(40, to, true);
  v.setBigUint64(48, size, true);
  v.setBigUint64(56, index, true);
  return b;
}
function other(kind: number, len: number): Uint8Array {
  const b = new Uint8Array(len), v = new DataView(b.buffer);
  v.setUint32(0, kind, true);
  v.setUint32(4, len, true);
  return b;
}
const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), at += p.length);
  return out;
};
let n = 0;
function file(bytes: Uint8Array): string {
  const p = join(tmp, `jit-${n++}.dump`);
  writeFileSync(p, bytes);
  return p;
}
function open(path: string): JitDump {
  const d = JitDump.openFile(libc, path);
  assert.ok(d instanceof JitDump, JSON.stringify(d));
  return d;
}

/** Code loads of a jitdump, parsed independently: [addr, size, name] in file order. */
function parseLoads(b: Uint8Array): Array<[bigint, bigint, string]> {
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  const out: Array<[bigint, bigint, string]> = [];
  for (let at = v.getUint32(8, true); at + 16 <= b.length;) {
    const kind = v.getUint32(at, true), size = v.getUint32(at + 4, true);
    if (size < 16 || at + size > b.length) break;
    if (kind === 0) {
      const end = b.indexOf(0, at + 56);
      out.push([
        v.getBigUint64(at + 32, true),
        v.getBigUint64(at + 40, true),
        new TextDecoder().decode(b.subarray(at + 56, end)),
      ]);
    }
    at += size;
  }
  return out;
}
function naive(loads: Array<[bigint, bigint, string]>, a: bigint): string | undefined {
  let hit: string | undefined;
  for (const [s, size, nm] of loads) if (a >= s && a < s + size) hit = nm;
  return hit;
}

describe("JitDump format", () => {
  it("reads code loads and moves, skips other records, later records win", () => {
    using d = open(file(cat(
      header(1),
      load(0x1000n, 0x100n, "A", 1n),
      other(2, 40), // JIT_CODE_DEBUG_INFO
      load(0x1040n, 0x10n, "B", 2n, 300),
      other(99, 24), // unknown kind
      move(0x1040n, 0x5000n, 0x10n, 2n),
    )));
    assert.equal(d.find(0x1000n)?.name, "A");
    assert.equal(d.find(0x1045n)?.name, "B");
    assert.equal(d.find(0x1050n)?.name, "A");
    assert.deepEqual(d.find(0x5008n), { name: "B", start: 0x5000n, size: 0x10n });
    assert.equal(d.find(0x1100n), undefined);
    assert.equal(d.pid, 1);
    assert.equal(d.size, 3);
  });

  it("waits for a record being written, then reads it", () => {
    const rec = load(0x2000n, 0x20n, "late", 1n);
    const p = file(cat(header(1), load(0x1000n, 0x10n, "first", 0n), rec.subarray(0, 30)));
    using d = open(p);
    assert.equal(d.find(0x1000n)?.name, "first");
    assert.equal(d.find(0x2000n), undefined);
    appendFileSync(p, rec.subarray(30));
    assert.equal(d.find(0x2010n), undefined); // one read per rearm: the miss above had it
    d.rearm();
    assert.equal(d.find(0x2010n)?.name, "late");
  });

  it("stops at a malformed record, skips unterminated names, refuses foreign headers and non-files", () => {
    const bad = other(0, 8); // size below a record header
    using a = open(file(cat(header(1), load(0x1000n, 0x10n, "ok", 0n), bad, load(0x3000n, 0x10n, "never", 1n))));
    assert.equal(a.find(0x1000n)?.name, "ok");
    assert.equal(a.find(0x3000n), undefined);
    assert.match(a.stopped ?? "", /malformed/);
    const long = load(0x4000n, 0x10n, "x".repeat(5000), 0n);
    using b = open(file(cat(header(1), long, load(0x6000n, 0x10n, "after", 1n))));
    assert.equal(b.find(0x4000n), undefined);
    assert.equal(b.find(0x6000n)?.name, "after");
    for (const bytes of [header(1, 0x4454694a), new Uint8Array(10)]) {
      const r = JitDump.openFile(libc, file(bytes));
      assert.ok(!(r instanceof JitDump) && r.reason === "bad-header");
    }
    const fifo = join(tmp, "fifo");
    spawnSync("mkfifo", [fifo]);
    const r = JitDump.openFile(libc, fifo);
    assert.ok(!(r instanceof JitDump) && r.reason === "not-regular-file");
    const none = withProcess("self", (p) => openJitDump(libc, p));
    assert.ok(!(none instanceof JitDump) && none.reason === "no-file");
  });

  it("random bytes after a valid header neither throw nor hang", () => {
    let seed = 99;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
    for (let k = 0; k < 50; k++) {
      const junk = new Uint8Array(4096).map(() => Math.floor(rnd() * 256));
      using d = open(file(cat(header(1), junk)));
      d.find(BigInt(Math.floor(rnd() * 2 ** 40)));
    }
  });
});

describe("JitDump from Bun", () => {
  it("BUN_JSC_useJITDump=1: a JIT address is named after the JS function", { timeout: 60_000 }, async (t) => {
    const bun = [join(process.cwd(), "node_modules/.bin/bun"), "bun"].find((b) =>
      spawnSync(b, ["--version"]).status === 0
    );
    if (!bun) return t.skip("bun is not installed");
    const dir = join(tmp, "js");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "hot.js"),
      `function hotFunctionName(n) { let s = 0; for (let i = 0; i < n; i++) s += (i * 31) % 7; return s; }
let total = 0;
function tick() { for (let k = 0; k < 200; k++) total += hotFunctionName(1000); setTimeout(tick, 0); }
tick();
setTimeout(() => console.log(JSON.stringify({ pid: process.pid })), 600);
`,
    );
    const child = spawn(bun, [join(dir, "hot.js")], {
      cwd: dir,
      env: { ...process.env, BUN_JSC_useJITDump: "1" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    cleanups.push(() => child.kill("SIGKILL"));
    try {
      const pid = await new Promise<number>((resolve, reject) => {
        let out = "";
        child.on("exit", (c) => reject(new Error(`bun exited with ${c}`)));
        child.stdout!.on("data", (d) => {
          out += d;
          if (out.includes("\n")) resolve(JSON.parse(out.split("\n")[0]).pid);
        });
      });
      // JSC buffers its writes: wait until the function's code is in the file.
      const hasHot = () => {
        const maps = readFileSync(`/proc/${pid}/maps`, "utf8");
        const f = /(\/\S*\/jit-[^/\n]*)$/m.exec(maps)?.[1];
        return f !== undefined && readFileSync(`/proc/${pid}/root${f}`).includes("hotFunctionName");
      };
      for (let i = 0; i < 200 && !hasHot(); i++) await new Promise((r) => setTimeout(r, 50));
      const d = withProcess(pid, (p) => openJitDump(libc, p));
      assert.ok(d instanceof JitDump, JSON.stringify(d));
      using _d = d;
      cleanups.push(() => rmSync(d.path.replace(`/proc/${pid}/root`, ""), { force: true }));
      assert.equal(d.pid, pid);
      assert.ok(existsSync(d.path));
      const loads = parseLoads(new Uint8Array(readFileSync(d.path)));
      const hot = loads.filter(([, , nm]) => nm.includes("hotFunctionName"));
      assert.ok(hot.length > 0, "the jitdump names hotFunctionName");
      const rows = readRows(pid).filter((r) => r.perms[2] === "x" && r.inode === 0n);
      let inJit = 0;
      let named = 0;
      for (const [s, size] of hot) {
        const a = s + size / 2n;
        if (rows.some((r) => a >= r.start && a < r.end)) inJit++;
        const got: string | undefined = d.find(a)?.name;
        assert.equal(got, naive(loads, a), `0x${a.toString(16)}`);
        // JSC may free a tier's code and load another function's over it: the newest record wins there.
        if (/hotFunctionName/.test(got ?? "")) named++;
      }
      assert.ok(inJit > 0, "no hotFunctionName code in executable anonymous memory");
      assert.ok(named > 0, "no address of hotFunctionName's code is named after it");
      for (const [s, size] of loads.slice(0, 2000)) {
        for (const a of [s, s + size - 1n]) {
          const got: string | undefined = d.find(a)?.name;
          if (got !== naive(loads, a)) assert.ok(d.size > loads.length, `0x${a.toString(16)}`);
        }
      }
    } finally {
      child.kill("SIGKILL");
    }
  });
});
