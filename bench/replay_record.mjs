// Case 8's recordings: real busy processes (bench/busy.mjs under the
// machine's Node.js, bench/many_libs.c), each profiled for a few seconds
// with examples/profile.ts under Deno; their distinct user-space addresses
// are checked against the process's maps (every one must lie in a VMA of
// the process's own) and written one per line, with the maps text, to
// bench/out/ (and, in a run that is not --quick, to bench/data/ for reuse). The targets
// stay alive for the replay, idle once recorded (a line "idle" on their stdin): left working,
// the two took about 1.3 of this 2-core machine's cores through every later suite of a run.
// (Not SIGSTOP: a stopped process is sent SIGHUP when its process group is orphaned, as when
// the shell that started the run in the background exits.)
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { Profile } from "pprof-format";
import { bin, root, systemNode } from "../scripts/runtimes.mjs";

function start(cmd, args) {
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`${cmd} exited early (${code})`)));
    child.stdout.setEncoding("utf8");
    child.stdout.once("data", (line) => {
      child.removeAllListeners("exit");
      const exited = new Promise((r) => child.on("exit", r));
      resolve({
        pid: JSON.parse(line).pid,
        idle: () => child.stdin.write("idle\n"),
        stop: () => (child.stdin.end(), exited),
      });
    });
  });
}

/** The user-space addresses of a pprof file (kernel mappings left out), distinct, in first-seen order. */
function userAddresses(path) {
  const p = Profile.decode(gunzipSync(readFileSync(path)));
  const s = (i) => p.stringTable.strings[Number(i)];
  const kernel = new Set(
    p.mapping.filter((m) =>
      /^\[(kernel\.kallsyms|[^\]/]+)\]$/.test(s(m.filename)) &&
      BigInt(m.memoryStart) >= 0xffff800000000000n
    ).map((m) => Number(m.id)),
  );
  const loc = new Map(p.location.map((l) => [Number(l.id), l]));
  const seen = new Set();
  let samples = 0;
  for (const sm of p.sample) {
    samples += Number(sm.value[0]);
    for (const id of sm.locationId) {
      const l = loc.get(Number(id));
      if (!kernel.has(Number(l.mappingId))) seen.add(BigInt(l.address));
    }
  }
  return { addrs: [...seen], samples };
}

function rows(text) {
  return text.split("\n").filter(Boolean).map((l) => {
    const [s, e] = l.split(" ", 1)[0].split("-");
    return { start: BigInt("0x" + s), end: BigInt("0x" + e) };
  });
}

/**
 * Starts the targets, records them, and returns the replay config:
 * [{ name, pid, vmas, addrsFile, mapsFile, samples, addresses, unmapped }],
 * and the targets to stop.
 */
export async function recordReplay(outDir, { quick, official, manyLibsBin, log }) {
  const seconds = quick ? "1" : "3";
  const targets = [
    { name: "node-builtins", run: () => start(systemNode(), [join(root, "bench", "busy.mjs")]) },
    { name: "c-many-libs", run: () => start(manyLibsBin, []) },
  ];
  const running = [];
  const config = [];
  for (const t of targets) {
    const target = await t.run();
    running.push(target);
    // Let it reach its steady state (libraries loaded, JIT warm) before recording.
    await new Promise((r) => setTimeout(r, 500));
    const pb = join(outDir, `replay-${t.name}.pb.gz`);
    const args = ["run", "-A", join(root, "examples", "profile.ts"), "-F", "999", "-d", seconds, "-o", pb, "-p"];
    log(`$ deno ${args.slice(0, -1).join(" ").replace(root + "/", "")} -p ${target.pid} (${t.name})`);
    const r = spawnSync(bin("deno"), [...args, String(target.pid)], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`profile.ts failed on ${t.name} (${r.status}): ${r.stderr}`);
    // Recorded: its mappings stay for the replay's queries, its work stops competing with the suites.
    target.idle();
    const maps = readFileSync(`/proc/${target.pid}/maps`, "utf8");
    const { addrs, samples } = userAddresses(pb);
    const vmas = rows(maps);
    // Every recorded address must lie in a VMA of the process (they are addresses, not file offsets).
    const unmapped = addrs.filter((a) => !vmas.some((v) => v.start <= a && a < v.end)).length;
    const addrsFile = join(outDir, `replay-${t.name}.addrs.txt`);
    const mapsFile = join(outDir, `replay-${t.name}.maps.txt`);
    writeFileSync(addrsFile, addrs.map((a) => "0x" + a.toString(16)).join("\n") + "\n");
    writeFileSync(mapsFile, maps);
    if (official) {
      const data = join(root, "bench", "data");
      mkdirSync(data, { recursive: true });
      copyFileSync(addrsFile, join(data, `replay-${t.name}.addrs.txt`));
      copyFileSync(mapsFile, join(data, `replay-${t.name}.maps.txt`));
    }
    log(
      `  ${t.name}: ${samples} samples, ${addrs.length} distinct user addresses, ${vmas.length} VMAs, ${unmapped} unmapped`,
    );
    config.push({
      name: t.name,
      pid: target.pid,
      vmas: vmas.length,
      addrsFile,
      mapsFile,
      samples,
      addresses: addrs.length,
      unmapped,
    });
  }
  return { config, running };
}
