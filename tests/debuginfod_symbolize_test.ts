/**
 * The asynchronous symbolizers with a real debuginfod on loopback: a
 * stripped child whose debug file exists only on the server is named as
 * the unstripped binary is named (`symbolizeFile()` on it, and `nm -S`),
 * the file lands in the cache where the synchronous forms then find it,
 * ten callers make one request, a server that is down is a report in the
 * results, and nothing reaches the network unless a server is named.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { ProcMaps, Symbolizer } from "../mod.ts";
import { compileC, startChild, type Started } from "./helpers/child.ts";
import { readRows } from "./helpers/ground_truth.ts";
import { readelfBuildId } from "./helpers/elf_notes.ts";
import { haveNm, isCode, loadBias, nmSized, type NmSymbol, run } from "./helpers/tools.ts";
import { type Debuginfod, freePort, noDebuginfod, startDebuginfod } from "./helpers/debuginfod.ts";
import { runtimeCommand } from "./helpers/runtime.ts";

const haveAddr2line = spawnSync("addr2line", ["--version"]).status === 0;
const skip = noDebuginfod || (haveNm ? false : "nm is needed for the ground truth");

describe("symbolizeAsync and symbolizeFileAsync with a real debuginfod", { skip }, () => {
  let work: string;
  let bin: string;
  let stripped: string;
  let id: string;
  let server: Debuginfod;
  let child: Started<{ pid: number }>;
  let bias: bigint;
  let nm: NmSymbol[];
  let deadUrl: string;
  let victimBin: string;
  let victimId: string;
  let victim: string;
  let cacheN = 0;
  const freshCache = () => join(work, `cache-${cacheN++}`);

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "procmap-dbgsym-"));
    bin = compileC("sym_target", ["-g"]);
    id = readelfBuildId(bin)!;
    const served = join(work, "served");
    mkdirSync(served);
    // The debug file is on the server only; the stripped copy has no debug link to find one by.
    run("objcopy", ["--only-keep-debug", bin, join(served, "target.debug")]);
    stripped = join(work, "target");
    run("objcopy", ["--strip-all", bin, stripped]);
    run("chmod", ["+x", stripped]);
    // Another program, both its files on the server, run from a copy the test deletes.
    victimBin = compileC("sym_target", ["-g", "-O1"]);
    victimId = readelfBuildId(victimBin)!;
    run("objcopy", ["--only-keep-debug", victimBin, join(served, "victim.debug")]);
    run("objcopy", ["--strip-all", victimBin, join(served, "victim")]);
    victim = join(work, "victim");
    run("cp", [join(served, "victim"), victim]);
    server = await startDebuginfod(served);
    deadUrl = `http://127.0.0.1:${await freePort()}`;
    child = await startChild<{ pid: number }>(stripped, []);
    bias = loadBias(readRows(child.pid), stripped);
    nm = nmSized(bin).filter((s) => isCode(s) && s.size > 0n);
  });
  after(async () => {
    await child?.stop();
    await server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("a stripped child is named as the unstripped binary is, once its debug file is fetched", async () => {
    const cache = freshCache();
    const symbolizer = new Symbolizer({ debugDirs: [], debuginfod: { urls: [server.url], cachePath: cache } });
    // Probes: the first, middle and last byte of every function nm sizes.
    const elf = nm.flatMap((s) => [s.addr, s.addr + s.size / 2n, s.addr + s.size - 1n]);
    const truth = symbolizer.symbolizeFile(bin, elf);
    using maps = ProcMaps.open(child.pid);
    const addrs = elf.map((a) => a + bias);
    const before = maps.symbolize(addrs, { symbolizer });
    assert.ok(before.every((r) => r?.symbol?.source !== "debug-file"), "no debug file locally");
    assert.ok(!before.some((r) => r?.symbol?.name === "static_function"), "static functions unnamed before");
    const progress: number[] = [];
    const got = await maps.symbolizeAsync(addrs, {
      symbolizer,
      onProgress: (p) => {
        assert.equal(p.buildId, id);
        progress.push(p.receivedBytes);
      },
    });
    got.forEach((r, i) => {
      const where = `0x${elf[i].toString(16)}`;
      assert.equal(r?.buildId, id);
      assert.equal(r?.elfAddr, elf[i], where);
      assert.equal(r?.symbol?.name, truth[i].symbol?.name, where);
      assert.equal(r?.symbol?.start, truth[i].symbol?.start, where);
      assert.equal(r?.symbol?.size, truth[i].symbol?.size, where);
      assert.equal(r?.symbol?.source, "debug-file", where);
      assert.equal(r?.debuginfod?.status, "downloaded", where);
      // Source lines from the fetched file's DWARF, as from the unstripped binary's.
      assert.deepEqual(r?.symbol?.frames, truth[i].symbol?.frames, where);
      // nm's own answer: a symbol it lists there, covering the address.
      assert.ok(nm.some((s) => s.name === r?.symbol?.name && s.addr === r?.symbol?.start), where);
    });
    assert.ok(progress.length > 0 && progress.at(-1)! > 0, "progress was reported");
    // Results as every result: toJSON() gives bigints as hex strings, the report as it is.
    const json = JSON.parse(JSON.stringify(got[0]));
    assert.equal(json.symbol.name, got[0]?.symbol?.name);
    assert.equal(json.elfAddr, `0x${elf[0].toString(16)}`);
    assert.equal(json.debuginfod.status, "downloaded");
    assert.equal(statSync(join(cache, id, "debuginfo")).mode & 0o777, 0o400);
    // From now on the synchronous form names it from the cache, and nothing is fetched again.
    const sync = maps.symbolize(addrs, { symbolizer });
    sync.forEach((r, i) => assert.equal(r?.symbol?.name, truth[i].symbol?.name));
    const fresh = new Symbolizer({ debugDirs: [], debuginfod: { urls: [deadUrl], cachePath: cache } });
    maps.symbolize(addrs, { symbolizer: fresh }).forEach((r, i) =>
      assert.equal(r?.symbol?.name, truth[i].symbol?.name)
    );
    const asked = await server.requests(id);
    const again = await maps.symbolizeAsync(addrs, { symbolizer });
    again.forEach((r, i) => {
      assert.equal(r?.symbol?.name, truth[i].symbol?.name);
      assert.equal(r?.debuginfod, undefined, "nothing was asked: the cache had it");
    });
    assert.equal(await server.requests(id), asked);
  });

  test("a child with its symbol table but no DWARF locally gets its lines from the fetched debug file", async () => {
    // The same build: --strip-debug keeps .symtab (names), drops DWARF (lines).
    const noLines = join(work, "target-no-lines");
    run("objcopy", ["--strip-debug", bin, noLines]);
    run("chmod", ["+x", noLines]);
    const other = await startChild<{ pid: number }>(noLines, []);
    try {
      const b = loadBias(readRows(other.pid), noLines);
      const elf = nm.map((s) => s.addr + s.size / 2n);
      const addrs = elf.map((a) => a + b);
      const truth = new Symbolizer({ debugDirs: [], debuginfod: false }).symbolizeFile(bin, elf);
      assert.ok(truth.some((t) => t.symbol?.frames), "the unstripped binary has lines");
      using maps = ProcMaps.open(other.pid);
      // Lines not wanted: the symbol table names it all, nothing is asked.
      const asked = await server.requests(`/buildid/${id}/debuginfo`);
      const symbolizer = new Symbolizer({ debugDirs: [], debuginfod: { urls: [server.url], cachePath: freshCache() } });
      const names = await maps.symbolizeAsync(addrs, { symbolizer, lines: false });
      names.forEach((r, i) => {
        assert.equal(r?.symbol?.name, truth[i].symbol?.name);
        assert.equal(r?.debuginfod, undefined);
      });
      const before = maps.symbolize(addrs, { symbolizer });
      assert.ok(before.every((r) => r?.symbol && !r.symbol.frames), "named, no lines locally");
      assert.equal(await server.requests(`/buildid/${id}/debuginfo`), asked, "nothing asked without lines");
      // Lines wanted: the debug file is fetched for its DWARF.
      const got = await maps.symbolizeAsync(addrs, { symbolizer });
      got.forEach((r, i) => {
        const where = `0x${elf[i].toString(16)}`;
        assert.equal(r?.debuginfod?.status, "downloaded", where);
        assert.equal(r?.symbol?.name, truth[i].symbol?.name, where);
        assert.deepEqual(r?.symbol?.frames, truth[i].symbol?.frames, where);
      });
      // The file's own form too, from a fresh cache.
      const fileSymbolizer = new Symbolizer({
        debugDirs: [],
        debuginfod: { urls: [server.url], cachePath: freshCache() },
      });
      const file = await fileSymbolizer.symbolizeFileAsync(noLines, elf);
      file.forEach((r, i) => {
        assert.equal(r.debuginfod?.status, "downloaded");
        assert.deepEqual(r.symbol?.frames, truth[i].symbol?.frames);
      });
    } finally {
      await other.stop();
    }
  });

  test("symbolizeFileAsync gives symbolizeFile's answers for the unstripped file; ten callers make one request", async () => {
    const cache = freshCache();
    const symbolizer = new Symbolizer({ debugDirs: [], debuginfod: { urls: [server.url], cachePath: cache } });
    const elf = nm.map((s) => s.addr);
    const truth = symbolizer.symbolizeFile(bin, elf);
    const asked = await server.requests(`/buildid/${id}/debuginfo`);
    const all = await Promise.all(
      Array.from({ length: 10 }, () => symbolizer.symbolizeFileAsync(stripped, elf)),
    );
    for (const got of all) {
      got.forEach((r, i) => {
        assert.equal(r.symbol?.name, truth[i].symbol?.name);
        assert.equal(r.symbol?.size, truth[i].symbol?.size);
        assert.equal(r.debuginfod?.status, "downloaded");
      });
    }
    assert.equal(await server.requests(`/buildid/${id}/debuginfo`) - asked, 1, "one request in the server's log");
  });

  test("a server that is down: a report in the results, no exception, the local answers kept", async () => {
    const cache = freshCache();
    const symbolizer = new Symbolizer({ debugDirs: [], debuginfod: { urls: [deadUrl], cachePath: cache } });
    const elf = nm.map((s) => s.addr);
    const got = await symbolizer.symbolizeFileAsync(stripped, elf);
    const local = new Symbolizer({ debugDirs: [], debuginfod: false }).symbolizeFile(stripped, elf);
    got.forEach((r, i) => {
      assert.equal(r.debuginfod?.status, "failed");
      assert.ok(r.debuginfod?.message.startsWith(deadUrl), r.debuginfod?.message);
      assert.equal(r.symbol?.name, local[i].symbol?.name);
      assert.equal(r.symbolReason, local[i].symbolReason);
      if (!r.symbol) assert.match(r.symbolMessage ?? "", /debuginfod: /);
    });
    using maps = ProcMaps.open(child.pid);
    const [r] = await maps.symbolizeAsync([elf[0] + bias], { symbolizer });
    assert.equal(r?.debuginfod?.status, "failed");
    assert.ok(!existsSync(join(cache, id)), "nothing cached, no miss recorded");
  });

  test("an aborted call rejects with the signal's reason", async () => {
    const symbolizer = new Symbolizer({ debugDirs: [], debuginfod: { urls: [server.url], cachePath: freshCache() } });
    const ac = new AbortController();
    ac.abort(new Error("stop"));
    await assert.rejects(symbolizer.symbolizeFileAsync(stripped, [nm[0].addr], { signal: ac.signal }), /stop/);
    using maps = ProcMaps.open(child.pid);
    await assert.rejects(maps.symbolizeAsync([nm[0].addr + bias], { symbolizer, signal: ac.signal }), /stop/);
    await assert.rejects(maps.symbolizeAsync([1n], { signal: "no" as never }), TypeError);
    await assert.rejects(maps.symbolizeAsync([1n], { onProgress: 1 as never }), TypeError);
    await assert.rejects(maps.symbolizeAsync([1n], { bogus: 1 } as never), TypeError);
  });

  test("symbolizeBuildId: a binary deleted after its (build ID, file offset) records were taken", async () => {
    // The agent's half: resolve samples of a running process to (build ID, file offset).
    const vnm = nmSized(victimBin).filter((s) => isCode(s) && s.size > 0n);
    const elf = vnm.flatMap((s) => [s.addr, s.addr + s.size - 1n]);
    const proc = await startChild<{ pid: number }>(victim, []);
    let records: { buildId: string; fileOffset: bigint; elfAddr: bigint }[];
    try {
      const vbias = loadBias(readRows(proc.pid), victim);
      using maps = ProcMaps.open(proc.pid);
      records = maps.resolve(elf.map((a) => a + vbias)).map((r) => ({
        buildId: r!.buildId!,
        fileOffset: r!.fileOffset!,
        elfAddr: r!.elfAddr!,
      }));
    } finally {
      await proc.stop();
    }
    rmSync(victim);
    assert.ok(records.every((r) => r.buildId === victimId));
    // The central half, with neither the process nor the file.
    const cache = freshCache();
    const symbolizer = new Symbolizer({ debugDirs: [], debuginfod: { urls: [server.url], cachePath: cache } });
    const truth = symbolizer.symbolizeFile(victimBin, elf);
    const got = await symbolizer.symbolizeBuildId(victimId.toUpperCase(), records.map((r) => r.fileOffset), {
      kind: "file-offset",
    });
    got.forEach((r, i) => {
      const where = `offset 0x${records[i].fileOffset.toString(16)}`;
      assert.equal(r.buildId, victimId);
      assert.equal(r.fileOffset, records[i].fileOffset);
      assert.equal(r.elfAddr, records[i].elfAddr, where);
      assert.equal(r.symbol?.name, truth[i].symbol?.name, where);
      assert.equal(r.symbol?.start, truth[i].symbol?.start, where);
      assert.equal(r.symbol?.source, "debug-file", where);
      assert.equal(r.debuginfod?.status, "downloaded");
    });
    assert.ok(got.some((r) => r.symbol?.name === "static_function"));
    assert.deepEqual(JSON.parse(JSON.stringify(got[0])).fileOffset, `0x${records[0].fileOffset.toString(16)}`);
    assert.ok(existsSync(join(cache, victimId, "debuginfo")) && existsSync(join(cache, victimId, "executable")));
    // ELF addresses need no executable; both forms agree; the second call fetches nothing.
    const asked = await server.requests(victimId);
    const byElf = await symbolizer.symbolizeBuildId(victimId, records.map((r) => r.elfAddr), { kind: "elf-address" });
    byElf.forEach((r, i) => {
      assert.equal(r.symbol?.name, got[i].symbol?.name);
      assert.equal(r.fileOffset, undefined);
      assert.equal(r.debuginfod, undefined);
    });
    assert.equal(await server.requests(victimId), asked);
    // From local debug directories alone (as distributions lay them out), no server at all.
    const dir = join(work, "debugdir", ".build-id", victimId.slice(0, 2));
    mkdirSync(dir, { recursive: true });
    run("cp", [join(cache, victimId, "debuginfo"), join(dir, `${victimId.slice(2)}.debug`)]);
    run("cp", [join(cache, victimId, "executable"), join(dir, victimId.slice(2))]);
    const offline = new Symbolizer({ debugDirs: [join(work, "debugdir")], debuginfod: false });
    const local = await offline.symbolizeBuildId(victimId, records.map((r) => r.fileOffset), { kind: "file-offset" });
    local.forEach((r, i) => {
      assert.equal(r.symbol?.name, got[i].symbol?.name);
      assert.equal(r.elfAddr, records[i].elfAddr);
      assert.equal(r.debuginfod, undefined);
    });
  });

  test("symbolizeBuildId: an unknown build ID, and file offsets without an executable, say why", async () => {
    const symbolizer = new Symbolizer({ debugDirs: [], debuginfod: { urls: [server.url], cachePath: freshCache() } });
    const unknown = await symbolizer.symbolizeBuildId("00".repeat(20), [0x1000n], { kind: "file-offset" });
    assert.equal(unknown[0].symbol, undefined);
    assert.equal(unknown[0].symbolReason, "build-id-unknown");
    assert.equal(unknown[0].debuginfod?.status, "not-found");
    assert.match(unknown[0].debuginfod?.message ?? "", /404/);
    // `target`: only its debug file is on the server. ELF addresses are named from it...
    const elf = nm.map((s) => s.addr);
    const truth = symbolizer.symbolizeFile(bin, elf);
    const named = await symbolizer.symbolizeBuildId(id, elf, { kind: "elf-address" });
    named.forEach((r, i) => assert.equal(r.symbol?.name, truth[i].symbol?.name));
    // ...file offsets cannot be turned into ELF addresses without the executable's program headers.
    const offsets = await symbolizer.symbolizeBuildId(id, [0x1000n], { kind: "file-offset" });
    assert.equal(offsets[0].elfAddr, undefined);
    assert.equal(offsets[0].symbolReason, "no-elf-address");
    assert.match(offsets[0].symbolMessage ?? "", /program headers/);
    // Without any server: a clear reason, nothing asked.
    const none = await new Symbolizer({ debugDirs: [], debuginfod: false }).symbolizeBuildId(victimId, [0n], {
      kind: "elf-address",
    });
    assert.equal(none[0].symbolReason, "build-id-unknown");
    assert.equal(none[0].debuginfod, undefined);
    // Bad arguments.
    await assert.rejects(symbolizer.symbolizeBuildId("xyz", [0n], { kind: "elf-address" }), TypeError);
    await assert.rejects(symbolizer.symbolizeBuildId("abc", [0n], { kind: "elf-address" }), TypeError);
    await assert.rejects(symbolizer.symbolizeBuildId(id, [0n], {} as never), TypeError);
    await assert.rejects(symbolizer.symbolizeBuildId(id, [-1n], { kind: "elf-address" }), RangeError);
    await assert.rejects(symbolizer.symbolizeBuildId(id, [0n], { kind: "elf-address", extra: 1 } as never), TypeError);
  });

  test("README's two machines: examples/agent.ts records, the binary is deleted, examples/central.ts names", async () => {
    const copy = join(work, "victim-for-agent");
    run("cp", [join(work, "served", "victim"), copy]);
    const vnm = nmSized(victimBin).filter((s) => isCode(s) && s.size > 0n);
    const proc = await startChild<{ pid: number }>(copy, []);
    let agent;
    try {
      const vbias = loadBias(readRows(proc.pid), copy);
      const samples = vnm.map((s) => "0x" + (s.addr + s.size / 2n + vbias).toString(16));
      // A sample in no mapping, for the other kind of record.
      const [cmd, ...args] = runtimeCommand("examples/agent.ts", [String(proc.pid)]);
      agent = spawnSync(cmd, args, { encoding: "utf8", input: [...samples, "0x10"].join("\n"), timeout: 60_000 });
    } finally {
      await proc.stop();
    }
    rmSync(copy);
    assert.equal(agent.status, 0, agent.stderr);
    const records = agent.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(records.length, vnm.length + 1);
    assert.deepEqual(records.at(-1), { addr: "0x10", kind: "unmapped" });
    assert.ok(records.slice(0, -1).every((r) => r.buildId === victimId && /^0x[0-9a-f]+$/.test(r.fileOffset)));
    // Elsewhere: the records, DEBUGINFOD_URLS, an empty cache.
    const [cmd, ...args] = runtimeCommand("examples/central.ts", [], ["--allow-net", "--allow-write", "--allow-env"]);
    const central = spawnSync(cmd, args, {
      encoding: "utf8",
      input: agent.stdout,
      timeout: 60_000,
      env: { ...process.env, DEBUGINFOD_URLS: server.url, DEBUGINFOD_CACHE_PATH: freshCache() },
    });
    assert.equal(central.status, 0, central.stderr);
    const lines = central.stdout.trim().split("\n");
    assert.equal(lines.length, records.length);
    const truth = new Symbolizer({ debuginfod: false }).symbolizeFile(victimBin, vnm.map((s) => s.addr + s.size / 2n));
    truth.forEach((t, i) =>
      assert.equal(lines[i], `${records[i].addr} ${t.symbol!.name}+0x${t.symbol!.offset.toString(16)}`)
    );
    assert.equal(lines.at(-1), "0x10 ?? (unmapped)");
    // The README shows these programs: every line of its two-machine code is in them.
    const readme = readFileSync("README.md", "utf8");
    const section = readme.slice(readme.indexOf("### Symbolizing elsewhere"));
    const blocks = [...section.slice(0, section.indexOf("\n## ")).matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
    assert.equal(blocks.length, 2, "the README's agent and central code");
    const sources = readFileSync("examples/agent.ts", "utf8") + readFileSync("examples/central.ts", "utf8");
    for (const line of blocks.join("\n").split("\n")) {
      if (line.trim() !== "" && !line.trim().startsWith("//")) {
        assert.ok(sources.includes(line.trim()), `README line not in the examples: ${line}`);
      }
    }
  });

  test("examples/symbolize.ts with DEBUGINFOD_URLS: --pid and --build-id print addr2line -f -a's lines", {
    skip: haveAddr2line ? false : "addr2line is needed",
  }, () => {
    const fns = nm.filter((s) => ["own_function", "static_function", "main", "spin_here"].includes(s.name));
    assert.equal(fns.length, 4);
    const elf = fns.map((s) => "0x" + (s.addr + 1n).toString(16));
    // The unstripped binary's answer: addresses, function names, file:line (the DWARF is in the debug file).
    const a2l = run("addr2line", ["-f", "-a", "-e", bin, ...elf]).trim().split("\n");
    const functions = a2l.filter((_, i) => i % 3 === 1);
    assert.ok(functions.includes("static_function"), "a local function, named only by the debug file");
    const example = (args: string[], input?: string) => {
      const [cmd, ...rest] = runtimeCommand("examples/symbolize.ts", args, [
        "--allow-env",
        "--allow-net",
        "--allow-write",
      ]);
      const r = spawnSync(cmd, rest, {
        encoding: "utf8",
        input,
        timeout: 60_000,
        env: { ...process.env, DEBUGINFOD_URLS: server.url, DEBUGINFOD_CACHE_PATH: freshCache() },
      });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim().split("\n");
    };
    // A module known by its build ID alone: its debug file comes from the server.
    const remote = example(["--build-id", id, "-f", "-a", ...elf]);
    assert.deepEqual(remote, a2l);
    // The stripped child: its debug file is fetched before it is named.
    const live = example(
      ["--pid", String(child.pid), "--json"],
      fns.map((s) => `0x${(s.addr + 1n + bias).toString(16)}`).join("\n"),
    );
    const rows = live.map((l) => JSON.parse(l));
    assert.deepEqual(rows.map((r) => r.name), functions);
    assert.ok(rows.every((r) => r.debuginfod === "downloaded" && r.source === "debug-file"), live.join("\n"));
  });

  test("nothing reaches the network unless DEBUGINFOD_URLS or the option names a server", async () => {
    const realFetch = globalThis.fetch;
    const saved = process.env.DEBUGINFOD_URLS;
    const savedCache = process.env.DEBUGINFOD_CACHE_PATH;
    let calls = 0;
    globalThis.fetch = ((...args: Parameters<typeof fetch>) => {
      calls++;
      return realFetch(...args);
    }) as typeof fetch;
    const elf = nm.map((s) => s.addr);
    try {
      using maps = ProcMaps.open(child.pid);
      delete process.env.DEBUGINFOD_URLS;
      process.env.DEBUGINFOD_CACHE_PATH = freshCache();
      const quiet = new Symbolizer({ debugDirs: [] });
      assert.deepEqual(quiet.debuginfodConfig()?.urls, []);
      const a = await quiet.symbolizeFileAsync(stripped, elf);
      const b = await maps.symbolizeAsync(elf.map((x) => x + bias), { symbolizer: quiet });
      const c = await quiet.symbolizeBuildId(victimId, [0n], { kind: "file-offset" });
      assert.ok([...a, ...b, ...c].every((r) => r?.debuginfod === undefined));
      assert.equal(c[0].symbolReason, "build-id-unknown");
      // Turned off: not even with DEBUGINFOD_URLS set.
      process.env.DEBUGINFOD_URLS = server.url;
      await new Symbolizer({ debugDirs: [], debuginfod: false }).symbolizeFileAsync(stripped, elf);
      assert.equal(calls, 0, "no request without a server named");
      // The control: named by the environment, the same call asks the server.
      const named = await new Symbolizer({ debugDirs: [] }).symbolizeFileAsync(stripped, elf);
      assert.ok(calls > 0);
      assert.equal(named[0].debuginfod?.status, "downloaded");
    } finally {
      globalThis.fetch = realFetch;
      if (saved === undefined) delete process.env.DEBUGINFOD_URLS;
      else process.env.DEBUGINFOD_URLS = saved;
      if (savedCache === undefined) delete process.env.DEBUGINFOD_CACHE_PATH;
      else process.env.DEBUGINFOD_CACHE_PATH = savedCache;
    }
  });
});
