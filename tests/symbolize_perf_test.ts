/**
 * `perf record` of a busy child (its own functions and libc's strlen,
 * which perf names after the CPU-specific variant from libc6-dbg's debug
 * file): every sampled user-space address in the child or libc gets the
 * symbol `perf script` prints, or an alias at the same address.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProcMaps } from "../mod.ts";
import { compileC, startChild, type Started } from "./helpers/child.ts";
import { havePerf } from "./helpers/tools.ts";

let bin: string;
let child: Started<{ pid: number }>;
let dir: string;
before(async () => {
  bin = compileC("sym_target", ["-g"]);
  child = await startChild<{ pid: number }>(bin, ["spin"]);
  dir = mkdtempSync(join(tmpdir(), "procmap-perf-"));
});
after(async () => {
  child?.child.kill("SIGKILL");
  await child?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("sampled addresses get the names perf script prints", {
  skip: havePerf ? false : "perf is needed",
  timeout: 180_000,
}, (t) => {
  const libc = realpathSync("/lib/x86_64-linux-gnu/libc.so.6");
  const samples: { ip: bigint; sym: string; start: bigint }[] = [];
  // cpu-clock:u samples only while the child runs: on a busy machine one second may give few,
  // so it records longer (up to 1 + 2 + 4 seconds) until it has enough.
  for (let seconds = 1; samples.length < 50 && seconds <= 4; seconds *= 2) {
    const data = join(dir, `perf-${seconds}.data`);
    const rec = spawnSync(
      "perf",
      [
        "record",
        "-q",
        "-e",
        "cpu-clock:u",
        "-F",
        "499",
        "-p",
        String(child.pid),
        "-o",
        data,
        "--",
        "sleep",
        String(seconds),
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
    if (rec.status !== 0) {
      t.skip(`perf record cannot sample here: ${rec.stderr.trim().split("\n").at(-1)}`);
      return;
    }
    const script = spawnSync("perf", ["script", "-i", data, "-F", "ip,sym,symoff,dso"], {
      encoding: "utf8",
      maxBuffer: 64 << 20,
      timeout: 60_000,
    });
    for (const m of script.stdout.matchAll(/^\s*([0-9a-f]+) (\S+)\+0x([0-9a-f]+) \((\S+)\)$/gm)) {
      if (m[4] !== bin && realpathSync(m[4]) !== libc) continue;
      const ip = BigInt("0x" + m[1]);
      samples.push({ ip, sym: m[2], start: ip - BigInt("0x" + m[3]) });
    }
  }
  assert.ok(samples.length >= 50, `only ${samples.length} samples in the child and libc`);
  assert.ok(samples.some((s) => s.sym === "static_function"));
  using maps = ProcMaps.open(child.pid);
  const got = maps.symbolize(samples.map((s) => s.ip));
  const seen = new Set<string>();
  samples.forEach((s, i) => {
    const sym = got[i]?.symbol;
    const where = `0x${s.ip.toString(16)}: perf ${s.sym}, procmap ${sym?.name} (${got[i]?.symbolReason})`;
    assert.ok(sym, where);
    // The same symbol: the same start address (perf prints one alias, procmap may pick another).
    assert.equal(got[i]!.addr - sym.offset, s.start, where);
    seen.add(sym.name === s.sym ? "same" : "alias");
  });
  assert.ok(seen.has("same"));
});
