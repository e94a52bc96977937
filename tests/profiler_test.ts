/**
 * examples/profile.ts (the sampler on perf_event_open) against ground truth:
 * a C child that measures the CPU time of its own functions, profiled at
 * once by procmap and by `perf record -g` at the same frequency (shares
 * within sampling error of both; callchains equal perf's, frame by frame,
 * as file offsets); a Node child under --perf-basic-prof (JS names); a
 * target that exits early, threads that come and go, a target we may not
 * trace, a runtime that cannot profile.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { Profile } from "pprof-format";
import { readRows } from "./helpers/ground_truth.ts";
import { havePerf } from "./helpers/tools.ts";
import { isRoot, runtimeCommand, SETPRIV_NOBODY } from "./helpers/runtime.ts";
import { profileTarget } from "./helpers/profile_target.ts";

const tmp = mkdtempSync(join(tmpdir(), "procmap-profiler-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
const bin = profileTarget();

/** This runtime can profile: Deno, Bun, or a Node with node:ffi. */
const canProfile = "Deno" in globalThis || "Bun" in globalThis ||
  process.getBuiltinModule?.("node:ffi") !== undefined;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs examples/profile.ts under this runtime (asynchronously, so that the test can drive the target). */
function profile(args: string[], prefix: string[] = []): { child: ChildProcess; done: Promise<Run> } {
  // Deno: every permission (FFI, /proc, the output file, running the command), which excludes runtimeCommand's own.
  const cmd = [
    ...prefix,
    ...("Deno" in globalThis
      ? [process.execPath, "run", "-A", "examples/profile.ts", ...args]
      : runtimeCommand("examples/profile.ts", args)),
  ];
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const done = new Promise<Run>((resolve) => child.on("close", (status) => resolve({ status, stdout, stderr })));
  return { child, done };
}

/** Resolves once `child`'s stderr has printed a line matching `re` (or it ended). */
function stderrLine(child: ChildProcess, re: RegExp): Promise<void> {
  return new Promise((resolve) => {
    let text = "";
    const on = (d: Buffer) => {
      text += d;
      if (re.test(text)) resolve();
    };
    child.stderr!.on("data", on);
    child.on("close", () => resolve());
  });
}

function decode(path: string) {
  const p = Profile.decode(gunzipSync(readFileSync(path)));
  const s = (i: number | bigint) => p.stringTable.strings[Number(i)];
  const loc = new Map(p.location.map((l) => [Number(l.id), l]));
  const fn = new Map(p.function.map((f) => [Number(f.id), s(f.name)]));
  const map = new Map(p.mapping.map((m) => [Number(m.id), m]));
  return { p, s, loc, fn, map };
}

/** Leaf-function shares of a profile: name -> fraction of samples. */
function shares(counts: Map<string, number>): Map<string, number> {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return new Map([...counts].map(([k, v]) => [k, v / total]));
}

/** A sampling-error bound for a share p over n samples: 4 standard deviations, plus a little for the clock's edges. */
const bound = (p: number, n: number) => 4 * Math.sqrt((p * (1 - p)) / n) + 0.03;

describe("profile.ts", { skip: !canProfile && "this Node.js has no node:ffi (checked below)" }, () => {
  test("shares within sampling error of the truth and of perf record; callchains equal perf's", async (t) => {
    if (!havePerf) return t.skip("perf is not installed");
    const target = spawn(bin, ["gate", "1.2"], { stdio: ["pipe", "pipe", "inherit"] });
    let out = "";
    target.stdout!.on("data", (d) => (out += d));
    await new Promise<void>((r) => target.stdout!.once("data", () => r()));
    const pid = target.pid!;
    const rows = readRows(pid);
    const pb = join(tmp, "c.pb.gz");
    const perfData = join(tmp, "perf.data");
    const ours = profile(["-F", "99", "-o", pb, "-p", String(pid)]);
    const oursSampling = stderrLine(ours.child, /sampling pid/); // listened for from its start
    // perf record starts with its events disabled (-D -1) and enables them when told to on a FIFO, answering
    // "ack" on another once they are: the target starts its work only after that, however long perf takes.
    const ctl = join(tmp, "perf.ctl"), ack = join(tmp, "perf.ack");
    for (const f of [ctl, ack]) assert.equal(spawnSync("mkfifo", [f]).status, 0, `mkfifo ${f}`);
    const perfArgs = ["record", "-q", "-D", "-1", "--control", `fifo:${ctl},${ack}`, "-F", "99", "-g"];
    const perf = spawn("perf", [...perfArgs, "-e", "cpu-clock", "-p", String(pid), "-o", perfData], {
      stdio: "ignore",
    });
    // Listened for now: perf exits when the target does, often before procmap has written its profile.
    const perfExited = new Promise((r) => perf.on("exit", r));
    const enable = `exec 5>"$1" 6<"$2"; echo enable >&5; read -r a <&6; echo "$a"`;
    const enabled = spawn("sh", ["-c", enable, "sh", ctl, ack], { stdio: ["ignore", "pipe", "inherit"] });
    let answer = "";
    enabled.stdout!.on("data", (d) => (answer += d));
    const told = await Promise.race([
      new Promise((r) => enabled.on("close", () => r(answer.trim()))),
      perfExited.then((code) => `perf record exited (${code}) before enabling its events`),
    ]);
    if (told !== "ack") enabled.kill("SIGKILL"); // left waiting for a FIFO that perf no longer holds
    assert.equal(told, "ack", "perf record enabled its events");
    await oursSampling;
    const exited = new Promise((r) => target.on("exit", r));
    target.stdin!.end("go");
    const run = await ours.done;
    await exited;
    await perfExited;
    assert.equal(run.status, 0, run.stderr);
    const truth = JSON.parse(out.trim().split("\n").at(-1)!) as { a: number; b: number; outer: number };
    const tTotal = truth.a + truth.b + truth.outer;

    // Ours: leaf function of each sample (the function its symbol names: the outermost of its lines, as perf
    // names it without --inline); chains as (file, file offset) per frame, user part only.
    const d = decode(pb);
    const oursCount = new Map<string, number>();
    const toFile = (addr: bigint) => {
      const r = rows.find((x) => x.start <= addr && addr < x.end && x.name.startsWith("/"));
      return r ? `${r.name}@${(addr - r.start + r.offset).toString(16)}` : `?@${addr.toString(16)}`;
    };
    const oursChains = new Map<string, string>();
    for (const sm of d.p.sample) {
      const locs = sm.locationId.map((id) => d.loc.get(Number(id))!);
      const user = locs.filter((l) => d.s(d.map.get(Number(l.mappingId))?.filename ?? 0) !== "[kernel.kallsyms]");
      const leaf = d.fn.get(Number(user[0].line.at(-1)?.functionId)) ?? "?";
      oursCount.set(leaf, (oursCount.get(leaf) ?? 0) + Number(sm.value[0]));
      const chain = user.map((l) => toFile(BigInt(l.address)));
      oursChains.set(chain[0], chain.join(" "));
    }
    // perf's: perf script prints file-backed frames as file offsets.
    const script = spawnSync("perf", ["script", "-i", perfData, "-F", "ip,sym,dso"], {
      encoding: "utf8",
      maxBuffer: 64 << 20,
    }).stdout;
    const perfCount = new Map<string, number>();
    const perfChains = new Map<string, string>();
    for (const block of script.split(/\n\s*\n/)) {
      const frames = [...block.matchAll(/^\s*([0-9a-f]+) (\S+?)(?:\+0x[0-9a-f]+)? \((.+)\)$/gm)]
        .filter((m) => !m[3].includes("kernel.kallsyms"));
      if (frames.length === 0) continue;
      perfCount.set(frames[0][2], (perfCount.get(frames[0][2]) ?? 0) + 1);
      const chain = frames.map((m) => `${m[3]}@${m[1]}`);
      perfChains.set(chain[0], chain.join(" "));
    }
    const n = [...oursCount.values()].reduce((a, b) => a + b, 0);
    const nPerf = [...perfCount.values()].reduce((a, b) => a + b, 0);
    assert.ok(n >= 40 && nPerf >= 40, `enough samples: ours ${n}, perf ${nPerf}`);
    const so = shares(oursCount);
    const sp = shares(perfCount);
    for (const [fn, key] of [["work_a", "a"], ["work_b", "b"], ["outer", "outer"]] as const) {
      const truthShare = truth[key] / tTotal;
      const o = so.get(fn) ?? 0;
      const q = sp.get(fn) ?? 0;
      assert.ok(
        Math.abs(o - truthShare) <= bound(truthShare, n),
        `${fn}: ours ${o.toFixed(3)}, truth ${truthShare.toFixed(3)}`,
      );
      assert.ok(
        Math.abs(o - q) <= bound(truthShare, n) + bound(truthShare, nPerf),
        `${fn}: ours ${o.toFixed(3)}, perf ${q.toFixed(3)}`,
      );
    }
    // Same leaf address (as file offset), same chain.
    let compared = 0;
    for (const [leaf, chain] of oursChains) {
      const theirs = perfChains.get(leaf);
      if (theirs === undefined) continue;
      assert.equal(chain, theirs, `chain of ${leaf}`);
      compared++;
    }
    assert.ok(compared >= 3, `at least 3 leaf addresses in both profiles (${compared})`);
  });

  test("a command it starts: its threads followed, the profile written when it exits early", async () => {
    const folded = join(tmp, "t.folded");
    // 4 threads, one after the other: a fixed amount of work (about 2/3 of it in the threads), however loaded
    // the machine is; 499 Hz for enough samples of it. The threads get the target's events from the kernel
    // (inherited), so they are sampled also when they start while the profiler names its first batch.
    const run = await profile(["-F", "499", "-d", "60", "-o", folded, "--", bin, "threads", "4"]).done;
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /the target ended after [\d.]+ s \(exit status 0\)/);
    const threads = Number(/(\d+) threads?,/.exec(run.stdout)![1]);
    assert.equal(threads, 5, "main and its 4 threads");
    const text = readFileSync(folded, "utf8");
    assert.match(text, /;short_thread;round_once;work_a \d+/, "samples of the short-lived threads");
    assert.match(text, /;main;round_once;work_[ab] \d+/);
  });

  test("threads that start and end while a batch is being named: every one sampled", { timeout: 120_000 }, async () => {
    // The run reads no ring while it names a batch and reports it; here onProgress (called after each batch)
    // holds the run, as a cold first naming can, until the target has exited: its 4 threads, one after the
    // other, start and end meanwhile. Their events come from the target's own (inherited by the kernel), so
    // each is sampled, however long the hold lasts; nothing has to be opened on them in time.
    const { runProfile } = await import("../src/sampler/run.ts");
    let target = 0;
    let held = false;
    const r = await runProfile({
      command: [bin, "threads", "4"],
      frequency: 499,
      kernel: false,
      onStart: (s) => (target = s.pid),
      onProgress: () => {
        if (held) return;
        held = true;
        // Until the target is a zombie (the run reaps it only once it goes on) or gone; 90 s at most.
        const nap = new Int32Array(new SharedArrayBuffer(4));
        for (const deadline = Date.now() + 90_000; Date.now() < deadline;) {
          let state = "";
          try {
            state = readFileSync(`/proc/${target}/stat`, "utf8").replace(/^.*\) /s, "")[0];
          } catch {
            break;
          }
          if (state === "Z") break;
          Atomics.wait(nap, 0, 0, 10);
        }
      },
    });
    try {
      assert.ok(held, "a batch was named while the target ran");
      assert.equal(r.ended, "target-exited");
      assert.deepEqual(r.exit, { code: 0, signal: null });
      const threads = new Set(r.builder.samples().filter((s) => s.tid !== r.pid).map((s) => s.tid));
      assert.equal(threads.size, 4, `threads sampled besides main: ${[...threads]}`);
      assert.equal(r.stats.threads, 5);
      assert.match(r.builder.toFolded(), /;short_thread;round_once;work_a \d+/);
    } finally {
      r.builder.close();
    }
  });

  test("a command that exits before the first batch: its samples named from the files it mapped", {
    timeout: 120_000,
  }, async () => {
    // No batch until the end (batchMs: 10 min): the target (0.3 s of CPU) is gone by then, so only the naming
    // of a new process's first samples at once (at the first drain) can learn which files it mapped.
    const { runProfile } = await import("../src/sampler/run.ts");
    const r = await runProfile({ command: [bin, "spin", "0.3"], frequency: 499, batchMs: 600_000, kernel: false });
    try {
      assert.equal(r.ended, "target-exited");
      assert.deepEqual(r.exit, { code: 0, signal: null });
      assert.match(r.builder.toFolded(), /;main;round_once;work_[ab] \d+/);
    } finally {
      r.builder.close();
    }
  });

  test("a Node child under --perf-basic-prof: JavaScript function names", async () => {
    // Busy far longer than the profile, which ends it with SIGTERM: every batch is named while it runs.
    const script = "function hotLoopForProfile(n){let s=0;for(let i=0;i<n;i++)s+=Math.sqrt(i)%7;return s}" +
      "const end=Date.now()+60000;while(Date.now()<end)hotLoopForProfile(1e5);";
    const node = spawnSync("sh", ["-c", "command -v node"], { encoding: "utf8" }).stdout.trim();
    const folded = join(tmp, "js.folded");
    const run = await profile(["-d", "3", "-o", folded, "--", node, "--perf-basic-prof", "-e", script]).done;
    assert.equal(run.status, 0, run.stderr);
    assert.match(readFileSync(folded, "utf8"), /hotLoopForProfile/);
    assert.match(run.stdout, /hotLoopForProfile/);
  });

  test("a process it may not trace: a clear message, exit status 1", async (t) => {
    if (!isRoot) return t.skip("needs root to drop to nobody");
    const home = "/tmp/procmap-nobody-home";
    mkdirSync(home, { recursive: true });
    chmodSync(home, 0o777);
    const target = spawn(bin, ["wait"], { stdio: ["pipe", "pipe", "inherit"] });
    await new Promise<void>((r) => target.stdout!.once("data", () => r()));
    try {
      const run = await profile(["-d", "1", "-p", String(target.pid)], [
        ...SETPRIV_NOBODY,
        "env",
        `HOME=${home}`,
        `DENO_DIR=${home}/deno`,
        `TMPDIR=${home}`,
      ]).done;
      assert.equal(run.status, 1, run.stderr);
      assert.match(
        run.stderr,
        /perf_event_open on thread \d+ of process \d+: (EACCES|EPERM) \(not allowed to trace it/,
      );
    } finally {
      target.stdin!.end();
    }
  });

  test("a pid that does not exist: exit status 1", async () => {
    const run = await profile(["-d", "1", "-p", "4194303"]).done;
    assert.equal(run.status, 1);
    assert.match(run.stderr, /process 4194303 does not exist/);
  });
});

test(
  "profile.ts refuses a Node.js without node:ffi (exit status 2)",
  { skip: canProfile && "this runtime has FFI" },
  async () => {
    const run = await profile(["-d", "1", "-p", String(process.pid)]).done;
    assert.equal(run.status, 2);
    assert.match(run.stderr, /has no node:ffi/);
  },
);
