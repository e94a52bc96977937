/**
 * symbolize() and Symbolizer.symbolizeFile() against binutils: every
 * address inside a sized function symbol that `nm -S` lists (its first,
 * middle and last byte) must get a symbol that nm lists at the same start
 * with the same size and covering the address (any alias there is right),
 * PLT stubs the names `objdump -d` prints; a stripped copy must be named
 * from its debug file found by build ID and by `.gnu_debuglink` under
 * `debugDirs`; libc (`.dynsym` only, and with libc6-dbg's debug file) as
 * `nm -D -S` / `nm -S` of the same file.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ProcMaps, type SymbolInfo, Symbolizer } from "../mod.ts";
import { compileC, startChild, type Started } from "./helpers/child.ts";
import { readRows } from "./helpers/ground_truth.ts";
import {
  compileCxx,
  cxxfilt,
  haveCxxfilt,
  haveGxx,
  haveNm,
  isCode,
  loadBias,
  nmSized,
  type NmSymbol,
  objdumpPlt,
  run,
} from "./helpers/tools.ts";
import { readelfBuildId } from "./helpers/elf_notes.ts";
import { demangle } from "../src/symbolize/demangle.ts";
import { xzUnavailable } from "../src/symbolize/xz.ts";
import { spawnSync } from "node:child_process";

const skip = haveNm ? false : "nm is needed for the ground truth";

/** Addresses to probe for each sized code symbol: first, middle and last byte. */
function probes(syms: NmSymbol[]): bigint[] {
  const out = new Set<bigint>();
  for (const s of syms) {
    if (s.size === 0n) continue;
    out.add(s.addr);
    out.add(s.addr + s.size / 2n);
    out.add(s.addr + s.size - 1n);
  }
  return [...out];
}

/** Asserts `got` (per ELF address) is an nm symbol covering it: same start, size and one of the names there. */
function assertLikeNm(elfAddrs: bigint[], got: (SymbolInfo | undefined)[], nm: NmSymbol[], what: string): void {
  const at = new Map<bigint, NmSymbol[]>();
  for (const s of nm) at.set(s.addr, [...(at.get(s.addr) ?? []), s]);
  assert.equal(got.length, elfAddrs.length);
  elfAddrs.forEach((a, i) => {
    const s = got[i];
    const where = `${what}: 0x${a.toString(16)}`;
    assert.ok(s, `${where}: no symbol`);
    assert.ok(a >= s.start && a < s.start + s.size, `${where}: ${s.name} [0x${s.start.toString(16)}, +${s.size})`);
    assert.equal(s.offset, a - s.start, where);
    const there = at.get(s.start) ?? [];
    assert.ok(
      there.some((n) => n.name === s.name && n.size === s.size),
      `${where}: ${s.name}@0x${s.start.toString(16)}+${s.size}; nm there: ${there.map((n) => n.name).join(", ")}`,
    );
  });
}

describe("a C child built with -g", { skip }, () => {
  let bin: string;
  let child: Started<{ pid: number }>;
  let bias: bigint;
  before(async () => {
    bin = compileC("sym_target", ["-g"]);
    child = await startChild<{ pid: number }>(bin, []);
    bias = loadBias(readRows(child.pid), bin);
  });
  after(() => child?.stop());

  test("every address in a sized function is named as nm -S names it, from .symtab", () => {
    const nm = nmSized(bin).filter(isCode);
    assert.ok(nm.some((s) => s.name === "static_function" && s.type === "t"), "the static function is in nm");
    const elf = probes(nm);
    for (const backend of ["auto", "text"] as const) {
      using maps = ProcMaps.open(child.pid, { backend });
      const got = maps.symbolize(elf.map((a) => a + bias));
      got.forEach((r, i) => {
        assert.equal(r?.elfAddr, elf[i]);
        assert.equal(r?.symbol?.source, "symtab");
      });
      assertLikeNm(elf, got.map((r) => r?.symbol), nm, backend);
    }
  });

  test("aliases: the global over the weak, then the longer name (perf's rule)", () => {
    // aliased_target (T), strong_alias (T), weak_alias (W) share one address.
    const nm = nmSized(bin).filter((s) => /alias/.test(s.name));
    assert.equal(new Set(nm.map((s) => s.addr)).size, 1);
    assert.deepEqual(nm.map((s) => s.type).sort(), ["T", "T", "W"]);
    using maps = ProcMaps.open(child.pid);
    const [r] = maps.symbolize([nm[0].addr + bias + 1n]);
    assert.equal(r?.symbol?.name, "aliased_target");
    assert.equal(r?.symbol?.offset, 1n);
  });

  test("PLT stubs are named name@plt as objdump -d names them", () => {
    const plt = objdumpPlt(bin);
    assert.ok(plt.size >= 3, `objdump found ${plt.size} PLT stubs`);
    using maps = ProcMaps.open(child.pid);
    const addrs = [...plt.keys()];
    const got = maps.symbolize(addrs.flatMap((a) => [a + bias, a + bias + 15n]));
    addrs.forEach((a, i) => {
      for (const r of [got[2 * i], got[2 * i + 1]]) {
        assert.equal(r?.symbol?.name, plt.get(a), `0x${a.toString(16)}`);
        assert.equal(r?.symbol?.start, a);
        assert.equal(r?.symbol?.size, 16n);
      }
    });
  });

  test("unmapped addresses give null, anonymous memory a reason, in input order with duplicates", () => {
    using maps = ProcMaps.open(child.pid);
    const rows = readRows(child.pid);
    const heap = rows.find((r) => r.name === "[heap]" || (r.name === "" && r.perms.startsWith("rw")))!;
    const main = nmSized(bin).find((s) => s.name === "main")!.addr + bias;
    const got = maps.symbolize([main, 0x10n, heap.start, main, 1n << 46n]);
    assert.equal(got[0]?.symbol?.name, "main");
    assert.equal(got[1], null);
    assert.equal(got[2]?.symbol, undefined);
    assert.equal(got[2]?.symbolReason, "anonymous");
    assert.ok(got[2]?.symbolMessage);
    assert.equal(got[3], got[0]);
    assert.equal(got[4], null);
  });
});

describe("a stripped child with its debug file", { skip }, () => {
  let dir: string;
  let bin: string;
  let stripped: string;
  let child: Started<{ pid: number }>;
  let byId: string;
  let byLink: string;
  let badLink: string;
  let bias: bigint;
  before(async () => {
    bin = compileC("sym_target", ["-g"]);
    dir = mkdtempSync(join(tmpdir(), "procmap-sym-"));
    const dbg = join(dir, "target.debug");
    run("objcopy", ["--only-keep-debug", bin, dbg]);
    mkdirSync(join(dir, "bin"));
    stripped = join(dir, "bin", "target");
    run("objcopy", ["--strip-all", `--add-gnu-debuglink=${dbg}`, bin, stripped]);
    run("chmod", ["+x", stripped]);
    const id = readelfBuildId(bin)!;
    byId = join(dir, "by-id");
    mkdirSync(join(byId, ".build-id", id.slice(0, 2)), { recursive: true });
    copyFileSync(dbg, join(byId, ".build-id", id.slice(0, 2), `${id.slice(2)}.debug`));
    // <dir>/<directory of the file>/<debuglink name>
    byLink = join(dir, "by-link");
    mkdirSync(join(byLink, dirname(stripped)), { recursive: true });
    copyFileSync(dbg, join(byLink, dirname(stripped), "target.debug"));
    // The same with one byte changed: its CRC32 no longer matches.
    badLink = join(dir, "bad-link");
    mkdirSync(join(badLink, dirname(stripped)), { recursive: true });
    const bytes = readFileSync(dbg);
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(join(badLink, dirname(stripped), "target.debug"), bytes);
    child = await startChild<{ pid: number }>(stripped, []);
    bias = loadBias(readRows(child.pid), stripped);
  });
  after(async () => {
    await child?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const via of ["build ID", "debug link"] as const) {
    test(`named from the debug file found by ${via} under debugDirs, as nm -S names the unstripped file`, () => {
      const nm = nmSized(bin).filter(isCode);
      const elf = probes(nm);
      using maps = ProcMaps.open(child.pid);
      const got = maps.symbolize(elf.map((a) => a + bias), { debugDirs: [via === "build ID" ? byId : byLink] });
      got.forEach((r) => assert.equal(r?.symbol?.source, "debug-file"));
      assertLikeNm(elf, got.map((r) => r?.symbol), nm, via);
    });
  }

  test("without the debug directory, or with a debug file whose CRC32 differs, static functions stay unnamed", () => {
    const fn = nmSized(bin).find((s) => s.name === "static_function")!;
    using maps = ProcMaps.open(child.pid);
    for (const dirs of [[], [badLink], ["/nonexistent"]]) {
      const [r] = maps.symbolize([fn.addr + bias], { debugDirs: dirs });
      assert.notEqual(r?.symbol?.source, "debug-file", JSON.stringify(dirs));
      assert.notEqual(r?.symbol?.name, "static_function", JSON.stringify(dirs));
      assert.ok(r?.symbolReason, JSON.stringify(dirs));
    }
  });
});

describe("libc", { skip }, () => {
  const libc = realpathSync("/lib/x86_64-linux-gnu/libc.so.6");
  const id = existsSync(libc) ? readelfBuildId(libc) : undefined;
  const debugFile = id && `/usr/lib/debug/.build-id/${id.slice(0, 2)}/${id.slice(2)}.debug`;
  const symbolizer = new Symbolizer();

  test(".dynsym only: as nm -D -S names it", { skip: existsSync(libc) ? false : "no libc.so.6 here" }, () => {
    // nm -D prints versions (memcpy@@GLIBC_2.14); the table's names have none.
    const nm = nmSized(libc, true).filter(isCode).map((s) => ({ ...s, name: s.name.replace(/@.*$/, "") }));
    const elf = probes(nm);
    const got = symbolizer.symbolizeFile(libc, elf, { debugDirs: [] });
    got.forEach((r) => assert.equal(r.symbol?.source, "dynsym"));
    assertLikeNm(elf, got.map((r) => r.symbol), nm, "dynsym");
  });

  test("with libc6-dbg's debug file: as nm -S of the debug file names it, local functions too", {
    skip: debugFile && existsSync(debugFile) ? false : "libc6-dbg's debug file for this libc is not installed",
  }, () => {
    const nm = nmSized(debugFile!).filter(isCode);
    assert.ok(nm.some((s) => s.type === "t"));
    const elf = probes(nm);
    const got = symbolizer.symbolizeFile(libc, elf);
    got.forEach((r) => assert.equal(r.symbol?.source, "debug-file"));
    assertLikeNm(elf, got.map((r) => r.symbol), nm, "debug file");
    // The alias rule on libc: the global __strsep_1c@GLIBC_2.2.5 over the local __old_strsep_1c.
    const strsep = nm.filter((s) => s.name === "__old_strsep_1c");
    if (strsep.length) {
      const [r] = symbolizer.symbolizeFile(libc, [strsep[0].addr]);
      assert.equal(r.symbol?.name, "__strsep_1c@GLIBC_2.2.5");
    }
  });
});

describe("a C++ child built with -g", { skip: skip || (haveGxx ? false : "g++ is needed") }, () => {
  let bin: string;
  let child: Started<{ pid: number }>;
  let bias: bigint;
  before(async () => {
    bin = compileCxx("sym_target_cpp", ["-g"]);
    child = await startChild<{ pid: number }>(bin, []);
    bias = loadBias(readRows(child.pid), bin);
  });
  after(() => child?.stop());

  test("mangled names as nm -S lists them", () => {
    const nm = nmSized(bin).filter(isCode);
    assert.ok(nm.filter((s) => s.name.startsWith("_ZN")).length >= 8);
    const elf = probes(nm);
    using maps = ProcMaps.open(child.pid);
    const got = maps.symbolize(elf.map((a) => a + bias));
    assertLikeNm(elf, got.map((r) => r?.symbol), nm, "c++");
  });

  test("demangled names equal c++filt's", {
    skip: !haveCxxfilt
      ? "c++filt is needed"
      : demangle("_Z1fv") === "_Z1fv"
      ? "the demangler (src/symbolize/demangle.ts) is not wired in yet"
      : false,
  }, () => {
    const nm = nmSized(bin).filter((s) => isCode(s) && s.name.startsWith("_Z"));
    using maps = ProcMaps.open(child.pid);
    const got = maps.symbolize(nm.map((s) => s.addr + bias));
    const want = cxxfilt(got.map((r) => r!.symbol!.name));
    got.forEach((r, i) => {
      const d = r?.symbol?.demangled ?? "";
      // The demangler leaves out a template function's return type, which c++filt prints first.
      assert.ok(d === want[i] || want[i].endsWith(" " + d), `${r?.symbol?.name}: ${d} vs c++filt ${want[i]}`);
      assert.notEqual(d, r?.symbol?.name);
    });
    const raw = maps.symbolize(nm.map((s) => s.addr + bias), { demangle: false });
    raw.forEach((r) => assert.equal(r?.symbol?.demangled, r?.symbol?.name));
  });
});

describe("a stripped file with MiniDebugInfo (.gnu_debugdata), made as Fedora's find-debuginfo does", {
  skip: skip || (spawnSync("xz", ["--version"]).status === 0 ? false : "xz is needed to build the file"),
}, () => {
  test("its functions are named from the xz-compressed .symtab, as nm -S names the unstripped file", () => {
    const bin = compileC("sym_target", ["-g"]);
    const dir = mkdtempSync(join(tmpdir(), "procmap-mini-"));
    try {
      const sh = (script: string) => run("sh", ["-c", script, "sh", bin, dir]);
      // Symbols .dynsym lacks, in an xz-compressed ELF file of their own, added to the stripped file.
      sh(`cd "$2" && nm -D "$1" --format=posix --defined-only | awk '{print $1}' | sort > dyn &&
        nm "$1" --format=posix --defined-only | awk '$2 == "T" || $2 == "t" {print $1}' | sort > funcs &&
        comm -13 dyn funcs > keep && objcopy --only-keep-debug "$1" debug &&
        objcopy -S --remove-section .gdb_index --remove-section .comment --keep-symbols=keep debug mini &&
        xz mini && strip --strip-all -R .comment "$1" -o stripped &&
        objcopy --add-section .gnu_debugdata=mini.xz stripped`);
      const nm = nmSized(bin).filter(isCode);
      const elf = probes(nm);
      const got = new Symbolizer().symbolizeFile(join(dir, "stripped"), elf, { debugDirs: [] });
      if (got.every((r) => r.symbol?.source !== "minidebuginfo")) {
        // Only when the decoder cannot load here (xz.ts says why); otherwise this is a failure.
        assert.ok(xzUnavailable(), "nothing was named from MiniDebugInfo");
        return;
      }
      assert.ok(got.some((r) => r.symbol?.name === "static_function" && r.symbol.source === "minidebuginfo"));
      assertLikeNm(elf, got.map((r) => r.symbol), nm, "minidebuginfo");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the vDSO", { skip }, () => {
  let child: Started<{ pid: number }>;
  before(async () => {
    child = await startChild<{ pid: number }>(compileC("sym_target", ["-g"]), []);
  });
  after(() => child?.stop());

  test("its functions are named from its image in memory, as nm -D -S names that image", () => {
    const vdso = readRows(child.pid).find((r) => r.name === "[vdso]");
    if (!vdso) return; // no vDSO on this kernel
    const image = Buffer.alloc(Number(vdso.end - vdso.start));
    const fd = openSync(`/proc/${child.pid}/mem`, "r");
    try {
      readSync(fd, image, 0, image.length, Number(vdso.start));
    } finally {
      closeSync(fd);
    }
    const dir = mkdtempSync(join(tmpdir(), "procmap-vdso-"));
    try {
      writeFileSync(join(dir, "vdso.so"), image);
      const nm = nmSized(join(dir, "vdso.so"), true).filter(isCode).map((s) => ({
        ...s,
        name: s.name.replace(/@.*$/, ""),
      }));
      assert.ok(nm.some((s) => s.name.includes("clock_gettime")));
      const elf = probes(nm);
      using maps = ProcMaps.open(child.pid);
      // The vDSO is mapped from its offset 0 and its PT_LOAD starts at 0: address - start is the ELF address.
      const got = maps.symbolize(elf.map((a) => vdso.start + a));
      got.forEach((r, i) => {
        assert.equal(r?.kind, "special");
        assert.equal(r?.elfAddr, elf[i]);
        assert.equal(r?.symbol?.source, "vdso");
      });
      assertLikeNm(elf, got.map((r) => r?.symbol), nm, "vdso");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
