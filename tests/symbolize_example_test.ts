/**
 * examples/symbolize.ts against binutils `addr2line` with the same flags:
 * `-e FILE` (ELF addresses) byte for byte on addresses both handle (DWARF
 * line rows, discriminators included, whose innermost function DWARF
 * names), of a gcc -O2 -g C child and a g++ -O2 -g C++ binary, and
 * `--pid PID` on the same addresses in the live child.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { compileC, FIXTURES, startChild, type Started } from "./helpers/child.ts";
import { readRows } from "./helpers/ground_truth.ts";
import { runtimeCommand } from "./helpers/runtime.ts";
import { loadBias } from "./helpers/tools.ts";
import {
  binutilsFrames,
  haveAddr2line,
  haveLlvmSymbolizer,
  instructionAddresses,
  llvmFrames,
  type ToolFrame,
} from "./helpers/dwarf_tools.ts";
import { sample } from "./helpers/dwarf_builds.ts";

let bin: string;
let cpp: string;
let child: Started<{ pid: number }>;
before(async () => {
  bin = compileC("lines/lines_target", ["-g"]);
  cpp = compileCpp();
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

/** lines_target_cpp.cc by g++ -O2 -g (templates, lambdas, inlined through a header), cached as compileC does. */
function compileCpp(): string {
  const src = join(FIXTURES, "lines/lines_target_cpp.cc");
  const hash = createHash("sha256").update(readFileSync(src)).update(readFileSync(join(FIXTURES, "lines/lines_inl.h")));
  const out = join(tmpdir(), "procmap-test-bin", `lines_target_cpp-${hash.digest("hex").slice(0, 16)}`);
  if (!existsSync(out)) {
    mkdirSync(dirname(out), { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    const r = spawnSync("g++", ["-O2", "-g", "-std=c++17", "-o", tmp, src], { encoding: "utf8", timeout: 120_000 });
    if (r.status !== 0) throw new Error(`g++ lines_target_cpp.cc failed: ${r.stderr || r.error}`);
    renameSync(tmp, out);
  }
  return out;
}

/**
 * Addresses of `file` whose addr2line answer procmap is expected to print
 * the same: in .text, with a DWARF line (no `??`) in a function DWARF
 * describes, where llvm-symbolizer gives the same files and lines (else
 * one of binutils' DWARF 5 bugs the README lists: rows before the first
 * DW_LNS_set_file charged to file 0, in the C++ binary's library functions).
 */
function comparable(file = bin): bigint[] {
  const all = sample(instructionAddresses(file, [".text"]), 300);
  const r = spawnSync("addr2line", ["-a", "-i", "-e", file, ...all.map(hex)], { encoding: "utf8" });
  const blocks = r.stdout.split(/^(?=0x)/m);
  const llvm = haveLlvmSymbolizer ? llvmFrames(file, all) : [];
  const a2l = haveLlvmSymbolizer ? binutilsFrames(file, all) : [];
  const where = (fs: ToolFrame[] | undefined) => JSON.stringify(fs?.map((f) => [f.file, f.line]));
  return all.filter((_, i) =>
    !/\?/.test(blocks[i] ?? "?") &&
    // Padding after a function's end: addr2line names the symbol before it, DWARF no function.
    !llvm[i]?.some((f) => f.name === "") &&
    (!haveLlvmSymbolizer || where(llvm[i]) === where(a2l[i]))
  );
}

const FLAG_SETS = [[], ["-f"], ["-a", "-f", "-i"], ["-f", "-i", "-p", "-C"], ["-a", "-i", "-p", "-s"], ["-fisC"]];

test("symbolize -e prints what addr2line prints with the same flags", {
  skip: haveAddr2line ? false : "addr2line is needed",
}, () => {
  for (const file of [bin, cpp]) {
    const addrs = comparable(file);
    assert.ok(addrs.length >= 50, `enough comparable addresses (${addrs.length})`);
    const input = addrs.map(hex).join("\n") + "\n";
    for (const flags of FLAG_SETS) {
      const want = spawnSync("addr2line", [...flags, "-e", file], { input, encoding: "utf8" }).stdout;
      const r = example([...flags, "-e", file], input);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, want, `${file} flags ${flags.join(" ")}`);
      if (file === bin && flags.includes("-i") && flags.includes("-p")) {
        // gcc -O2 gives the loops' rows discriminators, the inlined loop's too: the test sees both.
        assert.match(want, /:\d+ \(discriminator \d+\)\n/);
        assert.match(want, / \(inlined by\) [^\n]*:\d+ \(discriminator \d+\)\n/);
      }
    }
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
