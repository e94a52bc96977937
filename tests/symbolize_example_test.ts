/**
 * examples/symbolize.ts against `addr2line -f -a -e FILE` on the same
 * addresses (as ELF addresses: addr2line reads the file, not the process):
 * the function lines must match; procmap prints `??:0` where addr2line
 * prints file:line, since it reads no line tables.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { compileC, startChild, type Started } from "./helpers/child.ts";
import { readRows } from "./helpers/ground_truth.ts";
import { runtimeCommand } from "./helpers/runtime.ts";
import { haveNm, loadBias, nmSized } from "./helpers/tools.ts";

const haveAddr2line = spawnSync("addr2line", ["--version"]).status === 0;
let bin: string;
let child: Started<{ pid: number }>;
before(async () => {
  bin = compileC("sym_target", ["-g"]);
  child = await startChild<{ pid: number }>(bin, []);
});
after(() => child?.stop());

function example(args: string[], input?: string) {
  const [cmd, ...rest] = runtimeCommand("examples/symbolize.ts", args);
  return spawnSync(cmd, rest, { encoding: "utf8", input, timeout: 60_000 });
}

test("symbolize --help prints its usage and exits 0", () => {
  const r = example(["--help"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^usage: /);
});

test("symbolize -p prints what addr2line -f -a prints for the function lines", {
  skip: haveAddr2line && haveNm ? false : "addr2line and nm are needed",
}, () => {
  const bias = loadBias(readRows(child.pid), bin);
  const fns = nmSized(bin).filter((s) => ["own_function", "static_function", "main", "spin_here"].includes(s.name));
  assert.equal(fns.length, 4);
  const elf = fns.map((s) => s.addr + 1n);
  const a2l = spawnSync("addr2line", ["-f", "-a", "-e", bin, ...elf.map((a) => "0x" + a.toString(16))], {
    encoding: "utf8",
  }).stdout.trim().split("\n");
  // Addresses on standard input, one per line, as a profiler would pipe them.
  const r = example(["-p", String(child.pid)], elf.map((a) => "0x" + (a + bias).toString(16)).join("\n") + "\n");
  assert.equal(r.status, 0, r.stderr);
  const ours = r.stdout.trim().split("\n");
  assert.equal(ours.length, a2l.length);
  for (let i = 0; i < ours.length; i += 3) {
    assert.equal(ours[i], "0x" + (elf[i / 3] + bias).toString(16).padStart(16, "0"));
    assert.equal(ours[i + 1], a2l[i + 1]);
    assert.equal(ours[i + 2], "??:0");
  }
  // An unmapped address: ??, as addr2line prints for an unknown one.
  const u = example(["-p", String(child.pid), "0x10"]);
  assert.deepEqual(u.stdout.trim().split("\n"), ["0x0000000000000010", "??", "??:0"]);
});
