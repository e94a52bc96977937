/**
 * ProfileBuilder against ground truth: stacks of a live C child whose
 * functions `nm` names, its VMA as /proc/<pid>/maps prints it and its build
 * ID as `readelf -n` prints it; the pprof decoded by `pprof-format` (and
 * by Go's `pprof` where installed); folded and speedscope text; kernel
 * frames from /proc/kallsyms; a process gone before its last batch.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { Profile } from "pprof-format";
import { ProfileBuilder } from "../mod.ts";
import { foldedName } from "../src/profile/folded.ts";
import { startChild, type Started } from "./helpers/child.ts";
import { profileTarget } from "./helpers/profile_target.ts";
import { readRows } from "./helpers/ground_truth.ts";
import { nmSized } from "./helpers/tools.ts";

interface TargetInfo {
  pid: number;
  a: string;
  b: string;
  outer: string;
  main: string;
}

let bin: string;
let child: Started<TargetInfo>;
let sym: Map<string, { addr: bigint; size: bigint }>;
let bias: bigint;

function buildIdOf(path: string): string {
  return /Build ID: ([0-9a-f]+)/.exec(spawnSync("readelf", ["-n", path], { encoding: "utf8" }).stdout)![1];
}

/** The runtime address of `name` plus `off`. */
const at = (name: string, off = 0n) => sym.get(name)!.addr + bias + off;

/**
 * What `addr2line -f -i` names at a runtime address of the child, outermost
 * first: the function and the calls inlined into it (the child has DWARF).
 * A return address (every frame but the interrupted one) is named at the
 * call, address - 1, as the builder names it.
 */
function chainAt(addr: bigint, ret: boolean): string[] {
  const elf = addr - bias - (ret ? 1n : 0n);
  const out = spawnSync("addr2line", ["-f", "-i", "-e", bin, "0x" + elf.toString(16)], { encoding: "utf8" }).stdout;
  return out.trimEnd().split("\n").filter((_, i) => i % 2 === 0).reverse();
}

before(async () => {
  bin = profileTarget();
  child = await startChild<TargetInfo>(bin, ["wait"]);
  sym = new Map(nmSized(bin).map((s) => [s.name, { addr: s.addr, size: s.size }]));
  bias = BigInt(child.info.a) - sym.get("work_a")!.addr;
});
after(async () => {
  await child?.stop();
});

describe("ProfileBuilder", () => {
  test("pprof: mappings as the maps print them, locations per address, lines as nm names them", async () => {
    using b = new ProfileBuilder();
    const pid = child.pid;
    const stackA = [at("work_a", 8n), at("round_once", 9n), at("main", 30n)];
    b.add({ pid, tid: pid, stack: stackA });
    b.add({ pid, tid: pid, stack: stackA });
    b.add({ pid, tid: pid + 1, stack: [at("work_b", 4n), 0x1000n], labels: { comm: "w" } });
    const p = Profile.decode(gunzipSync(await b.toPprof()));
    const s = (i: number | bigint) => p.stringTable.strings[Number(i)];
    assert.equal(p.stringTable.strings[0], "");
    assert.deepEqual(p.sampleType.map((t) => [s(t.type), s(t.unit)]), [["samples", "count"]]);
    // One mapping: the text VMA of the binary, exactly as /proc/<pid>/maps has it.
    const row = readRows(pid).find((r) => r.name === bin && r.start <= stackA[0] && stackA[0] < r.end)!;
    assert.equal(p.mapping.length, 1);
    const m = p.mapping[0];
    assert.deepEqual(
      [BigInt(m.memoryStart), BigInt(m.memoryLimit), BigInt(m.fileOffset), s(m.filename), s(m.buildId)],
      [row.start, row.end, row.offset, bin, buildIdOf(bin)],
    );
    // The child has DWARF: every location has files, lines and its inlined calls.
    assert.deepEqual([m.hasFunctions, m.hasFilenames, m.hasLineNumbers, m.hasInlineFrames], [
      true,
      true,
      true,
      true,
    ]);
    // A location per distinct address; its lines innermost first as addr2line -f -i names them, the
    // last one the function nm names.
    assert.equal(p.location.length, 5);
    const byAddr = new Map(p.location.map((l) => [BigInt(l.address), l]));
    const fnName = (id: number | bigint) => s(p.function.find((f) => f.id === id)!.name);
    for (
      const [addr, name, ret] of [[stackA[0], "work_a", false], [stackA[1], "round_once", true], [
        stackA[2],
        "main",
        true,
      ]] as const
    ) {
      const l = byAddr.get(addr)!;
      assert.equal(l.mappingId, m.id);
      const names = l.line.map((x) => fnName(x.functionId));
      assert.deepEqual(names, chainAt(addr, ret).reverse());
      assert.equal(names.at(-1), name);
      assert.ok(l.line.every((x) => Number(x.line) > 0), "each line has a line number");
    }
    // An address nothing maps keeps its address: a Location without a mapping or a line.
    const unmapped = byAddr.get(0x1000n)!;
    assert.equal(Number(unmapped.mappingId), 0);
    assert.equal(unmapped.line.length, 0);
    // Equal stacks are summed; pid and tid are numeric labels, others strings.
    assert.equal(p.sample.length, 2);
    const big = p.sample.find((x) => Number(x.value[0]) === 2)!;
    assert.deepEqual(big.locationId.map((id) => BigInt(p.location.find((l) => l.id === id)!.address)), stackA);
    const small = p.sample.find((x) => Number(x.value[0]) === 1)!;
    assert.deepEqual(small.label.map((l) => [s(l.key), Number(l.num), s(l.str)]), [["pid", pid, ""], [
      "tid",
      pid + 1,
      "",
    ], ["comm", 0, "w"]]);
  });

  test("folded stacks, speedscope and the top functions", () => {
    using b = new ProfileBuilder();
    const pid = child.pid;
    const stackA = [at("work_a", 8n), at("round_once", 9n), at("main", 30n)];
    const stackB = [at("work_b", 4n), at("round_once", 14n), at("main", 30n)];
    for (let i = 0; i < 3; i++) b.add({ pid, stack: stackA });
    b.add({ pid, stack: stackB });
    b.add({ pid, stack: [0xdead0n, at("main", 30n)] });
    // Root first, each frame with the calls inlined at it (as addr2line -f -i names them).
    const folded = (st: bigint[]) => st.toReversed().flatMap((a, i) => chainAt(a, i < st.length - 1)).join(";");
    const [fa, fb] = [folded(stackA), folded(stackB)];
    assert.match(fa, /^main;.*round_once;.*work_a$/);
    assert.match(fb, /^main;.*round_once;.*work_b$/);
    assert.equal(
      b.toFolded(),
      [`${chainAt(stackA[2], true).join(";")};0xdead0 1`, `${fa} 3`, `${fb} 1`].sort().join("\n") + "\n",
    );
    assert.equal(b.toFolded({ rootLabels: ["pid"] }).split("\n")[0], `${pid};main;0xdead0 1`);
    const sc = b.toSpeedscope();
    assert.equal(sc.profiles.length, 1);
    assert.equal(sc.profiles[0].weights.reduce((x, y) => x + y, 0), 5);
    assert.deepEqual(
      sc.profiles[0].samples.map((st) => st.map((i) => sc.shared.frames[i].name).join(";")).sort(),
      ["main;0xdead0", fa, fb].sort(),
    );
    const top = b.topFunctions();
    assert.equal(top.sum, 5);
    assert.deepEqual(top.functions.slice(0, 3).map((f) => [f.name, f.self, f.total]), [
      ["work_a", 3, 3],
      ["0xdead0", 1, 1],
      ["work_b", 1, 1],
    ]);
    assert.deepEqual(top.functions.find((f) => f.name === "main"), { name: "main", module: bin, self: 0, total: 5 });
  });

  test("a return address is named at the call (address - 1), the interrupted one as is", () => {
    // work_b's end is the next function's start: as a return address it belongs to the call before it.
    const end = at("work_b", sym.get("work_b")!.size);
    const next = [...sym].find(([, v]) => v.addr + bias === end)?.[0];
    using b = new ProfileBuilder();
    b.add({ pid: child.pid, stack: [end, end] });
    const names = b.toFolded().split(" ")[0].split(";");
    assert.equal(names[0], "work_b");
    if (next) assert.equal(names[1], next);
    using raw = new ProfileBuilder({ returnAddresses: false });
    raw.add({ pid: child.pid, stack: [end, end] });
    assert.notEqual(raw.toFolded().split(" ")[0].split(";")[0], "work_b");
  });

  test("kernel frames: named from kallsyms, in their own mapping", async (t) => {
    const line = readFileSync("/proc/kallsyms", "utf8").split("\n").find((l) => / T (schedule|do_syscall_64)$/.test(l));
    if (!line || /^0+ /.test(line)) return t.skip("kallsyms hides addresses here");
    const [addr, , name] = line.split(" ");
    using b = new ProfileBuilder();
    b.add({ pid: child.pid, stack: [BigInt("0x" + addr) + 4n, at("work_a", 8n)] });
    const p = Profile.decode(gunzipSync(await b.toPprof()));
    const s = (i: number | bigint) => p.stringTable.strings[Number(i)];
    const k = p.mapping.find((m) => s(m.filename) === "[kernel.kallsyms]")!;
    assert.ok(k, "a [kernel.kallsyms] mapping");
    const loc = p.location.find((l) => l.mappingId === k.id)!;
    assert.equal(s(p.function.find((f) => f.id === loc.line[0].functionId)!.name), name);
    assert.equal(b.toFolded(), `work_a;${name} 1\n`);
  });

  test("a process gone before its batch is named from the files earlier batches saw", async () => {
    const other = await startChild<TargetInfo>(bin, ["wait"]);
    const aOff = BigInt(other.info.a) - sym.get("work_a")!.addr;
    using b = new ProfileBuilder();
    b.add({ pid: other.pid, stack: [BigInt(other.info.a) + 8n] });
    b.flush();
    await other.stop();
    b.add({ pid: other.pid, stack: [sym.get("work_b")!.addr + aOff + 4n, 0x1000n] });
    assert.equal(b.toFolded(), "0x1000;work_b 1\nwork_a 1\n");
    assert.match(b.warnings.join("\n"), new RegExp(`process ${other.pid} could not be read.*ESRCH`));
  });

  test("Go's pprof reads the profile, where it is installed", async (t) => {
    const go = spawnSync("go", ["version"], { encoding: "utf8" });
    if (go.status !== 0) return t.skip("go is not installed (optional: apt-get install golang-go)");
    using b = new ProfileBuilder();
    for (let i = 0; i < 3; i++) b.add({ pid: child.pid, stack: [at("work_a", 8n), at("main", 30n)] });
    b.add({ pid: child.pid, stack: [at("work_b", 4n), at("main", 30n)] });
    const file = join(tmpdir(), `procmap-profile-${process.pid}.pb.gz`);
    writeFileSync(file, await b.toPprof());
    const r = spawnSync("go", ["tool", "pprof", "-top", "-nodecount=5", file], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /3\s+75(\.00)?%\s+75(\.00)?%\s+3\s+75(\.00)?%\s+work_a/);
    assert.match(r.stdout, /1\s+25(\.00)?%\s+100%\s+1\s+25(\.00)?%\s+work_b/);
  });

  test("bad samples and options are refused before anything is added", () => {
    using b = new ProfileBuilder({ sampleTypes: [{ type: "samples", unit: "count" }, { type: "cpu", unit: "ns" }] });
    assert.throws(() => b.add({ pid: -1, stack: [] }), RangeError);
    assert.throws(() => b.add({ pid: 1, stack: "0x10" as unknown as bigint[], values: [1, 1] }), TypeError);
    assert.throws(() => b.add({ pid: 1, stack: [-1n], values: [1, 1] }), RangeError);
    assert.throws(() => b.add({ pid: 1, stack: [1n] }), TypeError); // two sample types need values
    assert.throws(() => b.add({ pid: 1, stack: [1n], values: [1, 0.5] }), TypeError);
    assert.throws(() => b.add({ pid: 1, stack: [1n], values: [1, 1], labels: { x: {} as string } }), TypeError);
    assert.throws(() => b.add({ pid: 1, stack: [1n], values: [1, 1], extra: 1 } as never), TypeError);
    assert.throws(() => new ProfileBuilder({ sampleTypes: [] }), TypeError);
    assert.throws(() => new ProfileBuilder({ period: -1 }), RangeError);
    assert.throws(() => b.toFolded({ value: "nope" }), RangeError);
    assert.equal(b.sampleCount, 0);
    assert.equal(foldedName("a;b\nc"), "a:b c");
  });
});
