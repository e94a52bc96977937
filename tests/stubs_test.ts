/**
 * Names of code that symbol tables do not size (issue 23), against the
 * reference tools:
 * - PLT stubs, `.plt.got` (`__cxa_finalize@plt` of a PIE) and IRELATIVE
 *   (`*ABS*+0x...@plt`) ones included, as `objdump -d` labels every stub
 *   and gdb's `info symbol` names it;
 * - zero-sized `.dynsym` functions (libGL-style dispatch stubs in a stripped
 *   library), sized up to the next symbol as llvm-symbolizer sizes them
 *   (within their section);
 * - glibc's versioned `.symtab` names (`memcpy@GLIBC_2.2.5`): `name` as the
 *   table has it, `demangled` without the version (as gdb prints it), the
 *   version apart.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Symbolizer } from "../mod.ts";
import { compileC } from "./helpers/child.ts";
import { installedDebugFile } from "./helpers/elf_notes.ts";
import { buildSymElf } from "./helpers/elf_symtab.ts";
import {
  arm64Plt,
  buildSectionElf,
  EM_AARCH64,
  R_AARCH64_IRELATIVE,
  R_AARCH64_JUMP_SLOT,
  relaEntries,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_WRITE,
  SHT_DYNSYM,
  SHT_NOBITS,
  SHT_PROGBITS,
  SHT_RELA,
  SHT_STRTAB,
  stringTable,
  symbolEntries,
} from "./helpers/elf_sections.ts";

const dir = mkdtempSync(join(tmpdir(), "procmap-stubs-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const has = (cmd: string, args = ["--version"]) => spawnSync(cmd, args).status === 0;
const haveObjdump = has("objdump");
const haveGdb = has("gdb");
const haveLlvm = has("llvm-symbolizer");
const haveLlvmObjdump = has("llvm-objdump");
const libc = realpathSync("/lib/x86_64-linux-gnu/libc.so.6");
/** libc6-dbg's debug file for this libc, if installed. */
const libcDebug = installedDebugFile(libc);
const symbolizer = new Symbolizer();

/** objdump -d's labels in the PLT sections: [address, label, entry size]. */
function objdumpPltLabels(file: string): [bigint, string, bigint][] {
  const sections = spawnSync("readelf", ["-SW", file], { encoding: "utf8" }).stdout;
  const entry = new Map<string, bigint>();
  for (const m of sections.matchAll(/\] (\.plt(?:\.got|\.sec)?)\s+PROGBITS\s+\S+\s+\S+\s+\S+\s+([0-9a-f]+)/g)) {
    entry.set(m[1], BigInt("0x" + m[2]));
  }
  const out: [bigint, string, bigint][] = [];
  const dump = spawnSync("objdump", ["-d", "-j", ".plt", "-j", ".plt.sec", "-j", ".plt.got", file], {
    encoding: "utf8",
    maxBuffer: 1 << 28,
  }).stdout;
  let section = "";
  for (const line of dump.split("\n")) {
    const s = /^Disassembly of section (\S+):$/.exec(line);
    if (s) section = s[1];
    const m = /^([0-9a-f]+) <([^>]+)>:$/.exec(line);
    if (m) out.push([BigInt("0x" + m[1]), m[2], entry.get(section) || 16n]);
  }
  return out;
}

/** Every objdump label ending in @plt names its stub's first and last byte; other labels get no stub name. */
function assertStubsLikeObjdump(file: string): number {
  const labels = objdumpPltLabels(file);
  const addrs = labels.flatMap(([a, , size]) => [a, a + size - 1n]);
  const got = symbolizer.symbolizeFile(file, addrs);
  let stubs = 0;
  labels.forEach(([a, label], i) => {
    for (const r of [got[2 * i], got[2 * i + 1]]) {
      if (label.endsWith("@plt")) {
        assert.equal(r.symbol?.name, label, `${file} 0x${a.toString(16)}`);
        stubs++;
      } else assert.ok(!r.symbol?.name.endsWith("@plt"), `${file} 0x${a.toString(16)}: ${r.symbol?.name}`);
    }
  });
  return stubs;
}

describe("PLT stubs as objdump -d labels them", { skip: haveObjdump ? false : "needs objdump" }, () => {
  const src = join(dir, "pie.c");
  writeFileSync(
    src,
    '#include <stdio.h>\n#include <string.h>\nint main(int c, char **v) { printf("%zu\\n", strlen(v[0])); }\n',
  );
  const build = (out: string, flags: string[]) => {
    const r = spawnSync("gcc", ["-O2", "-o", out, src, ...flags], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return out;
  };

  test("a PIE: .plt stubs and the .plt.got stub (__cxa_finalize@plt)", () => {
    const pie = build(join(dir, "pie"), ["-fPIE", "-pie"]);
    assert.ok(assertStubsLikeObjdump(pie) >= 3);
    const cxa = objdumpPltLabels(pie).find(([, l]) => l === "__cxa_finalize@plt");
    assert.ok(cxa, "the PIE has a .plt.got stub");
    const [r] = symbolizer.symbolizeFile(pie, [cxa[0] + 2n]);
    assert.equal(r.symbol?.name, "__cxa_finalize@plt");
    assert.equal(r.symbol?.demangled, "__cxa_finalize@plt");
    assert.equal(r.symbol?.version, undefined);
    assert.equal(r.symbol?.offset, 2n);
  });

  test("a .plt.got whose section header gives no entry size (older linkers): 8-byte stubs all the same", () => {
    const pie = build(join(dir, "pie-noentsize"), ["-fPIE", "-pie"]);
    // sh_entsize of .plt.got set to 0, as older linkers left it (Debian 12's libXdmcp.so.6 is one).
    const bytes = readFileSync(pie);
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    const shoff = Number(v.getBigUint64(0x28, true));
    const shnum = v.getUint16(0x3c, true);
    const names = shoff + v.getUint16(0x3e, true) * 64;
    const strOff = Number(v.getBigUint64(names + 0x18, true));
    let patched = 0;
    for (let i = 0; i < shnum; i++) {
      const h = shoff + i * 64;
      const at = strOff + v.getUint32(h, true);
      if (bytes.subarray(at, at + 9).toString("latin1") === ".plt.got\0" && v.getBigUint64(h + 0x38, true) === 8n) {
        v.setBigUint64(h + 0x38, 0n, true);
        patched++;
      }
    }
    assert.equal(patched, 1, "the PIE has an 8-byte-entry .plt.got");
    writeFileSync(pie, bytes);
    const cxa = objdumpPltLabels(pie).find(([, l]) => l === "__cxa_finalize@plt");
    assert.ok(cxa, "objdump still labels it");
    const [first, last, past] = symbolizer.symbolizeFile(pie, [cxa[0], cxa[0] + 7n, cxa[0] + 8n]);
    assert.equal(first.symbol?.name, "__cxa_finalize@plt");
    assert.equal(last.symbol?.name, "__cxa_finalize@plt");
    assert.equal(first.symbol?.size, 8n);
    assert.notEqual(past.symbol?.name, "__cxa_finalize@plt");
  });

  test("IBT: the stubs in .plt.sec, 16-byte .plt.got entries, nothing in the lazy .plt", () => {
    const ibt = build(join(dir, "pie-ibt"), ["-fcf-protection=full", "-Wl,-z,ibtplt"]);
    assert.ok(assertStubsLikeObjdump(ibt) >= 3);
  });

  test("libc: IRELATIVE stubs named by their resolver (*ABS*+0x...@plt)", { skip: !existsSync(libc) }, () => {
    assert.ok(assertStubsLikeObjdump(libc) > 0);
    assert.ok(objdumpPltLabels(libc).some(([, l]) => l.startsWith("*ABS*+0x")), "libc has IRELATIVE stubs");
  });

  test("C++: mangled stub names demangle before their @plt", () => {
    const cc = join(dir, "hello.cc");
    writeFileSync(cc, "#include <iostream>\nint main() { std::cout << 42 << std::endl; }\n");
    const bin = join(dir, "hello");
    assert.equal(spawnSync("g++", ["-O2", "-o", bin, cc]).status, 0);
    assertStubsLikeObjdump(bin);
    const init = objdumpPltLabels(bin).find(([, l]) => l === "_ZNSt8ios_base4InitC1Ev@plt");
    if (!init) return; // this libstdc++ does not make the program call it
    const [r] = symbolizer.symbolizeFile(bin, [init[0]]);
    assert.equal(r.symbol?.demangled, "std::ios_base::Init::Init()@plt");
  });
});

describe("AArch64 PLT stubs as llvm-objdump labels them", {
  skip: haveLlvmObjdump ? false : "needs llvm-objdump",
}, () => {
  /** A hand-made AArch64 file: 4 stubs through 4 slots, their relocations out of stub order, one IRELATIVE. */
  function arm64File(bti: boolean): string {
    const dynstr = stringTable(["alpha", "beta", "gamma"]);
    const dynsym = symbolEntries(dynstr.at.map((name) => ({ name, info: 0x12, shndx: 0, value: 0n, size: 0n })));
    const PLT = 0x10000n, GOT = 0x30ff0n; // slots across a page boundary
    const slot = (i: number) => GOT + 24n + 8n * BigInt(i);
    const rela = relaEntries([
      { offset: slot(2), sym: 2, type: R_AARCH64_JUMP_SLOT },
      { offset: slot(0), sym: 3, type: R_AARCH64_JUMP_SLOT },
      { offset: slot(3), sym: 0, type: R_AARCH64_IRELATIVE, addend: 0x4a8c0n },
      { offset: slot(1), sym: 1, type: R_AARCH64_JUMP_SLOT },
    ]);
    const p = join(dir, `arm64${bti ? "-bti" : ""}.elf`);
    writeFileSync(
      p,
      buildSectionElf([
        { name: ".dynsym", type: SHT_DYNSYM, flags: SHF_ALLOC, data: dynsym, link: 2, entsize: 24n, info: 1 },
        { name: ".dynstr", type: SHT_STRTAB, flags: SHF_ALLOC, data: dynstr.bytes },
        { name: ".rela.plt", type: SHT_RELA, flags: SHF_ALLOC, data: rela, link: 1, entsize: 24n },
        {
          name: ".plt",
          type: SHT_PROGBITS,
          flags: SHF_ALLOC | SHF_EXECINSTR,
          addr: PLT,
          data: arm64Plt(PLT, 4, slot, bti),
          entsize: 16n,
        },
        { name: ".got.plt", type: SHT_NOBITS, flags: SHF_ALLOC | SHF_WRITE, addr: GOT, size: 8n * 7n },
      ], EM_AARCH64),
    );
    return p;
  }

  for (const bti of [false, true]) {
    test(bti ? "24-byte BTI stubs" : "16-byte stubs", () => {
      const file = arm64File(bti);
      const dump = spawnSync("llvm-objdump", ["-d", file], { encoding: "utf8" }).stdout;
      const labels = [...dump.matchAll(/^([0-9a-f]+) <([^>]+@plt)>:$/gm)].map((m) =>
        [BigInt("0x" + m[1]), m[2]] as const
      );
      assert.equal(labels.length, 3, dump); // llvm-objdump names the three symbol stubs
      const size = bti ? 24n : 16n;
      const got = symbolizer.symbolizeFile(file, labels.flatMap(([a]) => [a, a + size - 1n]));
      labels.forEach(([a, label], i) => {
        assert.equal(got[2 * i].symbol?.name, label, `0x${a.toString(16)}`);
        assert.equal(got[2 * i + 1].symbol?.name, label, `0x${(a + size - 1n).toString(16)}`);
      });
      // The IRELATIVE stub, named by its resolver as gdb names it (llvm-objdump leaves it unnamed).
      const [irel] = symbolizer.symbolizeFile(file, [0x10000n + 32n + 3n * size]);
      assert.equal(irel.symbol?.name, "*ABS*+0x4a8c0@plt");
    });
  }
});

describe("gdb's info symbol on PLT stubs", { skip: haveGdb && haveObjdump ? false : "needs gdb and objdump" }, () => {
  test("the same names, .plt.got and IRELATIVE stubs included", () => {
    const files = [libc, compileC("sym_target")].filter(existsSync);
    for (const file of files) {
      const labels = objdumpPltLabels(file).filter(([, l]) => l.endsWith("@plt")).slice(0, 40);
      const args = labels.flatMap(([a]) => ["-ex", `info symbol 0x${(a + 1n).toString(16)}`]);
      const out = spawnSync("gdb", ["-batch", "-nx", ...args, file], { encoding: "utf8" }).stdout.trim().split("\n");
      const gdbNames = out.map((l) => /^(.*) \+ \d+ in section/.exec(l)?.[1] ?? /^(.*) in section/.exec(l)?.[1]);
      const got = symbolizer.symbolizeFile(file, labels.map(([a]) => a + 1n));
      got.forEach((r, i) => assert.equal(r.symbol?.name, gdbNames[i], `${file} 0x${labels[i][0].toString(16)}`));
    }
  });
});

describe("zero-sized .dynsym functions, as llvm-symbolizer sizes them", {
  skip: haveLlvm ? false : "needs llvm-symbolizer",
}, () => {
  test("a stripped library of dispatch stubs without sizes: every address of .text", () => {
    const lib = join(dir, "libgl_stubs.so");
    const built = compileC("gl_stubs", ["-shared", "-fPIC"]);
    const local = /^([0-9a-f]+) t local_after_range$/m.exec(spawnSync("nm", [built], { encoding: "utf8" }).stdout)!;
    copyFileSync(built, lib);
    assert.equal(spawnSync("strip", [lib]).status, 0);
    const sections = spawnSync("readelf", ["-SW", lib], { encoding: "utf8" }).stdout;
    const m = /\] \.text\s+PROGBITS\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)/.exec(sections)!;
    const start = BigInt("0x" + m[1]), end = start + BigInt("0x" + m[2]);
    const addrs: bigint[] = [];
    for (let a = start; a < end; a++) addrs.push(a);
    const llvm = spawnSync("llvm-symbolizer", ["--obj=" + lib, "--no-inlines", "--functions=linkage"], {
      input: addrs.map((a) => "0x" + a.toString(16)).join("\n"),
      encoding: "utf8",
    }).stdout.trim().split("\n\n").map((b) => b.split("\n")[0]);
    const got = symbolizer.symbolizeFile(lib, addrs);
    let named = 0;
    got.forEach((r, i) => {
      const want = llvm[i] === "??" ? undefined : llvm[i];
      assert.equal(r.symbol?.name, want, `0x${addrs[i].toString(16)}`);
      if (want) named++;
    });
    // The stubs and the local code after one of them, named after the stub before it.
    const after = symbolizer.symbolizeFile(lib, [BigInt("0x" + local[1]) + 1n])[0];
    assert.equal(after.symbol?.name, "glBindBuffersRange");
    assert.equal(after.symbol?.source, "dynsym");
    assert.ok(named > 0x40);
  });
});

describe("symbol versions in .symtab names", () => {
  test("name as the table has it, demangled without the version, the version apart", () => {
    const p = join(dir, "versions.elf");
    writeFileSync(
      p,
      buildSymElf({
        syms: [
          { name: "memcpy@GLIBC_2.2.5", value: 0x1000n, size: 0x10n },
          { name: "aio_fsync64@@GLIBC_2.34", value: 0x1100n, size: 0x10n },
          { name: "_ZN2ns4funcEv@@LIB_1.0", value: 0x1200n, size: 0x10n },
          { name: "plain", value: 0x1300n, size: 0x10n },
          { name: "trailing@", value: 0x1400n, size: 0x10n },
          { name: "two@V1@V2", value: 0x1500n, size: 0x10n },
        ],
      }),
    );
    const r = symbolizer.symbolizeFile(p, [0x1000n, 0x1100n, 0x1200n, 0x1300n, 0x1400n, 0x1500n]);
    assert.deepEqual(r.map((x) => [x.symbol?.name, x.symbol?.demangled, x.symbol?.version]), [
      ["memcpy@GLIBC_2.2.5", "memcpy", "GLIBC_2.2.5"],
      ["aio_fsync64@@GLIBC_2.34", "aio_fsync64", "GLIBC_2.34"],
      ["_ZN2ns4funcEv@@LIB_1.0", "ns::func()", "LIB_1.0"],
      ["plain", "plain", undefined],
      ["trailing@", "trailing@", undefined],
      ["two@V1@V2", "two@V1@V2", undefined],
    ]);
    // Without demangling, demangled is the name as is.
    const [raw] = symbolizer.symbolizeFile(p, [0x1000n], { demangle: false });
    assert.equal(raw.symbol?.demangled, "memcpy@GLIBC_2.2.5");
    assert.equal(raw.symbol?.version, "GLIBC_2.2.5");
  });

  test("glibc's debug file: as gdb's info symbol names them", {
    skip: !haveGdb ? "needs gdb" : !libcDebug ? "needs libc6-dbg's debug file for this libc" : false,
  }, () => {
    // Versioned functions alone at their address (where aliases share one, gdb and procmap may pick another).
    const nm = spawnSync("nm", ["--defined-only", libcDebug!], { encoding: "utf8", maxBuffer: 1 << 26 }).stdout;
    const byAddr = new Map<string, string[]>();
    for (const m of nm.matchAll(/^([0-9a-f]+) [TtWiI] (\S+)$/gm)) byAddr.set(m[1], [...(byAddr.get(m[1]) ?? []), m[2]]);
    const picked = [...byAddr].filter(([, names]) => names.length === 1 && names[0].includes("@")).slice(0, 40);
    assert.ok(picked.length > 10, `versioned functions in ${libcDebug}`);
    const addrs = picked.map(([a]) => BigInt("0x" + a));
    const args = addrs.flatMap((a) => ["-ex", `info symbol 0x${a.toString(16)}`]);
    const out = spawnSync("gdb", ["-batch", "-nx", ...args, libc], { encoding: "utf8" }).stdout.trim().split("\n");
    const got = symbolizer.symbolizeFile(libc, addrs);
    got.forEach((r, i) => {
      const name = picked[i][1][0];
      const gdb = /^(\S+) in section/.exec(out[i])?.[1];
      assert.equal(r.symbol?.source, "debug-file");
      assert.equal(r.symbol?.name, name);
      assert.equal(r.symbol?.demangled, gdb, name);
      assert.equal(r.symbol?.version, name.replace(/^[^@]*@@?/, ""), name);
    });
  });
});
