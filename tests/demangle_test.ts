// Demangling against binutils: c++filt -i and nm --demangle print names the
// way gdb and perf do (no Rust hashes, no crate disambiguators, std::string
// abbreviations); plain c++filt (verbose) is compared where it differs.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { demangle, demanglerUnavailable, isMangled } from "../src/symbolize/demangle.ts";

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

describe("demangle", () => {
  it("loads the WebAssembly demangler in this runtime", () => {
    assert.equal(demangle("_ZN5outer5inner6WidgetC2Ei"), "outer::inner::Widget::Widget(int)");
    assert.equal(demanglerUnavailable(), undefined);
  });

  it("returns names that are not mangled, or that no demangler reads, unchanged", () => {
    // The package's own fallback would strip the underscore of these.
    for (const n of ["main", "_start", "_GLOBAL__sub_I_main", "_Zfoo", "_Z", "_R", "_Rfoo", "", "memcpy@@GLIBC_2.14"]) {
      assert.equal(demangle(n), n, n);
    }
    assert.equal(demangle("_Z" + "N3foo".repeat(20000) + "E"), "_Z" + "N3foo".repeat(20000) + "E"); // over the length cap
  });

  it("isMangled: Itanium C++ (_Z), Rust legacy (_ZN...E) and v0 (_R)", () => {
    for (
      const n of [
        "_Z3foov",
        "_ZN3foo3barE",
        "_Znwm",
        "_ZdlPv",
        "_ZTVN10__cxxabiv117__class_type_infoE",
        "_RNvC1a3foo",
        "_R0NvC1a3foo",
      ]
    ) {
      assert.ok(isMangled(n), n);
    }
    for (const n of ["main", "_start", "Z3foo", "_Z", "_R", "_Rfoo", "__Z3foov", "_GLOBAL__sub_I_x"]) {
      assert.ok(!isMangled(n), n);
    }
  });

  it("keeps a symbol version suffix, as c++filt does", () => {
    assert.equal(demangle("_Znwm@GLIBCXX_3.4"), "operator new(unsigned long)@GLIBCXX_3.4");
    assert.equal(demangle("_ZdlPvm@@CXXABI_1.3.9"), "operator delete(void*, unsigned long)@@CXXABI_1.3.9");
    assert.deepEqual(cxxfilt(["_Znwm@GLIBCXX_3.4"]), ["operator new(unsigned long)@GLIBCXX_3.4"]);
  });

  it("C++ names of a g++-compiled program equal c++filt -i (template functions: without their return type)", {
    skip: has("g++") ? false : "g++ is not installed",
    timeout: 60_000,
  }, () => {
    const bin = join(tmp, "names");
    run("g++", ["-O0", "-o", bin, join(FIXTURES, "names.cpp")]);
    const names = [...new Set(nmPairs(bin).map(([n]) => n).filter((n) => n.startsWith("_Z")))];
    assert.ok(names.length > 100, `only ${names.length} C++ names`);
    const want = cxxfilt(names, ["-i"]);
    // The program's own functions (not standard-library instances): exact.
    const own = names.map((n, i) => [n, want[i]]).filter(([, w]) =>
      !w.startsWith("std::") && /outer::|anonymous namespace|tagged|apply\(|main::/.test(w)
    );
    assert.ok(own.length >= 10, `only ${own.length} own names`);
    for (const [n, w] of own) {
      const got = demangle(n);
      assert.ok(got === w || w.endsWith(" " + got), `${n}: ${got} vs c++filt -i ${w}`);
    }
    assert.equal(demangle("_ZN5outer5inner5twiceIdEET_S2_"), "outer::inner::twice<double>(double)");
    assert.equal(cxxfilt(["_ZN5outer5inner5twiceIdEET_S2_"], ["-i"])[0], "double outer::inner::twice<double>(double)");
    assert.equal(demangle("_ZZN5outer5inner6Widget7counterEvE1n"), "outer::inner::Widget::counter()::n");
    assert.equal(demangle("_ZZ4mainENKUliE_clEi"), "main::{lambda(int)#1}::operator()(int) const");
    // Everything, standard library instances included: most are exact.
    let exact = 0;
    for (let i = 0; i < names.length; i++) {
      const got = demangle(names[i]);
      if (got === want[i] || want[i].endsWith(" " + got)) exact++;
    }
    assert.ok(exact / names.length > 0.6, `${exact} of ${names.length} equal c++filt -i`);
  });

  it(
    "libstdc++'s exported names: every one is read, most exactly as c++filt -i prints them",
    { timeout: 60_000 },
    () => {
      const lib = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6";
      if (!existsSync(lib)) return;
      const names = [...new Set(nmPairs(lib, ["-D", "--defined-only"]).map(([n]) => n.replace(/@.*/, "")))].filter((
        n,
      ) => n.startsWith("_Z"));
      assert.ok(names.length > 3000);
      const want = cxxfilt(names, ["-i"]);
      let exact = 0, returnTypeOnly = 0, unread = 0;
      for (let i = 0; i < names.length; i++) {
        const got = demangle(names[i]);
        if (got === names[i]) unread++;
        else if (got === want[i]) exact++;
        else if (want[i].endsWith(" " + got)) returnTypeOnly++;
      }
      assert.equal(unread, 0);
      assert.ok(
        (exact + returnTypeOnly) / names.length > 0.85,
        `${exact} exact, ${returnTypeOnly} without return type, of ${names.length}`,
      );
    },
  );

  it("documented differences from c++filt -i", () => {
    // Template functions: cpp_demangle leaves out the return type.
    assert.equal(
      demangle("_ZNSi10_M_extractIbEERSiRT_"),
      "std::basic_istream<char, std::char_traits<char> >::_M_extract<bool>(bool&)",
    );
    // Si/So/Sd are spelled out (c++filt -i: std::istream), Ss is not.
    assert.equal(demangle("_ZNKSi6gcountEv"), "std::basic_istream<char, std::char_traits<char> >::gcount() const");
    assert.equal(demangle("_ZNKSs2atEm"), "std::string::at(unsigned long) const");
    // Wrong: a parameter list that repeats a template parameter loses the repeats.
    assert.equal(
      cxxfilt(["_ZNSbIwSt11char_traitsIwESaIwEEC1IPwEET_S5_RKS1_"], ["-i"])[0],
      "std::basic_string<wchar_t, std::char_traits<wchar_t>, std::allocator<wchar_t> >::basic_string<wchar_t*>(wchar_t*, wchar_t*, std::allocator<wchar_t> const&)",
    );
    assert.equal(
      demangle("_ZNSbIwSt11char_traitsIwESaIwEEC1IPwEET_S5_RKS1_"),
      "std::basic_string<wchar_t, std::char_traits<wchar_t>, std::allocator<wchar_t> >::basic_string<wchar_t*>(wchar_t*, std::allocator<wchar_t> const&)",
    );
    // Special names in braces.
    assert.equal(demangle("_ZTVN10__cxxabiv117__class_type_infoE"), "{vtable(__cxxabiv1::__class_type_info)}");
  });

  it("Rust legacy and v0 names equal nm --demangle (the short form gdb and perf print)", {
    skip: has("rustc") ? false : "rustc is not installed",
    timeout: 60_000,
  }, () => {
    const src = join(FIXTURES, "names.rs");
    for (const v0 of [false, true]) {
      const bin = join(tmp, v0 ? "rust_v0" : "rust_legacy");
      run("rustc", ["-C", "opt-level=0", ...(v0 ? ["-C", "symbol-mangling-version=v0"] : []), "-o", bin, src]);
      const pairs = nmPairs(bin).filter(([n]) => /^_ZN.*17h[0-9a-f]{16}E$/.test(n) || n.startsWith("_R"));
      const own = pairs.filter(([, d]) => /^<?names::|<u8 as names::/.test(d));
      assert.ok(own.length >= 4, `${v0 ? "v0" : "legacy"}: own names ${own.map(([, d]) => d)}`);
      if (!v0) assert.ok(own.every(([n]) => n.startsWith("_ZN")), "legacy mangling");
      else assert.ok(own.every(([n]) => n.startsWith("_R")), "v0 mangling");
      let equal = 0;
      for (const [n, d] of pairs) {
        const got = demangle(n);
        // LLVM's ".0"-style suffixes: nm drops them, rustc-demangle keeps them.
        if (got === d || got === d + n.slice(n.lastIndexOf("."))) equal++;
        else assert.fail(`${n}: ${got} vs nm --demangle ${d}`);
      }
      assert.equal(equal, pairs.length);
      // Plain c++filt is verbose: it keeps the legacy hash and the v0 disambiguator.
      const [n, d] = own[0];
      const verbose = cxxfilt([n])[0];
      if (!v0) assert.equal(verbose, `${d}::${n.slice(-18, -1)}`);
      else assert.notEqual(verbose, d);
      assert.equal(demangle(n), d);
    }
  });
});
