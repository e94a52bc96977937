#!/usr/bin/env node
// What a newcomer meets: `npm pack`, the tarball installed into a fresh
// project outside the repository, and one small script run under every
// runtime: Deno (an npm: specifier, and the bare name from node_modules with
// only --allow-ffi=<libc>), Bun, the machine's Node.js (20: text backend) and
// Node.js 26 (node:ffi: ioctl backend; with --no-experimental-ffi: text), each
// by `import` and by `require()`. Each asserts the backend it reports and one
// real query, answered the same by the text backend. The consumer's
// TypeScript (tsc: target ES2022, no DOM, no @types/node, no skipLibCheck)
// and `deno check` must accept it. Prints one line per check and
//   consumer smoke: N passed, N failed
// Exits non-zero on any failure. Usage: node scripts/consumer_smoke.mjs [--keep]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { commandSmoke } from "./consumer_commands.mjs";
import { bin, node26, NODE26_FLAGS, root, systemNode } from "./runtimes.mjs";

const keep = process.argv.includes("--keep");
const dir = mkdtempSync(join(tmpdir(), "procmap-consumer-"));
const env = { ...process.env, NO_COLOR: "1" };
delete env.FORCE_COLOR;
delete env.NODE_OPTIONS;
let passed = 0, failed = 0;

function sh(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { cwd: dir, env, encoding: "utf8", timeout: 300_000, ...opts });
}
function check(name, fn) {
  try {
    fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e?.message ?? e}`);
  }
}
function ok(r, what) {
  if (r.error) throw new Error(`${what}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${what} exited ${r.status}: ${r.stderr}${r.stdout}`);
  return r;
}

// The query every script makes: libc's first mapping as the auto backend
// sees it, an address inside it asked again, and the same address answered
// by the text backend.
const body = `
const maps = ProcMaps.open("self");
const libc = [...maps.vmasSync({ fileBacked: true })].find((v) => /\\/libc[.-]/.test(v.name ?? ""));
if (!libc) throw new Error("no libc mapping");
const at = libc.start + 0x10n;
const hit = maps.query(at);
const text = ProcMaps.open("self", { backend: "text" });
const fromText = text.query(at);
console.log(JSON.stringify({ backend: maps.backend, hit: hit?.toString(), text: fromText?.toString() }));
text.close();
maps.close();
`;
const ESM = `import { ProcMaps } from "procmap";\n${body}`;
const NPM = `import { ProcMaps } from "npm:procmap";\n${body}`;
const CJS = `const { ProcMaps } = require("procmap");\n${body}`;
// The consumer's TypeScript: every public type used, `using`, an AbortSignal.
const TYPES = `import { ProcMaps, ProcMapsError, type Resolved, type Vma } from "procmap";
declare const console: { log(...args: unknown[]): void };
export function firstName(signal?: AbortSignal): string | undefined {
  using maps = ProcMaps.open("self", { backend: "auto" });
  const v: Vma | null = maps.query(0n, { coveringOrNext: true });
  const r: (Resolved | null)[] = maps.resolve(v ? [v.start] : []);
  for (const w of maps.vmasSync({ signal })) if (w.name) return w.name;
  console.log(r.length, ProcMapsError.name);
  return undefined;
}
`;

// A CommonJS TypeScript consumer: require() of the ES module, as module "nodenext" (Node 20.19+ rules) allows.
const TYPES_CJS = `import procmap = require("procmap");
export function count(signal?: AbortSignal): number {
  const maps: procmap.ProcMaps = procmap.ProcMaps.open("self");
  try {
    return [...maps.vmasSync({ signal })].length;
  } finally {
    maps.close();
  }
}
`;

const LINE = /^[0-9a-f]+-[0-9a-f]+ r..p [0-9a-f]+ [0-9a-f]+:[0-9a-f]+ \d+ +\/\S*libc[.-]/;

function expectRun(name, cmd, args, backend) {
  check(name, () => {
    const r = ok(sh(cmd, args), name);
    const out = JSON.parse(r.stdout.trim().split("\n").pop());
    if (out.backend !== backend) throw new Error(`backend ${out.backend}, expected ${backend}`);
    if (!LINE.test(out.hit ?? "")) throw new Error(`query gave ${out.hit}`);
    if (out.hit !== out.text) throw new Error(`${backend} says ${out.hit}, text says ${out.text}`);
    const noise = r.stderr.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"), "").trim();
    if (noise) throw new Error(`stderr: ${noise}`);
  });
}

try {
  let tarball;
  check("npm pack", () => {
    const r = ok(
      spawnSync("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: root, env, encoding: "utf8" }),
      "npm pack",
    );
    tarball = join(dir, r.stdout.trim().split("\n").pop());
    const listing = ok(sh("tar", ["tzf", tarball]), "tar").stdout;
    for (
      const must of [
        "package/LICENSE",
        "package/dist/mod.js",
        "package/dist/mod.d.ts",
        "package/dist/globals.d.ts",
        "package/dist/examples/procmap.js",
        "package/dist/bundle/mod.js",
        "package/dist/bundle/procmap.js",
      ]
    ) {
      if (!listing.includes(must)) throw new Error(`${must} missing from the tarball`);
    }
    for (
      const never of [
        "package/tests/",
        "package/bench/",
        "package/.ci/",
        "package/dist/tests/",
        "package/node_modules/",
      ]
    ) {
      if (listing.includes(never)) throw new Error(`${never} is in the tarball`);
    }
  });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  check("npm install <tarball>: no install scripts, no warning", () => {
    const r = ok(sh("npm", ["install", "--no-audit", "--no-fund", tarball]), "npm install");
    if (/install-scripts|prepare/.test(r.stderr)) throw new Error(`npm warns: ${r.stderr}`);
    const pkg = JSON.parse(readFileSync(join(dir, "node_modules", "procmap", "package.json"), "utf8"));
    for (const s of ["preinstall", "install", "postinstall", "prepare"]) {
      if (pkg.scripts?.[s]) throw new Error(`the package has a ${s} script: ${pkg.scripts[s]}`);
    }
  });
  writeFileSync(join(dir, "esm.mjs"), ESM);
  writeFileSync(join(dir, "cjs.cjs"), CJS);
  writeFileSync(join(dir, "deno_node_modules.ts"), ESM);
  writeFileSync(join(dir, "deno_npm.ts"), NPM);
  writeFileSync(join(dir, "types.ts"), TYPES);
  writeFileSync(join(dir, "types_cjs.cts"), TYPES_CJS);
  const tsconfig = (files) =>
    JSON.stringify({
      compilerOptions: {
        target: "es2022",
        lib: ["es2022"],
        module: "nodenext",
        strict: true,
        noEmit: true,
        types: [],
        skipLibCheck: false,
      },
      files,
    });
  writeFileSync(join(dir, "tsconfig.json"), tsconfig(["types.ts"]));
  writeFileSync(join(dir, "tsconfig.cjs.json"), tsconfig(["types_cjs.cts"]));

  const deno = bin("deno");
  const libc = /\s(\/\S*\/libc\.so\.6)$/m.exec(readFileSync("/proc/self/maps", "utf8"))?.[1];
  expectRun("deno: npm:procmap, --allow-ffi", deno, ["run", "--allow-ffi", "deno_npm.ts"], "ioctl");
  expectRun(
    `deno: procmap from node_modules, --allow-ffi=${libc}`,
    deno,
    ["run", `--allow-ffi=${libc}`, "deno_node_modules.ts"],
    "ioctl",
  );
  check("deno check (npm: specifier and node_modules)", () => {
    ok(sh(deno, ["check", "deno_npm.ts", "deno_node_modules.ts", "types.ts"]), "deno check");
  });
  expectRun("bun: import", bin("bun"), ["esm.mjs"], "ioctl");
  expectRun("bun: require()", bin("bun"), ["cjs.cjs"], "ioctl");
  const n20 = systemNode();
  const v20 = n20 && sh(n20, ["--version"]).stdout.trim();
  expectRun(`node ${v20}: import`, n20, ["esm.mjs"], "text");
  expectRun(`node ${v20}: require()`, n20, ["cjs.cjs"], "text");
  const n26 = node26();
  const v26 = n26 && sh(n26, ["--version"]).stdout.trim();
  expectRun(`node ${v26}: import`, n26, [...NODE26_FLAGS, "esm.mjs"], "ioctl");
  expectRun(`node ${v26}: require()`, n26, [...NODE26_FLAGS, "cjs.cjs"], "ioctl");
  expectRun(`node ${v26} --no-experimental-ffi: import`, n26, ["--no-experimental-ffi", "esm.mjs"], "text");
  check("tsc: target ES2022, lib ES2022 only, no @types/node, no skipLibCheck", () => {
    ok(sh(bin("tsc"), ["-p", "."]), "tsc");
  });
  check("tsc: a CommonJS consumer (.cts, import = require), module nodenext", () => {
    ok(sh(bin("tsc"), ["-p", "tsconfig.cjs.json"]), "tsc");
  });
  commandChecks(n20, v20, n26, v26);
} finally {
  if (keep) console.log(`kept ${dir}: ${readdirSync(dir).join(" ")}`);
  else rmSync(dir, { recursive: true, force: true });
}
/** The `procmap` command from the tarball under every runtime (scripts/consumer_commands.mjs). */
function commandChecks(n20, v20, n26, v26) {
  // PATH with one Node first: `npx procmap` runs the bin with the `node` its #! line finds.
  const withNode = (node) => ({ ...env, PATH: `${dirname(node)}:${env.PATH}` });
  commandSmoke({
    check,
    dir,
    runtimes: [
      { name: `node ${v20}: npx procmap`, cmd: "npx", args: ["--no-install", "procmap"], env: withNode(n20) },
      { name: `node ${v26}: npx procmap`, cmd: "npx", args: ["--no-install", "procmap"], env: withNode(n26) },
      { name: "bun: bunx --bun procmap", cmd: bin("bun"), args: ["x", "--bun", "procmap"], env },
      { name: "deno: deno run -A npm:procmap", cmd: bin("deno"), args: ["run", "-A", "npm:procmap"], env },
    ],
  });
}

console.log(`consumer smoke: ${passed} passed, ${failed} failed`);
// exitCode, not exit(): stdout may be a pipe (CI tees it), whose pending writes exit() would drop.
process.exitCode = failed > 0 ? 1 : 0;
