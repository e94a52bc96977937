/**
 * examples/symbolize.ts against binutils `addr2line` with the same flags:
 * `-e FILE` (ELF addresses) byte for byte on addresses both handle (DWARF
 * line rows without discriminators, whose innermost function DWARF names),
 * and `--pid PID` on the same addresses in a live child.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { compileC, startChild, type Started } from "./helpers/child.ts";
import { readRows } from "./helpers/ground_truth.ts";
import { runtimeCommand } from "./helpers/runtime.ts";
import { loadBias } from "./helpers/tools.ts";
import { haveAddr2line, haveLlvmSymbolizer, instructionAddresses, llvmFrames } from "./helpers/dwarf_tools.ts";
import { sample } from "./helpers/dwarf_builds.ts";

let bin: string;
let child: Started<{ pid: number }>;
before(async () => {
  bin = compileC("lines/lines_target", ["-g"]);
  child = await startChild<{ pid: number }>(bin, []);
});
after(() => child?.stop());

function example(args: string[], input?: string) {
  const [cmd, ...rest] = runtimeCommand("examples/symbolize.ts", args);
  return spawnSync(cmd, rest, { encoding: "utf8", input, timeout: 60_000 });
}

const hex = (a: bigint) => "0x" + a.toString(16);

test("symbolize --help prints its usage and exits 0", () => {
  const r = example(["--help"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^usage: /);
  assert.match(r.stdout, /--pid PID/);
});

test("symbolize takes --pid or -e, not both, and says -p is pretty-print now", () => {
  for (const args of [[], ["--pid", "1", "-e", "/bin/true"], ["-p", "1"]]) {
    const r = example(args, "");
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stdout}`);
    assert.match(r.stderr, /--pid PID, -e FILE or --build-id ID|not an address/);
  }
});

/**
 * Addresses whose addr2line answer procmap is expected to print the same:
 * in .text, with a DWARF line (no `??`, no discriminator: procmap's frames
 * have none) in a function DWARF describes.
 */
function comparable(): bigint[] {
  const all = sample(instructionAddresses(bin, [".text"]), 300);
  const r = spawnSync("addr2line", ["-a", "-i", "-e", bin, ...all.map(hex)], { encoding: "utf8" });
  const blocks = r.stdout.split(/^(?=0x)/m);
  // Padding after a function's end: addr2line names the symbol before it, DWARF no function.
  const llvm = haveLlvmSymbolizer ? llvmFrames(bin, all) : [];
  return all.filter((_, i) => !/\?|discriminator/.test(blocks[i] ?? "?") && !llvm[i]?.some((f) => f.name === ""));
}

test("symbolize -e prints what addr2line prints with the same flags", {
  skip: haveAddr2line ? false : "addr2line is needed",
}, () => {
  const addrs = comparable();
  assert.ok(addrs.length >= 50, `enough comparable addresses (${addrs.length})`);
  const input = addrs.map(hex).join("\n") + "\n";
  for (const flags of [[], ["-f"], ["-a", "-f", "-i"], ["-f", "-i", "-p", "-C"], ["-a", "-i", "-p", "-s"], ["-fisC"]]) {
    const want = spawnSync("addr2line", [...flags, "-e", bin], { input, encoding: "utf8" }).stdout;
    const r = example([...flags, "-e", bin], input);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, want, `flags ${flags.join(" ")}`);
  }
  // Unknown addresses as addr2line prints them.
  const u = example(["-a", "-f", "-e", bin, "0x0"]);
  assert.equal(u.stdout, spawnSync("addr2line", ["-a", "-f", "-e", bin, "0x0"], { encoding: "utf8" }).stdout);
});

test("symbolize --pid prints, for the process's addresses, what addr2line -e prints for the file's", {
  skip: haveAddr2line ? false : "addr2line is needed",
}, () => {
  const addrs = comparable();
  const bias = loadBias(readRows(child.pid), bin);
  const want = spawnSync("addr2line", ["-f", "-i", "-p", "-e", bin, ...addrs.map(hex)], { encoding: "utf8" }).stdout;
  // Addresses on standard input, as a profiler would pipe them.
  const r = example(["--pid", String(child.pid), "-f", "-i", "-p"], addrs.map((a) => hex(a + bias)).join("\n"));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, want);
});

test("procfs_query prints each address's innermost function and file:line as addr2line does", {
  skip: haveAddr2line ? false : "addr2line is needed",
}, () => {
  const addrs = comparable().slice(0, 20);
  const bias = loadBias(readRows(child.pid), bin);
  const a2l = spawnSync("addr2line", ["-f", "-C", "-e", bin, ...addrs.map(hex)], { encoding: "utf8" }).stdout
    .trimEnd().split("\n");
  const [cmd, ...rest] = runtimeCommand("examples/procfs_query.ts", ["-p", String(child.pid)]);
  const r = spawnSync(cmd, rest, { input: addrs.map((a) => hex(a + bias)).join("\n"), encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assert.equal(lines.length, addrs.length);
  lines.forEach((l, i) => assert.ok(l.endsWith(` in ${a2l[2 * i]} at ${a2l[2 * i + 1]}`), `${l}\n${a2l[2 * i]}`));
});
