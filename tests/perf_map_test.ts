// perf-<pid>.map: synthetic files for the rules (later lines win, perf's line
// format, growth, limits, hostile files), then real maps written by V8 in a
// Node child (--perf-basic-prof) and a Deno child (--v8-flags=--perf-basic-prof),
// checked against an independent parse of the map and the child's maps.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { getLibc } from "../ffi/mod.ts";
import { openPerfMap, PerfMap, type PerfMapLimits } from "../src/symbolize/perf_map.ts";
import { readRows } from "./helpers/ground_truth.ts";
import { isRoot, NOBODY, withProcess } from "./helpers/runtime.ts";

const libc = getLibc();
const tmp = mkdtempSync(join(tmpdir(), "procmap-perfmap-"));
const cleanups: Array<() => void> = [() => rmSync(tmp, { recursive: true, force: true })];
process.on("exit", () => cleanups.forEach((f) => f()));
after(() => cleanups.forEach((f) => f()));

let n = 0;
function mapFile(text: string | Uint8Array): string {
  const p = join(tmp, `m${n++}.map`);
  writeFileSync(p, text);
  return p;
}
function open(path: string, limits?: PerfMapLimits): PerfMap {
  const m = PerfMap.openFile(libc, path, limits);
  assert.ok(m instanceof PerfMap, JSON.stringify(m));
  return m;
}
const name = (m: PerfMap, a: bigint) => m.find(a)?.name;

/** The symbol for `addr` by the rule, independently: the last line covering it. */
function naive(lines: Array<[bigint, bigint, string]>, addr: bigint): string | undefined {
  let hit: string | undefined;
  for (const [s, size, nm] of lines) if (addr >= s && addr < s + size) hit = nm;
  return hit;
}
function parseMapText(text: string): Array<[bigint, bigint, string]> {
  const out: Array<[bigint, bigint, string]> = [];
  for (const l of text.split("\n")) {
    const m = /^([0-9a-fA-F]{1,16}) ([0-9a-fA-F]{1,16}) (.+)$/.exec(l);
    if (m) out.push([BigInt("0x" + m[1]), BigInt("0x" + m[2]), m[3]]);
  }
  return out;
}

describe("PerfMap rules", () => {
  it("later lines win for the range they cover", () => {
    using m = open(mapFile("1000 100 A\n1040 10 B\n10f0 20 C\n"));
    assert.equal(name(m, 0xfffn), undefined);
    assert.equal(name(m, 0x1000n), "A");
    assert.equal(name(m, 0x1045n), "B");
    assert.equal(name(m, 0x1050n), "A");
    assert.equal(name(m, 0x10efn), "A");
    assert.equal(name(m, 0x10f5n), "C");
    assert.equal(name(m, 0x110fn), "C");
    assert.equal(name(m, 0x1110n), undefined);
    // The symbol keeps its own whole range even where a later one covers part of it.
    assert.deepEqual(m.find(0x1050n), { name: "A", start: 0x1000n, size: 0x100n });
  });

  it("reads only perf's line format", () => {
    const text = [
      "0x2000 10 hex prefix",
      "2000  10 two spaces",
      "2000 10",
      "2000 10 ",
      "zz 10 bad",
      "12345678901234567 10 seventeen digits",
      "2000 -10 negative",
      "3000 10 name with spaces\tand tab",
      "3010 10 crlf\r",
      "4000 0 empty range",
      "ABCDEF 1 upper",
      "",
    ].join("\n");
    using m = open(mapFile(text));
    assert.equal(name(m, 0x2000n), undefined);
    assert.equal(name(m, 0x3005n), "name with spaces\tand tab");
    assert.equal(name(m, 0x3010n), "crlf");
    assert.equal(name(m, 0x4000n), undefined);
    assert.equal(name(m, 0xabcdefn), "upper");
    assert.equal(m.size, 4);
  });

  it("re-reads when the file grows, only whole lines", () => {
    const p = mapFile("1000 10 first\n2000 10 par");
    using m = open(p);
    assert.equal(name(m, 0x1000n), "first");
    assert.equal(name(m, 0x2000n), undefined); // no newline yet (the miss read to the end)
    appendFileSync(p, "tial\n1000 10 again\n");
    assert.equal(name(m, 0x2005n), undefined); // one read per rearm: this miss reads nothing
    m.rearm();
    assert.equal(name(m, 0x2005n), "partial"); // a miss after rearm() refreshes
    assert.equal(name(m, 0x1000n), "again");
    assert.equal(m.refresh(), false);
    appendFileSync(p, "5000 10 later\n");
    assert.equal(m.refresh(), true);
    assert.equal(name(m, 0x5000n), "later");
    m.close();
    appendFileSync(p, "6000 10 closed\n");
    assert.equal(name(m, 0x6000n), undefined);
    assert.equal(name(m, 0x5000n), "later");
  });

  it("bounds line length, entries and bytes", () => {
    const long = "7000 10 " + "x".repeat(3 << 20) + "\n"; // spans chunks
    using a = open(mapFile("1000 10 ok\n" + long + "2000 10 after\n"));
    assert.equal(name(a, 0x7000n), undefined);
    assert.equal(name(a, 0x2000n), "after");
    using b = open(mapFile("1000 10 " + "y".repeat(100) + "\n3000 10 short\n"), { maxLineBytes: 64 });
    assert.equal(name(b, 0x1000n), undefined);
    assert.equal(name(b, 0x3000n), "short");
    let lines = "";
    for (let i = 0; i < 10; i++) lines += `${(0x1000 * (i + 1)).toString(16)} 10 e${i}\n`;
    using c = open(mapFile(lines), { maxEntries: 5 });
    assert.equal(c.size, 5);
    assert.match(c.limitReached ?? "", /maxEntries/);
    assert.equal(name(c, 0x5000n), "e4");
    assert.equal(name(c, 0x6000n), undefined);
    using d = open(mapFile(lines), { maxBytes: 30 });
    assert.equal(d.size, 2);
    assert.match(d.limitReached ?? "", /maxBytes/);
    assert.throws(() => PerfMap.openFile(libc, mapFile(""), { maxEntries: 0 }), RangeError);
  });

  it("addresses above 2^53 are dropped, not misread", () => {
    using m = open(mapFile("ffffffffffff0000 10 kernelish\n1000 10 ok\n"));
    assert.equal(m.dropped, 1);
    assert.equal(name(m, 0xffffffffffff0005n), undefined);
    assert.equal(name(m, 0x1000n), "ok");
  });

  it("random bytes and random lines neither throw nor hang, and agree with the rule", { timeout: 60_000 }, () => {
    let seed = 12345;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
    const junk = new Uint8Array(1 << 20).map(() => Math.floor(rnd() * 256));
    using j = open(mapFile(junk));
    j.find(0x1000n);
    let text = "";
    for (let i = 0; i < 3000; i++) {
      const s = Math.floor(rnd() * 0x10000), size = Math.floor(rnd() * 0x400);
      text += `${s.toString(16)} ${size.toString(16)} f${i}\n`;
    }
    using m = open(mapFile(text));
    const lines = parseMapText(text);
    for (let k = 0; k < 2000; k++) {
      const a = BigInt(Math.floor(rnd() * 0x10500));
      assert.equal(name(m, a), naive(lines, a), `0x${a.toString(16)}`);
    }
  });

  it("a map growing a few lines at a time agrees with the rule after every read", { timeout: 60_000 }, () => {
    let seed = 777;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
    const line = (i: number) =>
      `${Math.floor(rnd() * 0x8000).toString(16)} ${Math.floor(rnd() * 0x300).toString(16)} g${i}\n`;
    let text = "";
    for (let i = 0; i < 500; i++) text += line(i);
    const p = mapFile(text);
    using m = open(p);
    for (let round = 0; round < 40; round++) {
      let more = "";
      const count = round % 10 === 9 ? 100 : 1 + Math.floor(rnd() * 8); // now and then a full rebuild
      for (let i = 0; i < count; i++) more += line(1000 * (round + 1) + i);
      appendFileSync(p, more);
      text += more;
      assert.equal(m.refresh(), true);
      const lines = parseMapText(text);
      for (let k = 0; k < 300; k++) {
        const a = BigInt(Math.floor(rnd() * 0x8400));
        assert.equal(name(m, a), naive(lines, a), `round ${round}, 0x${a.toString(16)}`);
      }
    }
  });

  it("refuses FIFOs, directories and devices without blocking", () => {
    const fifo = join(tmp, "fifo.map");
    spawnSync("mkfifo", [fifo]);
    for (const p of [fifo, tmp, "/dev/zero"]) {
      const r = PerfMap.openFile(libc, p);
      assert.ok(!(r instanceof PerfMap));
      assert.equal(r.reason, "not-regular-file", p);
    }
    const r = PerfMap.openFile(libc, join(tmp, "missing.map"));
    assert.ok(!(r instanceof PerfMap) && r.reason === "no-file");
  });
});

describe("openPerfMap(pid)", () => {
  it("says why there is none", () => {
    // A process directory that cannot be read (a descriptor that is not one).
    const none = openPerfMap(libc, { pid: 0x3fffffff, dirfd: -1, startedAtNs: () => undefined });
    assert.ok(!(none instanceof PerfMap) && none.reason === "no-process");
    const self = withProcess("self", (p) => openPerfMap(libc, p));
    if (!existsSync(`/tmp/perf-${process.pid}.map`)) assert.ok(!(self instanceof PerfMap) && self.reason === "no-file");
  });

  it("refuses a map owned by another user (a link to someone else's file)", {
    skip: isRoot ? false : "needs root to chown",
  }, () => {
    const path = `/tmp/perf-${process.pid}.map`;
    if (existsSync(path)) return; // this process writes a real one: leave it alone
    const foreign = join(tmp, "foreign.map");
    writeFileSync(foreign, "1000 10 secret\n");
    chownSync(foreign, NOBODY, NOBODY);
    symlinkSync(foreign, path);
    cleanups.push(() => rmSync(path, { force: true }));
    const r = withProcess("self", (p) => openPerfMap(libc, p));
    assert.ok(!(r instanceof PerfMap), "opened a foreign file");
    assert.equal(r.reason, "foreign-owner");
    rmSync(path);
    writeFileSync(path, "1000 10 mine\n");
    const own = withProcess("self", (p) => openPerfMap(libc, p));
    assert.ok(own instanceof PerfMap, JSON.stringify(own));
    assert.equal(own.find(0x1000n)?.name, "mine");
    own.close();
    rmSync(path);
  });
});

const HOT = `
function hotFunctionName(n) { let s = 0; for (let i = 0; i < n; i++) s += (i * 31) % 7; return s; }
let total = 0;
function tick() { for (let k = 0; k < 200; k++) total += hotFunctionName(1000); setTimeout(tick, 0); }
tick();
setTimeout(() => console.log(JSON.stringify({ pid: process.pid, total })), 400);
`;

function has(cmd: string, args = ["--version"]): boolean {
  return spawnSync(cmd, args).status === 0;
}

/** Starts a V8 child writing a perf map; resolves once the map names the hot function. */
async function startV8(cmd: string, args: string[]): Promise<{ pid: number; child: ChildProcess; map: string }> {
  const dir = join(tmp, "js");
  mkdirSync(dir, { recursive: true });
  const script = join(dir, "hot.js");
  writeFileSync(script, HOT);
  // V8 also writes isolate-*.log files into its working directory.
  const child = spawn(cmd, [...args, script], { cwd: dir, stdio: ["ignore", "pipe", "inherit"] });
  cleanups.push(() => child.kill("SIGKILL"));
  const pid = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.on("exit", (c) => reject(new Error(`${cmd} exited with ${c}`)));
    child.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(JSON.parse(out.split("\n")[0]).pid);
    });
  });
  const map = `/proc/${pid}/root/tmp/perf-${pid}.map`;
  cleanups.push(() => rmSync(`/tmp/perf-${pid}.map`, { force: true }));
  // Until V8 has compiled the function into executable memory (its first line names the bytecode, in the
  // heap: "~hotFunctionName"): looked at until then, a bounded number of times (a busy machine gives the
  // child little CPU).
  const compiled = () => {
    if (!existsSync(map)) return false;
    const rows = readRows(pid).filter((r) => r.perms[2] === "x" && r.inode === 0n && r.name === "");
    const text = readFileSync(map, "utf8");
    return parseMapText(text.slice(0, text.lastIndexOf("\n") + 1)).some(([s, size, nm]) =>
      nm.includes("hotFunctionName") && rows.some((r) => s + size / 2n >= r.start && s + size / 2n < r.end)
    );
  };
  for (let i = 0; i < 1000 && !compiled(); i++) await new Promise((r) => setTimeout(r, 50));
  return { pid, child, map };
}

async function checkV8(cmd: string, args: string[]): Promise<void> {
  const { pid, child, map } = await startV8(cmd, args);
  try {
    const m = withProcess(pid, (p) => openPerfMap(libc, p));
    assert.ok(m instanceof PerfMap, JSON.stringify(m));
    using _m = m;
    const text = readFileSync(map, "utf8");
    const lines = parseMapText(text.slice(0, text.lastIndexOf("\n") + 1));
    const hot = lines.filter(([, , nm]) => nm.includes("hotFunctionName"));
    assert.ok(hot.length > 0, "the map names hotFunctionName");
    // Executable anonymous memory of the child: where V8 puts its code.
    const rows = readRows(pid).filter((r) => r.perms[2] === "x" && r.inode === 0n && r.name === "");
    assert.ok(rows.length > 0, "no executable anonymous VMAs");
    // Every line for it names its address (interpreter entries "~" point at
    // bytecode in the heap; compiled ones into executable anonymous memory).
    let inJit = 0;
    for (const [s, size] of hot) {
      const a = s + size / 2n;
      if (rows.some((r) => a >= r.start && a < r.end)) inJit++;
      assert.equal(m.find(a)?.name, naive(lines, a));
    }
    assert.ok(inJit > 0, `no compiled hotFunctionName in executable memory: ${hot.map(([, , nm]) => nm)}`);
    // Addresses spread over the JIT VMAs name what the map's last line for them says.
    let named = 0;
    for (const r of rows) {
      const step = (r.end - r.start) / 512n || 1n;
      for (let a = r.start; a < r.end; a += step) {
        const got: string | undefined = m.find(a)?.name;
        // Lines appended after our parse may name more; never differently for what we parsed.
        const want = naive(lines, a);
        if (want !== undefined) {
          named++;
          if (got !== want) assert.ok(m.size > lines.length, `0x${a.toString(16)}: ${got} vs ${want}`);
        }
      }
    }
    // And the edges of every line that lies in executable memory.
    for (const [s, size] of lines.filter(([s]) => rows.some((r) => s >= r.start && s < r.end)).slice(0, 3000)) {
      for (const a of [s, s + size - 1n, s + size]) {
        const want = naive(lines, a);
        if (want !== undefined) named++;
        const got: string | undefined = m.find(a)?.name;
        if (got !== want) assert.ok(m.size > lines.length, `0x${a.toString(16)}: ${got} vs ${want}`);
      }
    }
    assert.ok(named > 0);
    perfAgrees(pid, m, rows);
  } finally {
    child.kill("SIGKILL");
  }
}

/**
 * perf itself as the judge: `perf record -p` of the child, then every
 * sampled address in its executable anonymous memory gets the name
 * `perf script` prints for it (perf reads the same map file).
 */
function perfAgrees(pid: number, m: PerfMap, rows: Array<{ start: bigint; end: bigint }>): void {
  const data = join(tmp, `perf-${pid}.data`);
  const rec = spawnSync("perf", [
    "record",
    "-e",
    "cpu-clock",
    "-F",
    "999",
    "-p",
    String(pid),
    "-o",
    data,
    "--",
    "sleep",
    "1",
  ], {
    encoding: "utf8",
  });
  if (rec.status !== 0) return; // perf cannot record here: the checks above stand alone
  const script = spawnSync("perf", ["script", "-i", data, "-F", "ip,sym"], { encoding: "utf8", maxBuffer: 64 << 20 });
  if (script.status !== 0) return;
  // What V8 appended while perf recorded (a symbolize() call reads it once, as this does).
  m.refresh();
  let jit = 0;
  for (const l of script.stdout.split("\n")) {
    const r = /^\s*([0-9a-f]+) (.*)$/.exec(l);
    if (!r) continue;
    const ip = BigInt("0x" + r[1]);
    if (!rows.some((v) => ip >= v.start && ip < v.end)) continue;
    jit++;
    assert.equal(m.find(ip)?.name ?? "[unknown]", r[2].trim(), `perf script: ${l}`);
  }
  assert.ok(jit > 0, "perf sampled no JIT code");
}

describe("PerfMap from V8", () => {
  it("in its own PID and mount namespaces: found by the namespace's pid under the process's own /tmp", {
    skip: isRoot && has("unshare", ["--help"]) && has("node") ? false : "needs root, unshare and node",
    timeout: 60_000,
  }, async () => {
    // A private /tmp: the map exists only in the child's mount namespace, as perf-1.map.
    const child = spawn("unshare", [
      "--pid",
      "--fork",
      "--kill-child", // the namespace's init (node) dies with unshare
      "--mount-proc",
      "--mount",
      "sh",
      "-c",
      'mount -t tmpfs none /tmp && exec node --perf-basic-prof -e "$0"',
      HOT,
    ], { cwd: tmp, stdio: ["ignore", "pipe", "inherit"] }); // V8 writes isolate-*.log into its cwd
    cleanups.push(() => child.kill("SIGKILL"));
    try {
      const inner = await new Promise<number>((resolve, reject) => {
        let out = "";
        child.on("exit", (c) => reject(new Error(`unshare exited with ${c}`)));
        child.stdout!.on("data", (d) => {
          out += d;
          if (out.includes("\n")) resolve(JSON.parse(out.split("\n")[0]).pid);
        });
      });
      assert.equal(inner, 1);
      const pid = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").trim().split(" ")[0]);
      const path = `/proc/${pid}/root/tmp/perf-1.map`;
      for (let i = 0; i < 200 && !(existsSync(path) && readFileSync(path, "utf8").includes("hotFunctionName")); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const m = withProcess(pid, (p) => openPerfMap(libc, p));
      assert.ok(m instanceof PerfMap, JSON.stringify(m));
      using _m = m;
      assert.equal(m.path, path);
      const text = readFileSync(path, "utf8");
      const lines = parseMapText(text.slice(0, text.lastIndexOf("\n") + 1));
      const hot = lines.filter(([, , nm]) => nm.includes("hotFunctionName"));
      assert.ok(hot.length > 0);
      for (const [s, size] of hot) assert.equal(m.find(s + size / 2n)?.name, naive(lines, s + size / 2n));
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("Node --perf-basic-prof: a JIT address is named after the JS function", {
    skip: has("node") ? false : "node is not on PATH",
    timeout: 60_000,
  }, async () => {
    await checkV8("node", ["--perf-basic-prof"]);
  });

  it("Deno --v8-flags=--perf-basic-prof: the same", { timeout: 60_000 }, async (t) => {
    const deno = [join(process.cwd(), "node_modules/.bin/deno"), "deno"].find((d) => has(d));
    if (!deno) return t.skip("deno is not installed");
    await checkV8(deno, ["run", "--v8-flags=--perf-basic-prof"]);
  });
});
