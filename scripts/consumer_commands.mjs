// The consumer smoke test's half about the `procmap` command: every
// subcommand run from the installed tarball under each runtime given, each
// against its ground truth on the same process or file:
//   pmap -x PID                      = procps `pmap -x PID`, byte for byte
//   symbolize -e FILE -f -i -C ADDR  = binutils `addr2line -e FILE -f -i -C ADDR` (-O2 -g C++, inlined frames)
//   buildids PID                     = `perf buildid-list` of a `perf record --buildid-all -p PID`
//   query -p PID                     = the VMA /proc/PID/maps lists for each address
//   watch PID                        = as many VMAs as /proc/PID/maps lists
//   profile -d 1 -o F.folded -- CMD  = folded stacks of the command (Node 20: a one-line refusal, exit 2)
// and nothing on stderr (no ExperimentalWarning under Node 26).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "./runtimes.mjs";

const SUBCOMMANDS = ["pmap", "symbolize", "buildids", "query", "watch", "profile"];

function tool(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 120_000, ...opts });
  if (r.error) return { status: -1, stdout: "", stderr: r.error.message };
  return r;
}
const have = (cmd) => tool(cmd, ["--version"]).status === 0;

function same(what, ours, theirs) {
  if (ours === theirs) return;
  const a = ours.split("\n"), b = theirs.split("\n");
  const i = a.findIndex((line, k) => line !== b[k]);
  throw new Error(`${what} differs at line ${i + 1}:\n  ours:   ${a[i]}\n  theirs: ${b[i]}`);
}

/** `perf buildid-list` of a recording of `pid` with every DSO's build ID, or a reason it cannot be had. */
function perfBuildIds(pid) {
  if (!have("perf")) return "perf is not installed";
  const dir = mkdtempSync(join(tmpdir(), "procmap-perf-"));
  try {
    const data = join(dir, "perf.data");
    const rec = tool("perf", ["record", "-q", "--buildid-all", "-o", data, "-p", pid, "--", "sleep", "0.3"]);
    if (rec.status !== 0) return `perf record failed: ${rec.stderr.trim()}`;
    const list = tool("perf", ["buildid-list", "-i", data]);
    return list.status === 0 ? list.stdout : `perf buildid-list failed: ${list.stderr.trim()}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A C++ program built with -O2 -g (templates, lambdas and libstdc++ inlined), and addresses in
 * its functions where addr2line -i shows inlined calls (and some where it shows none). Left
 * out, as README says procmap differs there: functions whose symbol is a clone
 * (`f.isra.0`, `f.constprop.0`, `f.cold`: addr2line names the symbol, DWARF the function) and
 * rows with a discriminator (addr2line prints it; procmap's frames do not carry it).
 */
function symbolTarget(dir) {
  const src = join(root, "tests", "fixtures", "lines", "lines_target_cpp.cc");
  const exe = join(dir, "lines_target_cpp");
  const cc = tool("g++", ["-O2", "-g", "-std=c++17", "-o", exe, src]);
  if (cc.status !== 0) return `g++ failed: ${cc.stderr}`;
  const nm = tool("nm", ["-S", "--defined-only", exe]);
  if (nm.status !== 0) return "nm is needed";
  const candidates = new Set();
  for (const line of nm.stdout.split("\n")) {
    const [addr, size, type, name] = line.split(" ");
    if (!/^[Tt]$/.test(type ?? "") || !size || name?.includes(".")) continue;
    const start = BigInt("0x" + addr), n = BigInt("0x" + size);
    if (n < 2n) continue;
    for (const k of [1n, n / 4n, n / 2n, (3n * n) / 4n]) candidates.add("0x" + (start + k).toString(16));
  }
  const out = tool("addr2line", ["-a", "-f", "-i", "-C", "-e", exe, ...candidates]).stdout;
  const inlined = [], plain = [];
  for (const block of out.split(/^(?=0x[0-9a-f]{16}$)/m)) {
    const [addr, ...frames] = block.trimEnd().split("\n");
    if (!addr || frames.some((l) => /^\?\?|\(discriminator \d+\)$|:\?$|:0$/.test(l))) continue;
    (frames.length > 2 ? inlined : plain).push("0x" + BigInt(addr).toString(16));
  }
  if (inlined.length === 0) return "no address with inlined frames in the test program";
  return { exe, addrs: [...inlined.slice(0, 10), ...plain.slice(0, 4)] };
}

/**
 * Runs the checks. `runtimes`: { name, cmd, args, env } each, where
 * `cmd args... <subcommand> ...` runs the installed command; `check(name, fn)`
 * records a pass or a failure.
 */
export function commandSmoke({ check, dir, runtimes }) {
  const sleeper = spawn("sleep", ["600"], { stdio: "ignore" });
  const pid = String(sleeper.pid);
  try {
    // A stopped process: its memory figures hold still between procps and procmap.
    process.kill(sleeper.pid, "SIGSTOP");
    const havePmap = existsSync("/usr/bin/pmap");
    const perf = perfBuildIds(pid);
    const target = have("addr2line") ? symbolTarget(dir) : "addr2line is not installed";
    const a2l = typeof target === "string"
      ? undefined
      : tool("addr2line", ["-e", target.exe, "-f", "-i", "-C", ...target.addrs]).stdout;
    const maps = readFileSync(`/proc/${pid}/maps`, "utf8").trimEnd().split("\n");

    for (const rt of runtimes) {
      const run = (args, input = "") => {
        const r = tool(rt.cmd, [...rt.args, ...args], { cwd: dir, env: rt.env, input });
        if (r.status !== 0) throw new Error(`exited ${r.status}: ${r.stderr}${r.stdout.slice(0, 500)}`);
        // query's summary goes to stderr; anything else there is noise.
        const noise = r.stderr.split("\n").filter((l) => l && !/^resolved \d+ addresses/.test(l)).join("\n");
        if (noise) throw new Error(`stderr: ${noise}`);
        return r;
      };
      check(`${rt.name}: --help of procmap and of each subcommand`, () => {
        if (!/^usage: procmap <command>/.test(run(["--help"]).stdout)) throw new Error("no usage");
        for (const c of SUBCOMMANDS) {
          if (!run([c, "--help"]).stdout.startsWith(`usage: procmap ${c}`)) throw new Error(`${c} --help`);
        }
      });
      check(`${rt.name}: pmap -x ${pid} = procps pmap -x ${pid}`, () => {
        // procps right before: reading the vDSO (buildids, symbolize) faults its pages in, which RSS shows.
        const theirs = havePmap ? tool("pmap", ["-x", pid]).stdout : undefined;
        const ours = run(["pmap", "-x", pid]).stdout;
        if (theirs === undefined) {
          if (!ours.includes("total kB")) throw new Error(ours);
        } else same("pmap -x", ours, theirs);
      });
      check(`${rt.name}: symbolize -e FILE -f -i -C = addr2line -e FILE -f -i -C`, () => {
        if (typeof target === "string") throw new Error(target);
        same("symbolize", run(["symbolize", "-e", target.exe, "-f", "-i", "-C", ...target.addrs]).stdout, a2l);
      });
      check(`${rt.name}: buildids ${pid} = perf buildid-list of a perf record of it`, () => {
        const ours = run(["buildids", pid]).stdout;
        if (typeof perf === "string") {
          if (!/ \[vdso\]$/m.test(ours)) throw new Error(`${perf}; and no [vdso] line in ${ours}`);
        } else same("buildids", ours, perf);
      });
      check(`${rt.name}: query -p ${pid} --json: the VMA /proc/${pid}/maps lists`, () => {
        const [line] = maps.filter((l) => / r-xp /.test(l));
        const start = BigInt("0x" + line.split("-")[0]);
        const r = run(["query", "-p", pid, "--json"], `0x${(start + 16n).toString(16)}\n`);
        const got = JSON.parse(r.stdout);
        if (BigInt(got.vma.start) !== start || got.vma.perms !== "r-xp") throw new Error(r.stdout);
      });
      check(`${rt.name}: profile -d 1 -o out.folded -- a busy shell`, () => {
        const out = join(dir, "out.folded");
        const args = ["profile", "-d", "1", "-o", out, "--", "sh", "-c", "while :; do :; done"];
        const r = tool(rt.cmd, [...rt.args, ...args], { cwd: dir, env: rt.env });
        if (r.status === 2 && /has no node:ffi/.test(r.stderr) && r.stderr.trim().split("\n").length === 1) return;
        if (r.status !== 0) throw new Error(`exited ${r.status}: ${r.stderr}`);
        const lines = readFileSync(out, "utf8").trim().split("\n");
        if (!lines.every((l) => / \d+$/.test(l))) throw new Error(`not folded stacks: ${lines.slice(0, 3)}`);
      });
      check(`${rt.name}: watch ${pid} --count 1: its VMAs`, () => {
        const out = run(["watch", pid, "--count", "1"]).stdout;
        if (out.trim() !== `watching ${pid}: ${maps.length} VMAs`) throw new Error(out);
      });
    }
  } finally {
    sleeper.kill("SIGKILL");
  }
}
