/**
 * smaps and smaps_rollup: every figure equals an independent parse of the
 * kernel's text of a stopped C child with known mappings; the rollup equals
 * the sum over the VMAs where the kernel promises it; errors and lifecycle
 * as for the maps handle.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { ProcMaps, ProcMapsError, type SmapsEntry, Vma } from "../mod.ts";
import { FIELD_NAMES, parseSmaps } from "../src/smaps/parser.ts";
import { pid2IsKernelThread } from "./helpers/ground_truth.ts";
import { compileC, startChild, type Started } from "./helpers/child.ts";
import { camel, parseSmapsText, readSmapsTruth, type SmapsTruth } from "./helpers/smaps_truth.ts";
import { isRoot, runtimeCommand } from "./helpers/runtime.ts";

interface ChildInfo {
  pid: number;
  sibling: number;
  lockOk: boolean;
  thpAdvised: boolean;
  anon: string;
  file: string;
  cow: string;
  locked: string;
  thp: string;
  path: string;
}

const PAGE = 4096;
const KNOWN = new Set<string>(FIELD_NAMES.values());
let child: Started<ChildInfo>;
let dir: string;
/** Library and kernel answers, both taken while the child is stopped. */
let entries: SmapsEntry[];
let truth: SmapsTruth[];
let rollup: ReturnType<ProcMaps["rollup"]>;
let rollupTruth: SmapsTruth;
let vmas: Vma[];

function stateOf(pid: number): string {
  return readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "")[0];
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "procmap-smaps-"));
  child = await startChild<ChildInfo>(compileC("smaps_child"), [dir]);
  // Stopped, the child's figures cannot move between the two reads (a
  // stopped process still ages pages: Referenced may be cleared by reclaim,
  // which the equality would show).
  process.kill(child.pid, "SIGSTOP");
  while (stateOf(child.pid) !== "T") await new Promise((r) => setTimeout(r, 5));
  // Pss and the Shared/Private split also depend on the other processes
  // mapping the same pages (shared libraries), which keep running: take the
  // pair again until no other process moved them in between. A wrong parse
  // never matches.
  using maps = ProcMaps.open(child.pid);
  for (let attempt = 0; attempt < 20; attempt++) {
    entries = [...maps.smapsSync()];
    truth = readSmapsTruth(child.pid);
    rollup = maps.rollup();
    rollupTruth = readSmapsTruth(child.pid, "smaps_rollup")[0];
    const again = [...maps.smapsSync()];
    const same = entries.length === truth.length && entries.every((e, i) => sameMap(figuresOf(e), truth[i].fields)) &&
      sameMap(figuresOf(rollup), rollupTruth.fields) &&
      again.length === entries.length && again.every((e, i) => sameMap(figuresOf(e), figuresOf(entries[i])));
    if (same) break;
  }
  vmas = [...maps.vmasSync()];
  process.kill(child.pid, "SIGCONT");
});

after(async () => {
  await child?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function sameMap(a: Map<string, number>, b: Map<string, number>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}

/** Library figures as kernel-named fields (for comparing with the truth). */
function figuresOf(e: object): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, prop] of FIELD_NAMES) {
    const v = (e as Record<string, unknown>)[prop];
    if (v !== undefined) out.set(k, v as number);
  }
  for (const [k, v] of Object.entries((e as { other?: Record<string, number> }).other ?? {})) out.set(k, v);
  return out;
}

function entryAt(addr: string): SmapsEntry {
  const a = BigInt(addr);
  const e = entries.find((x) => x.vma.start === a);
  assert.ok(e, `no smaps entry at ${addr}`);
  return e;
}

describe("smaps of a stopped child equals the kernel's text", () => {
  test("one entry per VMA, each a Vma equal to the maps' own", () => {
    assert.equal(entries.length, truth.length);
    assert.equal(entries.length, vmas.length);
    entries.forEach((e, i) => {
      assert.ok(e.vma instanceof Vma);
      assert.deepEqual(e.vma, vmas[i]);
      const r = truth[i].row;
      assert.deepEqual(
        [e.vma.start, e.vma.end, e.vma.perms, e.vma.offset, e.vma.devMajor, e.vma.devMinor, e.vma.inode, e.vma.name],
        [r.start, r.end, r.perms, r.offset, r.devMajor, r.devMinor, r.inode, r.name],
      );
    });
  });

  test("every field the kernel prints, in bytes, and no other", () => {
    entries.forEach((e, i) => {
      assert.deepEqual(figuresOf(e), truth[i].fields, `VMA ${e.vma.toString()}`);
      assert.deepEqual(e.vmFlags, truth[i].vmFlags);
      for (const k of truth[i].fields.keys()) {
        if (KNOWN.has(camel(k))) assert.equal(FIELD_NAMES.get(k), camel(k));
      }
      assert.equal(e.size, Number(e.vma.size));
      assert.equal(e.kernelPageSize, e.vma.pageSize);
    });
  });

  test("known mappings show the pages the child touched", () => {
    const anon = entryAt(child.info.anon);
    assert.equal(anon.rss, 16 * PAGE);
    assert.equal(anon.anonymous, 16 * PAGE);
    // Written before the fork: shared with the sibling until either writes again.
    assert.equal((anon.sharedDirty ?? 0) + (anon.privateDirty ?? 0), 16 * PAGE);
    assert.equal(anon.pss, 8 * PAGE);
    assert.ok(anon.vmFlags?.includes("wr") && anon.vmFlags.includes("rd"));

    const file = entryAt(child.info.file);
    assert.equal(file.vma.name, child.info.path);
    assert.ok(file.vma.shared);
    assert.equal(file.rss, 16 * PAGE);
    assert.equal(file.anonymous, 0);
    assert.equal((file.sharedDirty ?? 0) + (file.privateDirty ?? 0), 4 * PAGE);
    // Mapped by the sibling too: every page is shared, Pss below Rss.
    assert.equal(file.sharedClean! + file.sharedDirty!, 16 * PAGE);
    assert.ok(file.pss! < file.rss!);
    assert.ok(file.vmFlags?.includes("sh"));

    const cow = entryAt(child.info.cow);
    assert.equal(cow.anonymous, 2 * PAGE);
    assert.ok(cow.rss! >= 8 * PAGE);

    if (child.info.lockOk) assert.equal(entryAt(child.info.locked).locked, 8 * PAGE);
    assert.ok(entryAt(child.info.locked).vmFlags?.includes(child.info.lockOk ? "lo" : "wr"));
  });

  test("transparent huge pages show in AnonHugePages", (t) => {
    const thp = entryAt(child.info.thp);
    if (!child.info.thpAdvised) return t.skip("madvise(MADV_HUGEPAGE) refused: THP is off in this kernel");
    if (!thp.anonHugePages) {
      return t.skip("the kernel gave no huge page to the region (THP disabled or memory fragmented)");
    }
    assert.equal(thp.anonHugePages % (2 << 20), 0);
    assert.ok(thp.vmFlags?.includes("hg"));
    assert.equal(thp.thpEligible, 1);
  });

  test("rollup equals the kernel's smaps_rollup", () => {
    assert.deepEqual(figuresOf(rollup), rollupTruth.fields);
    assert.equal(rollup.start, rollupTruth.row.start);
    assert.equal(rollup.end, rollupTruth.row.end);
    assert.equal("vmFlags" in rollup, false);
  });

  test("rollup equals the sum over smaps where the kernel promises it", () => {
    // Page counts sum exactly (the [vsyscall] gate VMA maps nothing).
    const exact = [
      "rss",
      "sharedClean",
      "sharedDirty",
      "privateClean",
      "privateDirty",
      "referenced",
      "anonymous",
      "ksm",
      "lazyFree",
      "anonHugePages",
      "shmemPmdMapped",
      "filePmdMapped",
      "sharedHugetlb",
      "privateHugetlb",
      "swap",
      "locked",
    ] as const;
    for (const k of exact) {
      if (rollup[k] === undefined) continue;
      const sum = entries.reduce((s, e) => s + (e[k] ?? 0), 0);
      assert.equal(rollup[k], sum, k);
    }
    // Pss (and its parts) are summed before the kernel truncates to kB: per
    // VMA each loses under 1 kB.
    for (const k of ["pss", "pssDirty", "swapPss"] as const) {
      if (rollup[k] === undefined) continue;
      const sum = entries.reduce((s, e) => s + (e[k] ?? 0), 0);
      assert.ok(rollup[k]! >= sum && rollup[k]! < sum + entries.length * 1024, `${k}: ${rollup[k]} vs sum ${sum}`);
    }
    if (rollup.pssAnon !== undefined) {
      const parts = rollup.pssAnon + rollup.pssFile! + rollup.pssShmem!;
      assert.ok(Math.abs(parts - rollup.pss!) <= 2048, `Pss_Anon+Pss_File+Pss_Shmem ${parts} vs Pss ${rollup.pss}`);
    }
  });
});

describe("smaps parser", () => {
  const enc = new TextEncoder();
  const head = "7f0000000000-7f0000002000 rw-p 00000000 00:00 0 \n";
  const parse = (s: string) => {
    const b = enc.encode(s);
    return parseSmaps(b, b.length, PAGE);
  };

  test("fields this kernel does not print are absent; unknown ones kept in other", () => {
    const t = parse(head + "Size:  8 kB\nRss:  4 kB\nNewThing:  3 kB\nCount:  7\nMode:  fast lane\nVmFlags: rd wr \n");
    const e = t.entry(0);
    assert.equal(e.size, 8192);
    assert.equal(e.rss, 4096);
    assert.equal("pss" in e, false);
    assert.deepEqual(e.other, { NewThing: 3072, Count: 7, Mode: "fast lane" });
    assert.deepEqual(e.vmFlags, ["rd", "wr"]);
  });

  test("an empty or one-letter VmFlags line gives a (frozen) list", () => {
    const t = parse(
      head + "VmFlags: \n" + head.replace("7f0000000000-7f0000002000", "7f0000002000-7f0000003000") + "VmFlags: x\n",
    );
    assert.deepEqual(t.entry(0).vmFlags, []);
    assert.deepEqual(t.entry(1).vmFlags, ["x"]);
    assert.ok(Object.isFrozen(t.entry(0).vmFlags));
  });

  test("fields out of the usual order are still found", () => {
    const t = parse(
      head + "Rss:  4 kB\nSize:  8 kB\n" + head.replace("7f0000000000-7f0000002000", "7f0000002000-7f0000003000") +
        "Size:  4 kB\nRss:  0 kB\n",
    );
    assert.deepEqual([t.entry(0).size, t.entry(0).rss, t.entry(1).size, t.entry(1).rss], [8192, 4096, 4096, 0]);
  });

  test("a name with spaces and an escaped newline is the Vma's name", () => {
    const t = parse(
      "7f0000000000-7f0000002000 r--p 00000000 fe:00 12                         /tmp/a b\\012c\nSize:  8 kB\n",
    );
    assert.equal(t.entry(0).vma.name, "/tmp/a b\nc");
    assert.equal(t.entry(0).vma.toString().split("\n").length, 1);
    assert.match(t.entry(0).vma.toString(), /\/tmp\/a b\\012c$/);
  });

  test("bytes past the length given are never read", () => {
    const b = enc.encode(head + "Size:  8 kB\n");
    // The final newline lies past `length`: the text is truncated.
    assert.throws(() => parseSmaps(b, b.length - 1, PAGE), /line 2 \(line is truncated/);
    assert.throws(() => parseSmaps(b, head.length + 6, PAGE), /line 2 \(line is truncated/);
    assert.equal(parseSmaps(b, b.length, PAGE).entry(0).size, 8192);
  });

  /** A small deterministic generator (the test must not depend on luck). */
  function rng(seed: number): () => number {
    return () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 32;
    };
  }
  const NOT_KB = new Set(["THPeligible", "ProtectionKey"]);

  /**
   * Random entries in the kernel's layout (name and colon padded to 16,
   * value right-aligned in 8) and the same with single spaces: values of
   * 1 to 12 digits (wider than 8 too), fields left out, swapped, and
   * unknown ones (short, long, counts, text) in between.
   */
  function randomTexts(seed: number, rows: number): { kernel: string; loose: string } {
    const r = rng(seed);
    const known = [...FIELD_NAMES.keys()];
    let kernel = "", loose = "";
    let addr = 0x7f0000000000;
    for (let i = 0; i < rows; i++) {
      const end = addr + 4096 * (1 + Math.floor(r() * 8));
      const head = `${addr.toString(16)}-${end.toString(16)} rw-p 00000000 00:00 0 ` +
        (r() < 0.5 ? "".padEnd(25) + "/tmp/x y" : "") + "\n";
      addr = end + 4096;
      kernel += head;
      loose += head;
      const names = known.filter(() => r() < 0.9);
      if (r() < 0.2 && names.length > 2) [names[0], names[1]] = [names[1], names[0]];
      if (r() < 0.3) names.splice(Math.floor(r() * names.length), 0, r() < 0.5 ? "Pss_New" : "AVeryLongNewField");
      for (const name of names) {
        const digits = 1 + Math.floor(r() * r() * 12);
        let value = String(Math.floor(r() * 10 ** digits));
        if (r() < 0.5) value = value.slice(0, 1);
        const kb = !NOT_KB.has(name) && !(name === "Pss_New" && r() < 0.5);
        // As task_mmu.c prints: name and colon padded to 16 (with at least one space), the value to column 24.
        const prefix = name.length >= 15 ? name + ": " : (name + ":").padEnd(16);
        kernel += prefix + value.padStart(24 - prefix.length) + (kb ? " kB" : "") + "\n";
        loose += `${name}: ${value}${kb ? " kB" : ""}\n`;
      }
      if (r() < 0.1) {
        kernel += "Mode:           fast lane\n";
        loose += "Mode: fast lane\n";
      }
      const flags = ["rd", "wr", "mr", "mw", "me", "ac", "nr", "sd"].filter(() => r() < 0.6);
      if (r() < 0.9) {
        const line = "VmFlags:" + flags.map((f) => " " + f).join("") + " \n";
        kernel += line;
        loose += line;
      }
    }
    return { kernel, loose };
  }

  const shown = (t: ReturnType<typeof parse>) =>
    Array.from({ length: t.count }, (_, i) => {
      const e = t.entry(i);
      return { vma: e.vma.toString(), figures: [...figuresOf(e)], vmFlags: e.vmFlags, other: e.other };
    });

  test("the kernel's layout and any other spacing parse alike, as an independent parse does", () => {
    for (let seed = 1; seed <= 40; seed++) {
      const { kernel, loose } = randomTexts(seed, 30);
      const k = parse(kernel);
      assert.deepEqual(shown(k), shown(parse(loose)), `seed ${seed}`);
      const truth = parseSmapsText(kernel.replaceAll(/^Mode: .*\n/gm, ""));
      assert.equal(k.count, truth.length);
      truth.forEach((row, i) => {
        const e = k.entry(i);
        const figures = figuresOf(e);
        figures.delete("Mode");
        assert.deepEqual(figures, row.fields, `seed ${seed} row ${i}`);
        assert.deepEqual(e.vmFlags, row.vmFlags, `seed ${seed} row ${i}`);
      });
    }
  });

  test("a text cut anywhere parses to its whole lines or fails as truncated, never reading past its end", () => {
    const { kernel } = randomTexts(7, 3);
    const whole = enc.encode(kernel);
    for (let cut = 1; cut < whole.length; cut++) {
      // The bytes past the cut are still in the buffer, as in a reused one.
      if (whole[cut - 1] === 0x0a) {
        assert.deepEqual(shown(parseSmaps(whole, cut, PAGE)), shown(parse(kernel.slice(0, cut))), `cut ${cut}`);
      } else {
        assert.throws(
          () => parseSmaps(whole, cut, PAGE),
          (e: unknown) => e instanceof ProcMapsError && e.code === "EBADMSG",
          `cut ${cut}`,
        );
      }
    }
  });

  test("a malformed value in the kernel's layout is refused as in any other", () => {
    const bad = (line: string) =>
      assert.throws(
        () => parse(head + "Size:                  8 kB\n" + line + "\n"),
        (e: unknown) =>
          e instanceof ProcMapsError && e.code === "EBADMSG" && /line 3 \(bad value for Rss\)/.test(e.message),
        JSON.stringify(line),
      );
    bad("Rss:                    kB");
    bad("Rss:            12x4     kB");
    bad("Rss:                   4 kb");
    bad("Rss:                   4 kB ");
    bad("Rss:                   4  kB");
    bad("Rss:                  -4 kB");

    assert.throws(
      () => parse(head + "Rss:            1234567890123 kB\n"),
      (e: unknown) => e instanceof ProcMapsError && /line 2 \(value of Rss has more than 12 digits/.test(e.message),
    );
    // Still fine: a value wider than 8, and other spacing.
    assert.equal(parse(head + "Rss:            123456789 kB\n").entry(0).rss, 123456789 * 1024);
    assert.equal(parse(head + "Rss:                 0004 kB\n").entry(0).rss, 4096);
  });

  test("malformed text gives EBADMSG naming the smaps line", () => {
    const bad = (s: string, re: RegExp) =>
      assert.throws(
        () => parse(s),
        (e: unknown) => e instanceof ProcMapsError && e.code === "EBADMSG" && re.test(e.message),
      );
    bad("Size:  8 kB\n", /line 1 \(field before the first maps line\)/);
    bad(head + "Size:  8 kB\nRss 4 kB\n", /line 3 \(neither a maps line/);
    bad(head + "Size:  eight kB\n", /line 2 \(bad value for Size\)/);
    bad(head + "Size:  8 kB", /line 2 \(line is truncated/);
    bad(
      head + "Size:  8 kB\n7f0000002000-7f0000001000 rw-p 00000000 00:00 0 \n",
      /line 3 \(end address not above start\)/,
    );
    bad(head + "Size:  99999999999999999 kB\n", /line 2 \(value of Size has more than 12 digits/);
    bad(head + "Size:  999999999999 kB\nRss:  4096x kB\n", /line 3 \(bad value for Rss\)/);
  });
});

describe("smaps lifecycle and errors", () => {
  test("a closed handle gives EBADF, also mid-iteration", () => {
    const maps = ProcMaps.open("self");
    const it = maps.smapsSync();
    assert.ok(it.next().value);
    maps.close();
    assert.throws(() => it.next(), { code: "EBADF" });
    assert.throws(() => maps.smapsSync(), { code: "EBADF" });
    assert.throws(() => maps.rollup(), { code: "EBADF" });
  });

  test("bad options are refused before any read", () => {
    using maps = ProcMaps.open("self");
    assert.throws(() => maps.smapsSync({ signal: 5 } as never), TypeError);
    assert.throws(() => maps.smapsSync({ nope: 1 } as never), TypeError);
    assert.throws(() => maps.smapsSync({ signal: AbortSignal.abort(new Error("stop")) }), /stop/);
  });

  test("async smaps gives the same VMAs as smapsSync, and break stops it", async () => {
    using maps = ProcMaps.open("self");
    const starts = [...maps.vmasSync()].map((v) => v.start);
    const seen: bigint[] = [];
    for await (const e of maps.smaps()) seen.push(e.vma.start);
    // This process may map or unmap between the reads; most VMAs stay.
    assert.ok(seen.filter((s) => starts.includes(s)).length > starts.length / 2);
    let n = 0;
    for await (const _ of maps.smaps()) if (++n === 2) break;
    assert.equal(n, 2);
  });

  test("walks one after another and interleaved give the same entries (buffers reused only when free)", () => {
    using maps = ProcMaps.open(child.pid);
    process.kill(child.pid, "SIGSTOP");
    try {
      const figures = (es: Iterable<SmapsEntry>) => [...es].map((e) => [e.vma.toString(), e.rss, e.size, e.vmFlags]);
      const first = figures(maps.smapsSync());
      assert.deepEqual(figures(maps.smapsSync()), first);
      // Two iterators at once, stepped in turn: each keeps its own text.
      const a = maps.smapsSync(), b = maps.smapsSync();
      const ea: SmapsEntry[] = [], eb: SmapsEntry[] = [];
      for (;;) {
        const x = a.next(), y = b.next();
        if (x.done || y.done) break;
        ea.push(x.value);
        eb.push(y.value);
        if (ea.length === 3) assert.deepEqual(figures(maps.smapsSync()), first); // a third walk in between
      }
      assert.deepEqual(figures(ea), first);
      assert.deepEqual(figures(eb), first);
    } finally {
      process.kill(child.pid, "SIGCONT");
    }
  });

  test("a kernel thread (pid 2) has no entries and an empty rollup, not ESRCH", {
    skip: pid2IsKernelThread() ? false : "pid 2 is not a kernel thread here (a container's own pid namespace)",
  }, async () => {
    // Ground truth: the kernel's smaps is empty (and its smaps_rollup refuses with ESRCH).
    assert.equal(readFileSync("/proc/2/smaps", "utf8"), "");
    using maps = ProcMaps.open(2);
    assert.deepEqual([...maps.smapsSync()], []);
    const seen = [];
    for await (const e of maps.smaps()) seen.push(e);
    assert.deepEqual(seen, []);
    assert.deepEqual({ ...maps.rollup() }, { start: 0n, end: 0n });
  });

  test("a process that has exited gives ESRCH", async () => {
    const c = spawn("sleep", ["100"]);
    await new Promise((r) => c.on("spawn", r));
    using maps = ProcMaps.open(c.pid!);
    assert.ok(maps.rollup().rss! > 0);
    c.kill("SIGKILL");
    await new Promise((r) => c.on("exit", r));
    assert.throws(() => [...maps.smapsSync()], { code: "ESRCH" });
    assert.throws(() => maps.rollup(), { code: "ESRCH" });
  });

  test("a process that exec'd gives ESRCH (its figures are another program's)", async () => {
    const c = spawn("sh", ["-c", "read x; exec sleep 100"], { stdio: ["pipe", "ignore", "ignore"] });
    await new Promise((r) => c.on("spawn", r));
    using maps = ProcMaps.open(c.pid!);
    assert.ok([...maps.smapsSync()].length > 0);
    c.stdin!.write("go\n");
    while (!readFileSync(`/proc/${c.pid}/cmdline`, "utf8").startsWith("sleep")) {
      await new Promise((r) => setTimeout(r, 5));
    }
    try {
      assert.throws(() => [...maps.smapsSync()], { code: "ESRCH" });
      assert.throws(() => maps.rollup(), { code: "ESRCH" });
    } finally {
      c.kill("SIGKILL");
    }
  });

  test("without ptrace-read access smaps gives EACCES saying so", {
    skip: isRoot ? false : "needs root to drop privileges",
  }, () => {
    const cmd = runtimeCommand("tests/fixtures/smaps_privilege.ts", [String(child.pid)], ["--allow-sys"]);
    const r = spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
    assert.equal(typeof out.walk.ok, "number"); // the maps handle keeps its access
    for (const k of ["smaps", "rollup"]) {
      assert.equal(out[k].code, "EACCES", JSON.stringify(out[k]));
      assert.match(out[k].message, /ptrace-read access/);
      assert.match(out[k].message, /CAP_SYS_PTRACE/);
    }
  });
});
