// The examples' --json output is dynamic data, checked field by field by the assertions below.
// deno-lint-ignore-file no-explicit-any
/**
 * The examples, run end to end as separate processes under this runtime
 * against a child with known mappings; their --json output is checked
 * against the library and the kernel's text maps.
 */
// JSON parsed from the examples' output is untyped.
// deno-lint-ignore-file no-explicit-any
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import process from "node:process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProcMaps } from "../mod.ts";
import { compileC, type MapperInfo, startChild, type Started, startMapper } from "./helpers/child.ts";
import { pid2IsKernelThread, readRows, readText } from "./helpers/ground_truth.ts";
import { runtimeCommand } from "./helpers/runtime.ts";
import { haveReadelf, readelfBuildId } from "./helpers/elf_notes.ts";
import { IOCTL_SKIP } from "./helpers/backends.ts";
import { readSmapsTruth } from "./helpers/smaps_truth.ts";
import { parseSmaps } from "../src/smaps/parser.ts";
import { parseLayout, smapsColumns } from "../examples/smaps_columns.ts";

const havePmap = existsSync("/usr/bin/pmap");
const haveScript = existsSync("/usr/bin/script");
const isDeno = "Deno" in globalThis;
let mapper: Started<MapperInfo>;
before(async () => {
  mapper = await startMapper();
});
after(() => mapper.stop());

function run(example: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const [cmd, ...rest] = runtimeCommand(`examples/${example}.ts`, args);
  const r = spawnSync(cmd, rest, { encoding: "utf8", timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `--json` output: one JSON object per line. */
function runJson(example: string, args: string[]): any[] {
  const r = run(example, [...args, "--json"]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
}

const asJson = (x: unknown) => JSON.parse(JSON.stringify(x));

/**
 * A copy of the binary `bin` in `dir`, which no other process maps: other
 * test runs on the machine start the same compiled child, and a file mapped
 * by two processes halves its Pss.
 */
function privateCopy(bin: string, dir: string): string {
  const copy = join(dir, "mapper-static");
  copyFileSync(bin, copy);
  chmodSync(copy, 0o755);
  return copy;
}

for (const example of ["pmap", "procfs_query", "buildids", "watch"]) {
  test(`${example} --help prints its usage and exits 0`, () => {
    const r = run(example, ["--help"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^usage: /);
  });
}

test("pmap --json lists the same VMAs as the library and the text maps, with a numeric pid", () => {
  const [out, ...more] = runJson("pmap", [String(mapper.pid)]);
  assert.equal(more.length, 0, "one line for one process");
  using maps = ProcMaps.open(mapper.pid);
  const vmas = [...maps.vmasSync()];
  assert.equal(out.pid, mapper.pid);
  assert.match(out.cmdline, /mapper/);
  assert.deepEqual(out.vmas, asJson(vmas));
  assert.equal(out.vmas.length, readRows(mapper.pid).length);
  assert.equal(out.totalKb, Number(vmas.reduce((s, v) => s + v.size, 0n) / 1024n));
  // Names raw in JSON.
  assert.ok(out.vmas.some((v: any) => v.name === mapper.info.newline.path));
});

test("pmap -x --json gives each VMA's smaps figures in bytes; several pids give a line each", () => {
  const out = runJson("pmap", ["-x", String(mapper.pid), "self"]);
  assert.equal(out.length, 2);
  assert.equal(out[0].pid, mapper.pid);
  assert.equal(typeof out[1].pid, "number");
  for (const v of out[0].vmas) {
    assert.equal(v.memory.size, Number(BigInt(v.end) - BigInt(v.start)));
    assert.ok(Array.isArray(v.memory.vmFlags));
  }
});

test("pmap prints each name on one line, a newline as \\012", () => {
  const r = run("pmap", [String(mapper.pid)]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assert.equal(lines.length, readRows(mapper.pid).length + 2);
  assert.equal(
    lines[0],
    `${mapper.pid}:   ${readFileSync(`/proc/${mapper.pid}/cmdline`, "utf8").split("\0").join(" ").trim()}`,
  );
  assert.ok(lines.some((l) => l.endsWith(" new\\012line.bin")));
  assert.match(lines.at(-1)!, /^ total +\d+K$/);
});

test("pmap on a missing process says so, still shows the others, and exits 1", () => {
  const r = run("pmap", ["4194303", String(mapper.pid)]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /process 4194303 does not exist/);
  assert.match(r.stdout, new RegExp(`^${mapper.pid}: `, "m"));
});

test("pmap reports bad arguments in one line and exits 2", () => {
  const cases: [string[], RegExp][] = [
    [["--bogus", "1"], /^pmap: unknown option '--bogus' \(see pmap\.ts --help\)\n$/],
    [["--backend"], /option --backend needs a value/],
    [["-A", "zz", "1"], /-A needs hex addresses low,high, not "zz"/],
    [["-A", "1,2,3", "1"], /-A needs hex addresses/],
    [["--backend", "fast", "1"], /--backend must be auto, ioctl or text/],
    [["-x", "-d", "1"], /mutually exclusive/],
    [["-XXX", "1"], /at most twice/],
    [[], /no process id given/],
    [["12ab"], /not a process id: "12ab"/],
  ];
  for (const [args, re] of cases) {
    const r = run("pmap", args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(" "));
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
    assert.equal(r.stdout, "");
  }
});

test(
  "pmap, -x, -d equal procps pmap on a stopped dynamically linked process (figures that are the process's own)",
  { skip: havePmap ? false : "procps pmap is not installed" },
  () => {
    // (Pss in -X depends on every process mapping libc, pmap itself included: see the static child below.)
    const printable = (line: string) => line.replace(/[^\x20-\x7e]/g, "?");
    process.kill(mapper.pid, "SIGSTOP");
    try {
      for (const flags of [[], ["-x"], ["-d"]]) {
        const ours = run("pmap", [...flags, String(mapper.pid)]);
        assert.equal(ours.status, 0, ours.stderr);
        const theirs = spawnSync("pmap", [...flags, String(mapper.pid)], { encoding: "utf8" }).stdout;
        assert.deepEqual(ours.stdout.split("\n").map(printable), theirs.split("\n"), flags.join(" "));
      }
    } finally {
      process.kill(mapper.pid, "SIGCONT");
    }
  },
);

describe(
  "pmap output equals procps pmap line by line",
  { skip: havePmap ? false : "procps pmap is not installed" },
  () => {
    // A static child: its files are mapped by no other process, so Pss does
    // not depend on what else runs (procps pmap and the runtime both map libc).
    let child: Started<MapperInfo>;
    let dir: string;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), "procmap-pmap-"));
      child = await startChild<MapperInfo>(privateCopy(compileC("mapper", ["-static"]), dir), [dir, "--long-names"]);
      process.kill(child.pid, "SIGSTOP");
    });
    after(async () => {
      if (!child) return;
      process.kill(child.pid, "SIGCONT");
      await child.stop();
      spawnSync("rm", ["-rf", dir]);
    });

    /** procps turns bytes it cannot print into '?' (procmap keeps them: the kernel does). */
    const printable = (line: string) => line.replace(/[^\x20-\x7e]/g, "?");
    /** VMAs whose maps line fits procps' 1024-byte buffer and whose name fits -X's 127 bytes. */
    const fits = () =>
      new Set(
        readText(child.pid).split("\n").filter((l) => l && l.length < 1000 && (l.slice(73).length <= 127))
          .map((l) => l.split("-")[0]),
      );

    for (const flags of [[], ["-x"], ["-X"], ["-XX"], ["-d"], ["-q"], ["-x", "-q"], ["-p"], ["-X", "-p"]]) {
      test(`pmap ${flags.join(" ") || "(default)"}`, () => {
        const ours = run("pmap", [...flags, String(child.pid)]);
        assert.equal(ours.status, 0, ours.stderr);
        const theirs = spawnSync("pmap", [...flags, String(child.pid)], { encoding: "utf8" });
        const x = flags.some((f) => f.startsWith("-X"));
        const oursLines = ours.stdout.trimEnd().split("\n");
        const theirLines = theirs.stdout.trimEnd().split("\n");
        // One line per VMA, plus the PID line, the column header and the totals.
        const vmaCount = readRows(child.pid).length;
        const extra = 1 +
          (flags.includes("-q") ? 0 : x ? 3 : flags.some((f) => f === "-x") ? 3 : flags.includes("-d") ? 2 : 1);
        assert.equal(oursLines.length, vmaCount + extra);
        // Rows of VMAs with names procps can hold are equal, character for character.
        const ok = fits();
        const key = (l: string) => l.trimStart().split(" ")[0].replace(/^0+/, "");
        const theirsByAddr = new Map(theirLines.map((l) => [key(l), l]));
        let compared = 0;
        for (const line of oursLines.slice(1)) {
          const k = key(line);
          if (!/^[0-9a-f]+$/.test(k)) continue;
          if (![...ok].some((a) => a.replace(/^0+/, "") === k)) continue;
          assert.equal(x ? line : printable(line), theirsByAddr.get(k), `row ${k}`);
          compared++;
        }
        assert.ok(compared >= vmaCount - 3, `${compared} of ${vmaCount} rows compared`);
        assert.equal(oursLines[0], theirLines[0]); // the PID:   cmdline header
        if (flags.includes("-XX")) {
          // Every field the kernel prints, in its order (read from the kernel's text here, not from procps).
          const first = readSmapsTruth(child.pid)[0];
          const titles = oursLines[1].trim().split(/ +/);
          assert.deepEqual(titles, [
            ...["Address", "Perm", "Offset", "Device", "Inode"],
            ...first.fields.keys(),
            ...(first.vmFlags ? ["VmFlags"] : []),
            "Mapping",
          ]);
        }
      });
    }

    test("totals equal procps pmap on a process without overlong names", async () => {
      const plainDir = mkdtempSync(join(tmpdir(), "procmap-pmap-"));
      const plain = await startChild<MapperInfo>(privateCopy(compileC("mapper", ["-static"]), plainDir), [plainDir]);
      process.kill(plain.pid, "SIGSTOP");
      try {
        for (const flags of [[], ["-x"], ["-X"], ["-XX"], ["-d"]]) {
          const ours = run("pmap", [...flags, String(plain.pid)]).stdout.trimEnd().split("\n");
          const theirs = spawnSync("pmap", [...flags, String(plain.pid)], { encoding: "utf8" }).stdout.trimEnd()
            .split("\n");
          const x = flags.some((f) => f.startsWith("-X"));
          assert.deepEqual(ours.map((l) => x ? l : printable(l)), theirs, flags.join(" "));
        }
        // Several pids: each process in turn, the same rows.
        const ours = run("pmap", [String(plain.pid), String(plain.pid)]).stdout;
        const theirs = spawnSync("pmap", [String(plain.pid), String(plain.pid)], { encoding: "utf8" }).stdout;
        assert.equal(ours.split("\n").filter((l) => /^\d+: /.test(l)).length, 2);
        assert.equal(ours.split("\n").map(printable).join("\n"), theirs);
      } finally {
        process.kill(plain.pid, "SIGCONT");
        await plain.stop();
        spawnSync("rm", ["-rf", plainDir]);
      }
    });
  },
);

test("pmap on a kernel thread (pid 2) equals procps pmap: its [name] as the command line, no VMAs", {
  skip: !havePmap
    ? "procps pmap is not installed"
    : !pid2IsKernelThread()
    ? "pid 2 is not a kernel thread here (a container's own pid namespace)"
    : false,
}, () => {
  for (const flags of [[], ["-x"], ["-X"], ["-XX"], ["-d"]]) {
    const ours = run("pmap", [...flags, "2"]);
    assert.equal(ours.status, 0, ours.stderr);
    assert.equal(ours.stdout, spawnSync("pmap", [...flags, "2"], { encoding: "utf8" }).stdout, flags.join(" "));
  }
});

test("pmap -X/-XX columns: the kernel's fields in its order, new ones too (from other), units as printed", () => {
  const text = "7f0000000000-7f0000002000 rw-p 00000000 00:00 0 \n" +
    "Size:                  8 kB\nRss:                   4 kB\nNew_Field:             3 kB\n" +
    "Shared_Clean:          0 kB\nCount:                 7\nMode:           fast\nTHPeligible:           1\n" +
    "VmFlags: rd wr \n7f0000002000-7f0000003000 r--p 00000000 00:00 0 \nSize:  4 kB\n";
  const layout = parseLayout(text);
  assert.deepEqual(layout.fields, [
    { name: "Size", kb: true },
    { name: "Rss", kb: true },
    { name: "New_Field", kb: true },
    { name: "Shared_Clean", kb: true },
    { name: "Count", kb: false },
    { name: "Mode", kb: false },
    { name: "THPeligible", kb: false },
  ]);
  assert.equal(layout.vmFlags, true);
  const bytes = new TextEncoder().encode(text);
  const entry = parseSmaps(bytes, bytes.length, 4096).entry(0);
  const show = (all: boolean) => Object.fromEntries(smapsColumns(layout, all).map((c) => [c.title, c.value(entry)]));
  assert.deepEqual(show(true), {
    Size: 8,
    Rss: 4,
    New_Field: 3,
    Shared_Clean: 0,
    Count: 7,
    Mode: "fast",
    THPeligible: 1,
  });
  // -X leaves out what procps calls unimportant, and nothing else.
  assert.deepEqual(Object.keys(show(false)), ["Size", "Rss", "New_Field", "Count", "Mode", "THPeligible"]);
});

test("procfs_query --json equals resolve(), in both modes", () => {
  const rows = readRows(mapper.pid);
  const addrs = [...rows.map((r) => r.start + 1n), 5n, rows[0].start - 1n];
  const dir = mkdtempSync(join(tmpdir(), "procmap-addrs-"));
  const file = join(dir, "addrs.txt");
  writeFileSync(file, "# sampled addresses\n" + addrs.map((a) => "0x" + a.toString(16)).join("\n") + "\n\n");
  using maps = ProcMaps.open(mapper.pid);
  const want = maps.resolve(addrs, { buildId: true });
  if (IOCTL_SKIP) {
    // No ioctl in this runtime: -Q is refused with the reason.
    const r = run("procfs_query", ["-p", String(mapper.pid), "-f", file, "-Q"]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /strategy "ioctl" needs/);
  }
  for (const mode of IOCTL_SKIP ? ["-T"] : ["-Q", "-T"]) {
    const r = run("procfs_query", ["-p", String(mapper.pid), "-f", file, mode, "-b", "--json"]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    assert.match(r.stderr, mode === "-T" ? /planned as text/ : /planned as (ioctl|text)/);
    assert.equal(lines.length, addrs.length);
    lines.forEach((r: any, i: number) => {
      const w = want[i];
      assert.equal(r.addr, "0x" + addrs[i].toString(16));
      if (!w) return assert.deepEqual(r, { addr: r.addr, unmapped: true });
      // Exactly the library's JSON of the same result.
      assert.deepEqual(r, asJson(w));
      assert.deepEqual(r.vma, asJson(w.vma));
      assert.equal(r.kind, w.kind);
      assert.equal(r.buildId, w.buildId);
      assert.equal(r.fileOffset, w.fileOffset === undefined ? undefined : "0x" + w.fileOffset.toString(16));
      assert.equal(r.elfAddr, w.elfAddr === undefined ? undefined : "0x" + w.elfAddr.toString(16));
    });
  }
});

function addrFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "procmap-addrs-"));
  const file = join(dir, "addrs.txt");
  writeFileSync(file, text);
  return file;
}

test("procfs_query prints one line per address on stdout, the summary on stderr", () => {
  const rows = readRows(mapper.pid);
  const nl = rows.find((r) => r.name === mapper.info.newline.path)!;
  const file = addrFile(`${rows[0].start.toString(16)}\n0x5\n0X${nl.start.toString(16).toUpperCase()}\n`);
  const r = run("procfs_query", ["-p", String(mapper.pid), "-f", file]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 3);
  assert.match(lines[0], new RegExp(`^0x${rows[0].start.toString(16)} -> ${rows[0].start.toString(16)}-`));
  assert.equal(lines[1], "0x5 -> <unmapped>");
  assert.ok(lines[2].includes("new\\012line.bin"), lines[2]);
  assert.doesNotMatch(lines[0], /build id/); // build IDs are opt-in (-b)
  assert.match(
    r.stderr,
    /^resolved 3 addresses \(3 distinct, 2 mapped\) in [\d.]+ ms per run, planned as (ioctl|text)/,
  );
  const b = run("procfs_query", ["-p", String(mapper.pid), "-f", file, "-b", "-B", "3", "-q"]);
  assert.equal(b.status, 0, b.stderr);
  assert.equal(b.stdout, "");
  assert.match(b.stderr, /^benchmark: 3 runs, total [\d.]+ ms, [\d.]+ ms per run, [\d.]+ us per address$/m);
  const withIds = run("procfs_query", ["-p", String(mapper.pid), "-f", file, "-b"]);
  assert.match(withIds.stdout.split("\n")[0], /\(build id [0-9a-f]{40}\)/);
});

test("procfs_query -v dumps each VMA on one line", () => {
  const r = run("procfs_query", ["-p", String(mapper.pid), "-f", addrFile("0x5\n"), "-v"]);
  assert.equal(r.status, 0, r.stderr);
  const dump = r.stdout.split("\n\n")[0].split("\n");
  assert.equal(dump.length, readRows(mapper.pid).length);
  assert.ok(dump.some((l) => l.endsWith("new\\012line.bin")));
});

test("procfs_query: bad lines each get one error line with their number; exit 2", () => {
  const r = run("procfs_query", ["-p", String(mapper.pid), "-f", addrFile("0x1000\nzz\n# fine\n\n12 34\n0x\n")]);
  assert.equal(r.status, 2);
  const errs = r.stderr.trimEnd().split("\n");
  assert.equal(errs.length, 3, r.stderr);
  assert.match(errs[0], /addrs\.txt:2: not a hex address: "zz"$/);
  assert.match(errs[1], /addrs\.txt:5: not a hex address: "12 34"$/);
  assert.match(errs[2], /addrs\.txt:6: not a hex address: "0x"$/);
  assert.equal(r.stdout, "");
});

test("procfs_query refuses what it cannot do, in one line each", () => {
  const pid = String(mapper.pid);
  const cases: [string[], number, RegExp][] = [
    [["-p", pid, "-f", "/nonexistent/addrs"], 1, /cannot read \/nonexistent\/addrs: ENOENT/],
    [["-p", pid, "-f", addrFile("# nothing\n\n")], 1, /no addresses in /],
    [["-p", pid, "-Q", "-T", "-f", addrFile("0x5\n")], 2, /-Q and -T are mutually exclusive/],
    [["-p", pid, "-B", "0", "-f", addrFile("0x5\n")], 2, /-B needs an integer of at least 1/],
    [["-p", pid, "-B"], 2, /option -B, --benchmark needs a value/],
    [["-p", "x1", "-f", addrFile("0x5\n")], 2, /not a process id: "x1"/],
    [["--repeat", "3"], 2, /unknown option '--repeat'/],
    [["-p", "4194303", "-f", addrFile("0x5\n")], 1, /process 4194303 does not exist/],
  ];
  for (const [args, status, re] of cases) {
    const r = run("procfs_query", args);
    assert.equal(r.status, status, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(" "));
    assert.ok(r.stderr.trimEnd().split("\n").length <= 2, r.stderr);
  }
});

test("procfs_query without -f reads standard input, and an empty one is an error", () => {
  const [cmd, ...rest] = runtimeCommand("examples/procfs_query.ts", ["-p", String(mapper.pid)]);
  const ok = spawnSync(cmd, rest, { input: "0x5\n", encoding: "utf8", timeout: 30_000 });
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout, "0x5 -> <unmapped>\n");
  const empty = spawnSync(cmd, rest, { input: "", encoding: "utf8", timeout: 30_000 });
  assert.equal(empty.status, 1);
  assert.match(empty.stderr, /no addresses in standard input/);
});

test(
  "procfs_query -f without Deno's --allow-read says which flag to add",
  { skip: isDeno ? false : "Deno only" },
  () => {
    const r = spawnSync(process.execPath, ["run", "--allow-ffi", "examples/procfs_query.ts", "-f", addrFile("0x5\n")], {
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /needs Deno's --allow-read/);
  },
);

test("procfs_query on a terminal without -f does not wait silently", {
  skip: haveScript ? false : "script(1) is not installed",
}, () => {
  // script(1) gives the example a terminal as standard input.
  const cmd = runtimeCommand("examples/procfs_query.ts", []).map((a) => `'${a}'`).join(" ");
  const r = spawnSync("script", ["-qec", cmd, "/dev/null"], { encoding: "utf8", timeout: 30_000, input: "" });
  assert.notEqual(r.signal, "SIGTERM", "it waited");
  assert.match(r.stdout, /standard input is a terminal/);
});

test("buildids --json --all lists each mapped file once, with the build ID readelf reports", () => {
  const out = runJson("buildids", [String(mapper.pid), "--all"]);
  const rows = readRows(mapper.pid).filter((r) => r.inode !== 0n);
  const files = new Set(rows.map((r) => `${r.devMajor}:${r.devMinor}:${r.inode}`));
  const mapped = out.filter((f) => f.path.startsWith("/") || f.inode !== undefined);
  assert.equal(mapped.length, files.size);
  for (const f of mapped) {
    assert.deepEqual(f.pids, [mapper.pid]);
    if (haveReadelf && f.path.startsWith("/") && !f.path.endsWith(" (deleted)")) {
      assert.equal(f.buildId, readelfBuildId(f.path) ?? undefined, f.path);
    }
  }
  assert.ok(out.some((f) => /libc\.so/.test(f.path) && f.buildId));
  // The vDSO's (read from the process's memory) and the kernel's build IDs too, as perf lists them.
  assert.match(out.find((f) => f.path === "[vdso]")?.buildId ?? "", /^[0-9a-f]{40}$/);
  const kernel = out[0];
  assert.equal(kernel.path, "[kernel.kallsyms]");
  assert.deepEqual(run("buildids", ["-k"]).stdout, `${kernel.buildId}\n`);
});

test("buildids prints names as the kernel escapes them, and JSON gives dev as hex major:minor", () => {
  const r = run("buildids", [String(mapper.pid), "--all"]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  const out = runJson("buildids", [String(mapper.pid), "--all"]);
  assert.equal(lines.length, out.length);
  assert.ok(lines.some((l) => l.endsWith("/new\\012line.bin")));
  const rows = readRows(mapper.pid).filter((row) => row.inode !== 0n);
  for (const f of out.filter((f) => f.dev !== undefined)) {
    assert.match(f.dev, /^[0-9a-f]{2,}:[0-9a-f]{2,}$/);
    const row = rows.find((x) => x.inode === BigInt(f.inode))!;
    assert.equal(f.dev, `${row.devMajor.toString(16).padStart(2, "0")}:${row.devMinor.toString(16).padStart(2, "0")}`);
  }
  // The same spelling as pmap --json.
  const [pm] = runJson("pmap", [String(mapper.pid)]);
  const libc = out.find((f) => /libc\.so/.test(f.path));
  assert.equal(pm.vmas.find((v: any) => v.name === libc.path).dev, libc.dev);
});

test("buildids of several processes lists each file once, with the processes that map it", () => {
  const out = runJson("buildids", [String(mapper.pid), "self", String(mapper.pid)]);
  const libc = out.filter((f) => /libc\.so/.test(f.path));
  assert.equal(libc.length, 1);
  assert.equal(libc[0].pids.length, 2);
  assert.equal(libc[0].pids[0], mapper.pid);
});

test("buildids reports bad arguments in one line and exits 2", () => {
  const cases = [[["--bogus"], /unknown option '--bogus'/], [["-k", "1"], /-k takes no process id/], [
    ["x"],
    /not a process id: "x"/,
  ]] as const;
  for (const [args, re] of cases) {
    const r = run("buildids", [...args]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
  }
});

test("watch on a process that does not exist says so and exits 1", () => {
  const r = run("watch", ["4194303", "--count", "1"]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /process 4194303 does not exist/);
});

test("watch gives the reason for a bad argument and exits 2", () => {
  const cases: [string[], RegExp][] = [
    [["1", "--interval", "abc"], /--interval needs an integer of at least 0, not "abc"/],
    [["1", "--count", "0"], /--count needs an integer of at least 1/],
    [["1", "--interval"], /option --interval needs a value/],
    [[], /no process id given/],
    [["1", "--bogus"], /unknown option '--bogus'/],
  ];
  for (const [args, re] of cases) {
    const r = run("watch", args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});

test("watch --rss reports the resident size from smaps_rollup, then its changes", async () => {
  const toggler = spawn(compileC("grower"), [], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = lineReader(toggler.stdout!);
  await lines.next();
  const [cmd, ...rest] = runtimeCommand("examples/watch.ts", [
    String(toggler.pid),
    "--interval",
    "50",
    "--rss",
    "--json",
  ]);
  const w = spawn(cmd, rest, { stdio: ["ignore", "pipe", "inherit"] });
  const events = lineReader(w.stdout!);
  try {
    const waitFor = (pred: (e: WatchEvent) => boolean) => nextEvent(events, pred);
    const first = await waitFor((e) => e.change === "rss");
    assert.equal(first.sample, 0);
    assert.equal(first.delta, first.rss);
    using maps = ProcMaps.open(toggler.pid!);
    assert.ok(Math.abs(first.rss - maps.rollup().rss!) < 1 << 20);
    toggler.stdin!.write("grow\n");
    await lines.next();
    const grown = await waitFor((e) => e.change === "rss" && e.delta >= 64 * 4096);
    assert.ok(grown.sample > 0);
  } finally {
    w.kill();
    toggler.stdin!.end();
    await new Promise((r) => toggler.on("exit", r));
  }
});

test("watch --json reports every VMA of the first sample as new, then no change for an idle process", () => {
  const r = run("watch", [String(mapper.pid), "--count", "2", "--interval", "50", "--json"]);
  assert.equal(r.status, 0, r.stderr);
  const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  const rows = readRows(mapper.pid);
  assert.equal(events.length, rows.length);
  assert.ok(events.every((e) => e.sample === 0 && e.change === "+"));
  assert.deepEqual(events.map((e) => e.vma.start), rows.map((r) => "0x" + r.start.toString(16)));
});

test("watch reports a mapping that appears and then disappears", async () => {
  // The toggler maps a region on "map", unmaps it on "unmap", printing its address.
  const toggler = spawn(compileC("toggler"), [], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = lineReader(toggler.stdout!);
  const pid = toggler.pid!;
  await lines.next(); // ready
  const [cmd, ...rest] = runtimeCommand("examples/watch.ts", [String(pid), "--interval", "50", "--json"]);
  const w = spawn(cmd, rest, { stdio: ["ignore", "pipe", "inherit"] });
  const events = lineReader(w.stdout!);
  try {
    const waitFor = (pred: (e: WatchEvent) => boolean) => nextEvent(events, pred);
    await waitFor((e) => e.sample === 0);
    toggler.stdin!.write("map\n");
    const addr = await lines.next();
    const added = await waitFor((e) => e.change === "+" && e.vma.start === addr);
    assert.ok(added.sample > 0);
    assert.equal(added.vma.perms, "rw-p");
    toggler.stdin!.write("unmap\n");
    await lines.next();
    const removed = await waitFor((e) => e.change === "-" && e.vma.start === addr);
    assert.ok(removed.sample > added.sample);
  } finally {
    w.kill();
    toggler.stdin!.end();
    await new Promise((r) => toggler.on("exit", r));
  }
});

/** Async line iterator over a stream: next() resolves to a line, or undefined at the end. */
/** One line of `watch --json`. */
type WatchEvent = any;

/** The next `watch --json` event that satisfies `pred`; throws when watch's output ends first. */
async function nextEvent(
  events: { next(): Promise<string | undefined> },
  pred: (e: WatchEvent) => boolean,
): Promise<WatchEvent> {
  for (;;) {
    const line = await events.next();
    if (line === undefined) throw new Error("watch ended early");
    const e = JSON.parse(line);
    if (pred(e)) return e;
  }
}

function lineReader(stream: NodeJS.ReadableStream): { next(): Promise<string | undefined> } {
  const queue: string[] = [];
  const waiters: ((l: string | undefined) => void)[] = [];
  let buf = "", ended = false;
  stream.setEncoding("utf8");
  stream.on("data", (d: string) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const w = waiters.shift();
      if (w) w(line);
      else queue.push(line);
    }
  });
  stream.on("end", () => {
    ended = true;
    for (const w of waiters.splice(0)) w(undefined);
  });
  return {
    next: () =>
      queue.length
        ? Promise.resolve(queue.shift())
        : ended
        ? Promise.resolve(undefined)
        : new Promise((r) => waiters.push(r)),
  };
}

test("watch follows a process across exec: one exec event holding the new program's map, no -/+ per VMA", async () => {
  // The shell waits for a line, then replaces itself with sleep(1); ground truth: /proc/<pid>/exe after the exec.
  const child = spawn("/bin/sh", ["-c", "read x; exec sleep 30"], { stdio: ["pipe", "ignore", "inherit"] });
  // 40 samples, then watch ends: every event it printed is then at hand.
  const [cmd, ...rest] = runtimeCommand("examples/watch.ts", [
    String(child.pid),
    "--interval",
    "50",
    "--count",
    "40",
    "--json",
  ]);
  const w = spawn(cmd, rest, { stdio: ["ignore", "pipe", "inherit"] });
  const events = lineReader(w.stdout!);
  try {
    await nextEvent(events, (e) => e.sample === 0); // watching the shell
    child.stdin!.write("go\n");
    const all: WatchEvent[] = [];
    for (let line = await events.next(); line !== undefined; line = await events.next()) all.push(JSON.parse(line));
    const execs = all.filter((e) => e.change === "exec");
    assert.equal(execs.length, 1, JSON.stringify(all.map((e) => [e.sample, e.change])));
    const exec = execs[0];
    assert.ok(exec.sample > 0);
    const exe = readlinkSync(`/proc/${child.pid}/exe`);
    assert.match(exe, /sleep$/);
    assert.ok(exec.vmas.some((v: any) => v.name === exe), "the new program's file is in the exec event");
    assert.deepEqual(all.filter((e) => e.sample === exec.sample && e !== exec), [], "nothing else at the exec");
  } finally {
    w.kill();
    child.kill();
    await new Promise((r) => child.on("exit", r));
  }
});
