// Demangling in symbolization (src/symbolize/demangle.ts over src/demangle)
// against binutils: c++filt -i and nm --demangle print names the way gdb
// does (no Rust hashes, no crate disambiguators, std::string abbreviations);
// plain c++filt (verbose) is compared where it differs. A name past the
// demangler's budget reaches symbolize() results flagged.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { demangle, demangleName, isMangled } from "../src/symbolize/demangle.ts";
import { ProcMaps } from "../mod.ts";

const HERE = new URL(".", import.meta.url).pathname;
const FIXTURES = [join(HERE, "fixtures/symbolize"), join(HERE, "../../tests/fixtures/symbolize")].find((d) =>
  existsSync(join(d, "names.cpp"))
)!;

function has(cmd: string): boolean {
  return spawnSync(cmd, ["--version"], { encoding: "utf8" }).status === 0;
}
function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr || r.error}`);
  return r.stdout;
}
/**
 * c++filt over many names at once (one per line in, one per line out). The
 * names go through a file: Deno's spawnSync writes all input before reading
 * any output, which deadlocks once c++filt's output fills the pipe.
 */
function cxxfilt(names: string[], flags: string[] = []): string[] {
  const file = join(tmp, `names-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(file, names.join("\n") + "\n");
  return run("sh", ["-c", 'f=$1; shift; exec c++filt "$@" < "$f"', "sh", file, ...flags]).split("\n").slice(
    0,
    names.length,
  );
}
/** Symbol names of `file` paired with what `nm --demangle` prints for them (same order with -p). */
function nmPairs(file: string, extra: string[] = []): Array<[string, string]> {
  const strip = (l: string) => l.replace(/^[0-9a-f]{16} [A-Za-z] /, "").replace(/^ {17}[A-Za-z] /, "");
  const raw = run("nm", ["-p", ...extra, file]).split("\n").filter(Boolean).map(strip);
  const dem = run("nm", ["-p", "--demangle", ...extra, file]).split("\n").filter(Boolean).map(strip);
  assert.equal(raw.length, dem.length);
  return raw.map((n, i) => [n, dem[i]]);
}

const tmp = mkdtempSync(join(tmpdir(), "procmap-demangle-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
// Deno does not emit "exit" to test files: after() cleans up there.
after(() => rmSync(tmp, { recursive: true, force: true }));

describe("demangle", () => {
  it("demangles in this runtime, with no WebAssembly and nothing to load", () => {
    assert.equal(demangle("_ZN5outer5inner6WidgetC2Ei"), "outer::inner::Widget::Widget(int)");
  });

  it("returns names that are not mangled, or that c++filt leaves, unchanged", () => {
    for (const n of ["main", "_start", "_GLOBAL__sub_I_main", "_Zfoo", "_Z", "_R", "_Rfoo", "", "memcpy@@GLIBC_2.14"]) {
      assert.equal(demangle(n), n, n);
    }
    const long = "_Z" + "N3foo".repeat(20000) + "E"; // binutils reads no Itanium name over 1024 characters
    assert.equal(demangle(long), long);
    assert.deepEqual(cxxfilt(["_Zfoo", "_GLOBAL__sub_I_main", long.slice(0, 30000)], ["-i"]), [
      "_Zfoo",
      "_GLOBAL__sub_I_main",
      long.slice(0, 30000),
    ]);
  });

  it("isMangled: Itanium C++ (_Z), Rust legacy (_ZN...E) and v0 (_R), global constructors, after a . or $", () => {
    for (
      const n of [
        "_Z3foov",
        "_ZN3foo3barE",
        "_Znwm",
        "_ZdlPv",
        "_ZTVN10__cxxabiv117__class_type_infoE",
        "_RNvC1a3foo",
        "_GLOBAL__I__Z3foov",
        "._Z3foov",
        "$_Z3foov",
      ]
    ) {
      assert.ok(isMangled(n), n);
    }
    for (const n of ["main", "_start", "Z3foo", "__Z3foov", "_Y", ".foo", "_"]) assert.ok(!isMangled(n), n);
    assert.equal(demangle("_GLOBAL__I__Z3foov"), "global constructors keyed to foo()");
    assert.deepEqual(cxxfilt(["_GLOBAL__I__Z3foov", "._Z3foov"]), ["global constructors keyed to foo()", ".foo()"]);
  });

  it("keeps a symbol version suffix, as c++filt does", () => {
    assert.equal(demangle("_Znwm@GLIBCXX_3.4"), "operator new(unsigned long)@GLIBCXX_3.4");
    assert.equal(demangle("_ZdlPvm@@CXXABI_1.3.9"), "operator delete(void*, unsigned long)@@CXXABI_1.3.9");
    assert.deepEqual(cxxfilt(["_Znwm@GLIBCXX_3.4", "_ZdlPvm@@CXXABI_1.3.9"], ["-i"]), [
      "operator new(unsigned long)@GLIBCXX_3.4",
      "operator delete(void*, unsigned long)@@CXXABI_1.3.9",
    ]);
  });

  it("C++ names of a g++-compiled program equal c++filt -i, every one", {
    skip: has("g++") ? false : "g++ is not installed",
    timeout: 60_000,
  }, () => {
    const bin = join(tmp, "names");
    run("g++", ["-O0", "-o", bin, join(FIXTURES, "names.cpp")]);
    const names = [...new Set(nmPairs(bin).map(([n]) => n).filter((n) => n.startsWith("_Z")))];
    assert.ok(names.length > 100, `only ${names.length} C++ names`);
    const want = cxxfilt(names, ["-i"]);
    for (let i = 0; i < names.length; i++) assert.equal(demangle(names[i]), want[i], names[i]);
    assert.equal(demangle("_ZN5outer5inner5twiceIdEET_S2_"), "double outer::inner::twice<double>(double)");
    assert.equal(demangle("_ZZN5outer5inner6Widget7counterEvE1n"), "outer::inner::Widget::counter()::n");
    assert.equal(demangle("_ZZ4mainENKUliE_clEi"), "main::{lambda(int)#1}::operator()(int) const");
  });

  it("libstdc++'s exported names: every one exactly as c++filt -i prints it", { timeout: 60_000 }, () => {
    const lib = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6";
    if (!existsSync(lib)) return;
    const names = [...new Set(nmPairs(lib, ["-D", "--defined-only"]).map(([n]) => n.replace(/@.*/, "")))].filter((
      n,
    ) => n.startsWith("_Z"));
    assert.ok(names.length > 3000);
    const want = cxxfilt(names, ["-i"]);
    const bad = names.filter((n, i) => demangle(n) !== want[i]);
    assert.deepEqual(bad, []);
  });

  it("the old WebAssembly demangler's differences are gone", () => {
    const cases: [string, string][] = [
      // Template functions with their return type.
      ["_ZNSi10_M_extractIbEERSiRT_", "std::istream& std::istream::_M_extract<bool>(bool&)"],
      // Si/So/Sd abbreviated, as Ss is.
      ["_ZNKSi6gcountEv", "std::istream::gcount() const"],
      ["_ZNKSs2atEm", "std::string::at(unsigned long) const"],
      // A parameter list that repeats a template parameter keeps the repeat.
      [
        "_ZNSbIwSt11char_traitsIwESaIwEEC1IPwEET_S5_RKS1_",
        "std::basic_string<wchar_t, std::char_traits<wchar_t>, std::allocator<wchar_t> >::basic_string<wchar_t*>(wchar_t*, wchar_t*, std::allocator<wchar_t> const&)",
      ],
      // Special names in words, not braces.
      ["_ZTVN10__cxxabiv117__class_type_infoE", "vtable for __cxxabiv1::__class_type_info"],
      ["_ZTv0_n24_N3geo5MultiD1Ev", "virtual thunk to geo::Multi::~Multi()"],
      ["_ZN1A1fIiJEEEvDpOT0_", "void A::f<int>()"],
    ];
    for (const [n, w] of cases) assert.equal(demangle(n), w, n);
    if (has("c++filt")) assert.deepEqual(cxxfilt(cases.map(([n]) => n), ["-i"]), cases.map(([, w]) => w));
  });

  it("Rust legacy and v0 names equal nm --demangle (the short form gdb prints)", {
    skip: has("rustc") ? false : "rustc is not installed",
    timeout: 60_000,
  }, () => {
    const src = join(FIXTURES, "names.rs");
    for (const v0 of [false, true]) {
      const bin = join(tmp, v0 ? "rust_v0" : "rust_legacy");
      run("rustc", ["-C", "opt-level=0", ...(v0 ? ["-C", "symbol-mangling-version=v0"] : []), "-o", bin, src]);
      const pairs = nmPairs(bin).filter(([n]) => /^_ZN.*17h[0-9a-f]{16}E/.test(n) || n.startsWith("_R"));
      const own = pairs.filter(([, d]) => /^<?names::|<u8 as names::/.test(d));
      assert.ok(own.length >= 4, `${v0 ? "v0" : "legacy"}: own names ${own.map(([, d]) => d)}`);
      if (!v0) assert.ok(own.every(([n]) => n.startsWith("_ZN")), "legacy mangling");
      else assert.ok(own.every(([n]) => n.startsWith("_R")), "v0 mangling");
      // LLVM's ".llvm.N"-style suffixes are dropped, by nm and by procmap.
      for (const [n, d] of pairs) assert.equal(demangle(n), d, n);
      // Plain c++filt is verbose: it keeps the legacy hash and the v0 disambiguator.
      const [n, d] = own[0];
      const verbose = cxxfilt([n])[0];
      if (!v0) assert.equal(verbose, `${d}::${n.slice(-18, -1)}`);
      else assert.notEqual(verbose, d);
      assert.equal(demangle(n), d);
    }
  });

  it("a name past the budget: the mangled name, flagged in demangleName and in symbolize() results", {
    timeout: 60_000,
  }, async () => {
    // The back-reference bomb of issue #22 (k = 23: binutils prints 109 MB in 8-14 s).
    const b36 = (n: number) => n.toString(36).toUpperCase();
    const sub = (i: number) => (i === 0 ? "S_" : `S${b36(i - 1)}_`);
    let bomb = "_Z1f1A";
    for (let i = 0; i < 23; i++) bomb += `1AI${sub(2 * i)}${sub(2 * i)}E`;
    assert.deepEqual(demangleName(bomb), { text: bomb, cut: true });
    assert.deepEqual(demangleName(bomb + "@V1"), { text: bomb + "@V1", cut: true });
    assert.deepEqual(demangleName("_Z3foov"), { text: "foo()", cut: false });
    // Through a perf map (target-written names): a child whose JIT code is named by a map we write.
    const child = spawn("node", [
      "-e",
      "console.log(process.pid); setInterval(() => {}, 1e6)",
    ], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      const pid = await new Promise<number>((resolve, reject) => {
        child.stdout!.once("data", (d) => resolve(Number(String(d).trim())));
        child.once("error", reject);
      });
      const jit = readFileSync(`/proc/${pid}/maps`, "utf8").split("\n").map((l) => l.split(/\s+/))
        .find((f) => f.length >= 5 && /^r.xp$/.test(f[1]) && f[4] === "0" && (f[5] ?? "") === "");
      assert.ok(jit, "an anonymous executable mapping (V8 code) in the Node child");
      const start = BigInt("0x" + jit[0].split("-")[0]);
      const map = `/tmp/perf-${pid}.map`;
      writeFileSync(map, `${start.toString(16)} 40 ${bomb}\n${(start + 0x40n).toString(16)} 40 _ZN3foo3barEv\n`);
      try {
        using maps = ProcMaps.open(pid);
        const [a, b] = maps.symbolize([start + 8n, start + 0x48n]);
        assert.equal(a?.symbol?.name, bomb, JSON.stringify(a, (_, v) => typeof v === "bigint" ? String(v) : v));
        assert.equal(a?.symbol?.demangled, bomb);
        assert.equal(a?.symbol?.demangleReason, "budget");
        assert.equal(b?.symbol?.demangled, "foo::bar()");
        assert.equal(b?.symbol?.demangleReason, undefined);
        assert.ok(!("demangleReason" in b!.symbol!));
      } finally {
        rmSync(map, { force: true });
      }
    } finally {
      child.kill("SIGKILL");
    }
  });
});
