#!/usr/bin/env node
// Builds dist/ (tsc -p tsconfig.build.json) and makes dist/mod.d.ts
// self-contained for a consumer's type checker: it references the
// esnext.disposable lib (Disposable, Symbol.dispose) and dist/globals.d.ts
// (AbortSignal), so `tsc` with target ES2022 and no @types/node, and
// `deno check`, accept it without skipLibCheck.
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bin, root } from "./runtimes.mjs";

const r = spawnSync(bin("tsc"), ["-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
if (r.status !== 0) process.exit(r.status ?? 1);

const HEADER = '/// <reference lib="esnext.disposable" />\n/// <reference path="./globals.d.ts" />\n';
const dts = join(root, "dist", "mod.d.ts");
const text = readFileSync(dts, "utf8");
if (!text.startsWith(HEADER)) writeFileSync(dts, HEADER + text);
copyFileSync(join(root, "types", "globals.d.ts"), join(root, "dist", "globals.d.ts"));
// What the package runs, bundled (dist/bundle/: mod.js, what "exports" names, and procmap.js, the bin, with the
// chunks they share or load on demand, e.g. the debuginfod client and each subcommand): a fresh process loads a few
// files instead of about a hundred, which Node.js resolves one by one (file-system lookups, package.json scopes) and
// Bun transpiles one by one: most of their import cost (Node.js 26: about two thirds). Dependencies stay imports
// (resolved from node_modules as before); dist/mod.js and the rest (tests, examples, declarations) stay as tsc wrote
// them.
const bundleDir = join(root, "dist", "bundle");
rmSync(bundleDir, { recursive: true, force: true });
const bundle = spawnSync(bin("bun"), [
  "build",
  join(root, "dist", "mod.js"),
  join(root, "dist", "examples", "procmap.js"),
  "--outdir",
  bundleDir,
  "--entry-naming",
  "[name].js",
  "--chunk-naming",
  "chunk-[hash].js",
  "--splitting",
  "--target",
  "node",
  "--format",
  "esm",
  "--packages",
  "external",
], { stdio: ["ignore", "ignore", "inherit"] });
if (bundle.status !== 0) process.exit(bundle.status ?? 1);
// The bundle in ASCII: bun writes "\uFFFD" (src/util/names.ts) as the character itself, and one such character makes
// a runtime hold and decode the whole 500 KB chunk as two-byte text (Node.js decodes UTF-8 the slow way). A \uXXXX
// escape means the same wherever the character can stand (strings, templates, regular expressions, comments).
for (const name of readdirSync(bundleDir)) {
  const file = join(bundleDir, name);
  const code = readFileSync(file, "utf8");
  // deno-lint-ignore no-control-regex
  const ascii = code.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  if (ascii !== code) writeFileSync(file, ascii);
}

// The package's bin, executable: `npx procmap` in this repository runs the file itself, and tsc writes a new
// file without the execute bit (an install from the tarball sets it; a fresh clone has only this build).
chmodSync(join(root, JSON.parse(readFileSync(join(root, "package.json"), "utf8")).bin.procmap), 0o755);
