/**
 * The `procmap` command (examples/procmap.ts, the package's bin), run as a
 * separate process under this runtime: each subcommand answers --help and
 * reports a bad argument in one line with exit status 2; `procmap pmap -x`
 * prints what procps `pmap -x` prints, byte for byte, also with -A;
 * `procmap buildids` lists what `perf buildid-list` lists for a `perf
 * record` of the same processes; nothing else reaches stderr (no
 * ExperimentalWarning under Node 26).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { runtimeCommand } from "./helpers/runtime.ts";
import { havePerf } from "./helpers/tools.ts";
import { readRows } from "./helpers/ground_truth.ts";
import { asleepIn } from "./helpers/child.ts";

const havePmap = existsSync("/usr/bin/pmap");
const COMMANDS = ["pmap", "symbolize", "buildids", "query", "watch", "profile"];

function procmap(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const [cmd, ...rest] = runtimeCommand("examples/procmap.ts", args);
  const r = spawnSync(cmd, rest, { encoding: "utf8", timeout: 60_000, input: input ?? "" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A `sleep` child, stopped so that its memory figures hold still between two tools. */
let sleeper: ChildProcess;
before(async () => {
  sleeper = spawn("sleep", ["600"], { stdio: "ignore" });
  await asleepIn(sleeper, "sleep"); // its map whole (Deno and Bun spawn asynchronously: it may not have exec'd yet)
});
after(() => {
  sleeper.kill("SIGKILL");
});

test("procmap --help lists the commands; no command, or an unknown one, is a usage error (exit 2)", () => {
  const help = procmap(["--help"]);
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^usage: procmap <command>/);
  for (const c of COMMANDS) assert.match(help.stdout, new RegExp(`^  ${c} `, "m"));
  const none = procmap([]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /^usage: procmap <command>/);
  const bad = procmap(["frobnicate"]);
  assert.equal(bad.status, 2);
  assert.equal(
    bad.stderr,
    `procmap: unknown command 'frobnicate' (commands: ${COMMANDS.join(", ")}; see procmap --help)\n`,
  );
  const version = procmap(["--version"]);
  assert.equal(version.status, 0);
  const pkg = JSON.parse(
    readFileSync(new URL("../package.json", import.meta.url).pathname.replace("/dist/", "/"), "utf8"),
  );
  assert.equal(version.stdout, `procmap ${pkg.version}\n`);
});

for (const c of COMMANDS) {
  test(`procmap ${c}: --help names it as a subcommand; an unknown option is one line, exit 2`, () => {
    const help = procmap([c, "--help"]);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, new RegExp(`^usage: procmap ${c}\\b`));
    assert.doesNotMatch(help.stdout, /\.ts\b/, "no example file name in the usage");
    const bad = procmap([c, "--bogus"]);
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr, `procmap ${c}: unknown option '--bogus' (see procmap ${c} --help)\n`);
    assert.equal(bad.stdout, "");
  });
}

test("procmap pmap, -x, -d equal procps pmap byte for byte, and -A selects as procps does", {
  skip: havePmap ? false : "procps pmap is not installed",
}, () => {
  const pid = String(sleeper.pid);
  process.kill(sleeper.pid!, "SIGSTOP");
  try {
    const pmap = (args: string[]) => spawnSync("pmap", args, { encoding: "utf8" }).stdout;
    const rows = readRows(sleeper.pid!);
    const hex = (n: bigint) => n.toString(16);
    const mid = rows[Math.floor(rows.length / 2)];
    const ranges = [
      hex(mid.start),
      `,${hex(mid.start)}`,
      `${hex(mid.start + 1n)},`,
      `${hex(rows[1].start)},${hex(rows.at(-3)!.start)}`,
      "0,1",
    ];
    for (
      const args of [[], ["-x"], ["-d"], ["-q"], ["-x", "-q"], ...ranges.flatMap((r) => [["-A", r], ["-d", "-A", r]])]
    ) {
      const ours = procmap(["pmap", ...args, pid]);
      assert.equal(ours.status, 0, ours.stderr);
      assert.equal(ours.stderr, "", "nothing on stderr");
      assert.equal(ours.stdout, pmap([...args, pid]), args.join(" "));
    }
    // -x -A: the same rows; procps' RSS and Dirty totals also count the VMAs below the range (its bug), ours do not.
    for (const r of ranges) {
      const ours = procmap(["pmap", "-x", "-A", r, pid]).stdout.split("\n");
      const theirs = pmap(["-x", "-A", r, pid]).split("\n");
      assert.deepEqual(ours.slice(0, -2), theirs.slice(0, -2), r);
      const total = ours.at(-2)!.split(/ +/);
      assert.equal(total[2], theirs.at(-2)!.split(/ +/)[2], `${r}: Kbytes total`);
      const rss = ours.slice(2, -3).reduce((s, l) => s + Number(l.split(/ +/)[2]), 0);
      assert.equal(Number(total[3]), rss, `${r}: RSS total of the rows shown`);
    }
  } finally {
    process.kill(sleeper.pid!, "SIGCONT");
  }
});

test("procmap pmap --json: one line per process, the VMAs as the library's JSON", () => {
  const r = procmap(["pmap", "--json", String(sleeper.pid), "self"]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  assert.equal(lines[0].pid, sleeper.pid);
  assert.deepEqual(
    lines[0].vmas.map((v: { start: string }) => BigInt(v.start)),
    readRows(sleeper.pid!).map((r) => r.start),
  );
});

/** perf buildid-list of a `perf record --buildid-all` of `pids` (every DSO mapped, not only those sampled). */
function perfBuildIds(pids: number[]): string[] | string {
  const dir = mkdtempSync(join(tmpdir(), "procmap-perf-"));
  try {
    const data = join(dir, "perf.data");
    const rec = spawnSync("perf", [
      "record",
      "-q",
      "--buildid-all",
      "-o",
      data,
      "-p",
      pids.join(","),
      "--",
      "sleep",
      "0.3",
    ], {
      encoding: "utf8",
      timeout: 60_000,
    });
    if (rec.status !== 0) return `perf record failed: ${rec.stderr.trim()}`;
    const list = spawnSync("perf", ["buildid-list", "-i", data], { encoding: "utf8", timeout: 60_000 });
    if (list.status !== 0) return `perf buildid-list failed: ${list.stderr.trim()}`;
    return list.stdout.trimEnd().split("\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("procmap buildids lists what perf buildid-list lists for a perf record of the same processes", {
  skip: havePerf ? false : "perf is not installed",
}, (t) => {
  const one = perfBuildIds([sleeper.pid!]);
  if (typeof one === "string") return t.skip(one);
  assert.ok(one.some((l) => l.endsWith(" [vdso]")) && one[0].endsWith(" [kernel.kallsyms]"), one.join("\n"));
  const ours = procmap(["buildids", String(sleeper.pid)]);
  assert.equal(ours.status, 0, ours.stderr);
  assert.equal(ours.stderr, "");
  // One process: the same lines in the same order (the kernel, then address order).
  assert.deepEqual(ours.stdout.trimEnd().split("\n"), one);
  // Two processes (this runtime and sleep): the same set (perf's order follows its own thread list).
  const two = perfBuildIds([process.pid, sleeper.pid!]);
  if (typeof two === "string") return t.skip(two);
  const both = procmap(["buildids", String(process.pid), String(sleeper.pid)]);
  assert.equal(both.status, 0, both.stderr);
  assert.deepEqual(both.stdout.trimEnd().split("\n").sort(), [...two].sort());
  // -k: the kernel's build ID alone, as perf buildid-list -k.
  const k = spawnSync("perf", ["buildid-list", "-k"], { encoding: "utf8" });
  assert.equal(procmap(["buildids", "-k"]).stdout, k.stdout);
});

test("procmap query resolves addresses from standard input, as examples/procfs_query.ts", () => {
  const rows = readRows(sleeper.pid!);
  const r = procmap(["query", "-p", String(sleeper.pid), "--json"], `0x${rows[0].start.toString(16)}\n0x5\n`);
  assert.equal(r.status, 0, r.stderr);
  const [hit, miss] = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.equal(BigInt(hit.vma.start), rows[0].start);
  assert.equal(hit.kind, "file");
  assert.deepEqual(miss, { addr: "0x5", unmapped: true });
  assert.match(r.stderr, /^resolved 2 addresses/);
});

test("procmap watch: an exec is one line, not a - per VMA of the old program and a + per VMA of the new", async () => {
  const child = spawn("/bin/sh", ["-c", "read x; exec sleep 30"], { stdio: ["pipe", "ignore", "inherit"] });
  const [cmd, ...rest] = runtimeCommand("examples/procmap.ts", [
    "watch",
    String(child.pid),
    "--interval",
    "50",
    "--count",
    "30",
  ]);
  const w = spawn(cmd, rest, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "";
  w.stdout!.setEncoding("utf8").on("data", (d: string) => {
    if (!out && d) child.stdin!.write("go\n"); // after the first sample's line
    out += d;
  });
  w.stderr!.setEncoding("utf8").on("data", (d: string) => err += d);
  try {
    const status = await new Promise((r) => w.on("exit", r));
    assert.equal(status, 0, err);
    const lines = out.trimEnd().split("\n");
    assert.match(lines[0], new RegExp(`^watching ${child.pid}: \\d+ VMAs$`));
    assert.equal(lines.filter((l) => l.startsWith("exec: ")).length, 1, out);
    // Before the fix every VMA of the old program came out as "-". (A "+" may follow: the new program's
    // loader can still be mapping libraries when the exec is seen.)
    assert.deepEqual(lines.filter((l) => l.startsWith("- ")), [], "no line per VMA of the old program");
  } finally {
    child.kill();
    await new Promise((r) => child.on("exit", r));
  }
});
