// The profile case's input: a real profile of a busy process. Starts bench/profile_target.mjs
// under the machine's Node.js, records it with `perf record -g` (frame-pointer call chains), and
// writes every user-space frame's address (from `perf report -D`, which prints them raw), the
// distinct ones in order of first appearance, the process's maps at the end of the recording,
// and, for frames in files, the file offset perf itself prints for them (`perf script` prints a
// file-backed frame as its offset in the file), for the suite to check procmap against. The
// process keeps running until stop(), so the suites resolve its addresses live.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** perf's context markers in a call chain (PERF_CONTEXT_*): -128 kernel, -512 user; all >= 2^64 - 4096. */
const CONTEXT_USER = 0xfffffffffffffe00n;
const CONTEXT_MIN = 0xfffffffffffff000n;

/** Why perf cannot record here, or undefined when it can. */
export function perfMissing() {
  const r = spawnSync("perf", ["--version"], { encoding: "utf8" });
  return r.status === 0 ? undefined : "perf is not installed (the Debian package linux-perf)";
}

/** Per sample of `perf report -D`, the user-space frames of its call chain. */
function userChains(dump) {
  const chains = [];
  let chain;
  let user = false;
  for (const line of dump.split("\n")) {
    if (line.includes("PERF_RECORD_SAMPLE")) {
      chain = [];
      chains.push(chain);
      user = false;
      continue;
    }
    const m = /^\.\.\.\.\.\s+\d+: ([0-9a-f]{16})$/.exec(line);
    if (!m || !chain) continue;
    const v = BigInt("0x" + m[1]);
    if (v >= CONTEXT_MIN) user = v === CONTEXT_USER;
    else if (user) chain.push(v);
  }
  return chains;
}

/** Per sample of `perf script -F ip,dso`, its user-space frames as [ip as printed, dso]. */
function scriptChains(text) {
  const chains = [];
  let chain = [];
  for (const line of text.split("\n")) {
    const m = /^\s+([0-9a-f]+) \((.*)\)$/.exec(line);
    if (m) {
      if (m[2] !== "[kernel.kallsyms]") chain.push([BigInt("0x" + m[1]), m[2]]);
    } else if (line.trim() === "" && chain.length) {
      chains.push(chain);
      chain = [];
    }
  }
  if (chain.length) chains.push(chain);
  return chains;
}

/**
 * Starts the busy process, records it for `seconds`, writes the files into `outDir`; returns
 * what the suites need (config.profile) and stop().
 */
export async function recordProfile({ node, seconds, outDir, targetScript }) {
  const child = spawn(node, [targetScript], { stdio: ["pipe", "pipe", "inherit"] });
  let exitCode;
  const exited = new Promise((r) => child.on("exit", (code) => r(exitCode = code ?? -1)));
  const stop = () => (child.stdin.end(), exited);
  try {
    await new Promise((resolve, reject) => {
      child.on("error", reject);
      exited.then((code) => reject(new Error(`the profile target exited early (${code})`)));
      child.stdout.setEncoding("utf8");
      child.stdout.on("data", (s) => s.includes("ready") && resolve());
    });
    if (exitCode !== undefined) throw new Error(`the profile target exited early (${exitCode})`);
    const data = join(outDir, "profile.data");
    const rec = spawnSync(
      "perf",
      ["record", "-q", "-g", "-F", "999", "-p", String(child.pid), "-o", data, "--", "sleep", String(seconds)],
      { encoding: "utf8" },
    );
    if (rec.status !== 0) throw new Error(`perf record failed (${rec.status}): ${rec.stderr}`);
    // Recorded: the process stops working (its code stays mapped), so it does not compete with the suites.
    child.stdin.write("idle\n");
    const maps = readFileSync(`/proc/${child.pid}/maps`, "utf8");
    const big = { encoding: "utf8", maxBuffer: 1 << 30 };
    const dump = spawnSync("perf", ["report", "-D", "-i", data], big);
    const script = spawnSync("perf", ["script", "-i", data, "-F", "ip,dso"], big);
    if (dump.status !== 0 || script.status !== 0) throw new Error(`perf report/script failed: ${dump.stderr}`);
    const chains = userChains(dump.stdout);
    const printed = scriptChains(script.stdout);
    // Frames perf prints as file offsets (files, not its perf map of JIT code), by address.
    const offsets = new Map();
    let aligned = 0;
    if (printed.length === chains.length) {
      chains.forEach((c, i) => {
        const p = printed[i];
        if (p.length !== c.length) return;
        aligned++;
        c.forEach((addr, k) => {
          const [ip, dso] = p[k];
          if (dso.startsWith("/") && !/\/perf-\d+\.map$/.test(dso)) offsets.set(addr, { offset: ip, dso });
        });
      });
    }
    const frames = chains.flat();
    const distinct = [...new Set(frames)];
    const hex = (a) => "0x" + a.toString(16);
    const framesFile = join(outDir, "profile-frames.txt");
    const distinctFile = join(outDir, "profile-distinct.txt");
    const expectFile = join(outDir, "profile-offsets.json");
    const mapsFile = join(outDir, "profile-maps.txt");
    writeFileSync(framesFile, frames.map(hex).join("\n") + "\n");
    writeFileSync(distinctFile, distinct.map(hex).join("\n") + "\n");
    writeFileSync(expectFile, JSON.stringify([...offsets].map(([a, o]) => [hex(a), hex(o.offset), o.dso])));
    writeFileSync(mapsFile, maps);
    return {
      config: {
        pid: child.pid,
        seconds,
        samples: chains.length,
        frames: frames.length,
        distinct: distinct.length,
        alignedSamples: aligned,
        framesFile,
        distinctFile,
        expectFile,
        mapsFile,
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
