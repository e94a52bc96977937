#!/usr/bin/env node
// Builds dist/ (tsc -p tsconfig.build.json) and makes dist/mod.d.ts
// self-contained for a consumer's type checker: it references the
// esnext.disposable lib (Disposable, Symbol.dispose) and dist/globals.d.ts
// (AbortSignal), so `tsc` with target ES2022 and no @types/node, and
// `deno check`, accept it without skipLibCheck.
import { spawnSync } from "node:child_process";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bin, root } from "./runtimes.mjs";

const r = spawnSync(bin("tsc"), ["-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
if (r.status !== 0) process.exit(r.status ?? 1);

const HEADER = '/// <reference lib="esnext.disposable" />\n/// <reference path="./globals.d.ts" />\n';
const dts = join(root, "dist", "mod.d.ts");
const text = readFileSync(dts, "utf8");
if (!text.startsWith(HEADER)) writeFileSync(dts, HEADER + text);
copyFileSync(join(root, "types", "globals.d.ts"), join(root, "dist", "globals.d.ts"));
