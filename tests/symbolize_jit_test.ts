/**
 * symbolize() of JIT code: a Node child started with --perf-basic-prof runs
 * a named JS function. Its perf map's line for that function (the last line
 * covering an address, as perf reads maps) names the address, with kind
 * "jit" and source "perf-map"; and every address `perf record` sampled in
 * the child's executable anonymous memory gets the name `perf script`
 * prints. A process without a perf map gets "jit-no-perf-map" with a hint.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProcMaps } from "../mod.ts";
import { readRows } from "./helpers/ground_truth.ts";
import { startMapper } from "./helpers/child.ts";
import { havePerf } from "./helpers/tools.ts";

const HOT = `
function hotFunctionName(n) { let s = 0; for (let i = 0; i < n; i++) s += Math.sqrt(i + s % 7); return s; }
let total = 0;
function tick() { for (let k = 0; k < 200; k++) total += hotFunctionName(1000); setTimeout(tick, 0); }
tick();
setTimeout(() => console.log(JSON.stringify({ pid: process.pid })), 400);
`;
const haveNode = spawnSync("node", ["--version"]).status === 0;
const dir = mkdtempSync(join(tmpdir(), "procmap-jit-"));
const cleanups: (() => void)[] = [];
after(() => {
  for (const c of cleanups) c();
  rmSync(dir, { recursive: true, force: true });
});

async function startNode(): Promise<{ pid: number; child: ChildProcess }> {
  writeFileSync(join(dir, "hot.js"), HOT);
  const child = spawn("node", ["--perf-basic-prof", "hot.js"], { cwd: dir, stdio: ["ignore", "pipe", "inherit"] });
  cleanups.push(() => child.kill("SIGKILL"));
  const pid = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.on("exit", (c) => reject(new Error(`node exited with ${c}`)));
    child.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(JSON.parse(out.split("\n")[0]).pid);
    });
  });
  cleanups.push(() => rmSync(`/tmp/perf-${pid}.map`, { force: true }));
  return { pid, child };
}

/** The map's lines as [start, size, name]. */
function mapLines(pid: number): [bigint, bigint, string][] {
  const text = readFileSync(`/proc/${pid}/root/tmp/perf-${pid}.map`, "utf8");
  const out: [bigint, bigint, string][] = [];
  for (const m of text.slice(0, text.lastIndexOf("\n") + 1).matchAll(/^([0-9a-f]+) ([0-9a-f]+) (.*)$/gm)) {
    out.push([BigInt("0x" + m[1]), BigInt("0x" + m[2]), m[3]]);
  }
  return out;
}

/** The last line covering `a`, as perf reads maps. */
function naive(lines: [bigint, bigint, string][], a: bigint): string | undefined {
  let name: string | undefined;
  for (const [s, size, n] of lines) if (a >= s && a < s + size) name = n;
  return name;
}

test("JIT code of a Node child with --perf-basic-prof is named from its perf map, as perf script names it", {
  skip: haveNode ? false : "node is needed for the V8 child",
  timeout: 60_000,
}, async () => {
  const { pid, child } = await startNode();
  try {
    const map = `/proc/${pid}/root/tmp/perf-${pid}.map`;
    // Until V8 has compiled the function (its first lines name the bytecode, in the heap: "~hotFunctionName"):
    // looked at until then, a bounded number of times (a busy machine gives the child little CPU).
    const compiled = () => {
      const rows = readRows(pid).filter((r) => r.perms[2] === "x" && r.inode === 0n && r.name === "");
      const lines = existsSync(map) ? mapLines(pid) : [];
      const hot = lines.filter(([s, size, n]) =>
        n.includes("hotFunctionName") && rows.some((r) => s + size / 2n >= r.start && s + size / 2n < r.end)
      );
      return { rows, lines, hot };
    };
    let seen = compiled();
    for (let i = 0; i < 1000 && seen.hot.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      seen = compiled();
    }
    const { rows, lines, hot } = seen;
    assert.ok(hot.length > 0, "the map names compiled hotFunctionName code in executable memory");
    using maps = ProcMaps.open(pid);
    const addrs = hot.map(([s, size]) => s + size / 2n);
    maps.symbolize(addrs).forEach((r, i) => {
      assert.equal(r?.kind, "jit");
      assert.equal(r?.symbol?.source, "perf-map");
      assert.equal(r?.symbol?.name, naive(lines, addrs[i]));
      assert.ok(r?.symbol?.name.includes("hotFunctionName"));
      assert.equal(r?.symbol?.offset, addrs[i] - r!.symbol!.start);
    });
    // The columns name the same JIT symbols (one row per distinct perf-map line).
    const t = maps.symbolizeTable(addrs);
    assert.deepEqual(t.toArray(), maps.symbolize(addrs));
    for (let r = 0; r < t.length; r++) assert.equal(t.symbols.source[t.symbol[r]], "perf-map");
    if (!havePerf) return;
    const data = join(dir, "perf.data");
    const rec = spawnSync("perf", [
      "record",
      "-q",
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
    if (rec.status !== 0) return; // perf cannot record here; the map check above stands
    const script = spawnSync("perf", ["script", "-i", data, "-F", "ip,sym"], { encoding: "utf8", maxBuffer: 64 << 20 });
    const samples: [bigint, string][] = [];
    for (const l of script.stdout.split("\n")) {
      const m = /^\s*([0-9a-f]+) (.*)$/.exec(l);
      if (!m) continue;
      const ip = BigInt("0x" + m[1]);
      if (rows.some((v) => ip >= v.start && ip < v.end)) samples.push([ip, m[2].trim()]);
    }
    assert.ok(samples.length > 0, "perf sampled no JIT code");
    const got = maps.symbolize(samples.map(([ip]) => ip));
    samples.forEach(([ip, sym], i) => {
      assert.equal(got[i]?.symbol?.name ?? "[unknown]", sym, `0x${ip.toString(16)}`);
    });
  } finally {
    child.kill("SIGKILL");
  }
});

test("JIT-like memory of a process without a perf map: jit-no-perf-map with a hint", async () => {
  // The mapper's anonymous rwx region: this runtime's own JIT code is the engine's, which a collection can free
  // between finding it and symbolizing it (and a runtime may have none).
  const mapper = await startMapper();
  try {
    using maps = ProcMaps.open(mapper.pid);
    const [r] = maps.symbolize([BigInt(mapper.info.rwx.start)], { perfMap: false });
    assert.equal(r?.kind, "jit");
    assert.equal(r?.symbolReason, "jit-no-perf-map");
    assert.match(r?.symbolMessage ?? "", /perfMap: false/);
  } finally {
    await mapper.stop();
  }
});
