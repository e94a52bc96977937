#!/usr/bin/env node
// Runs bench/lines.bench.ts (source lines: procmap beside gimli's addr2line,
// llvm-symbolizer and binutils addr2line) under Deno and Bun, one after the
// other, and Node 26 on the compiled bench (dist/bench, built first), and
// writes bench/LINES.md (--quick: bench/out/LINES.quick.md).
//
//   node bench/lines.mjs [--quick] [--runtimes deno,bun,node26] [--report-only]
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bin, node26, NODE26_FLAGS, root } from "../scripts/runtimes.mjs";
import { buildGimli } from "./gimli.mjs";

const benchDir = dirname(fileURLToPath(import.meta.url));
// What else the machine ran as this run began (1-minute load average), for the header.
const loadAtStart = os.loadavg()[0];
const outDir = join(benchDir, "out");
mkdirSync(outDir, { recursive: true });
const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const i = argv.indexOf("--runtimes");
const runtimes = (i >= 0 ? argv[i + 1] : "deno,bun,node26").split(",");
// Node runs the compiled bench (dist/bench), built first.
if (runtimes.includes("node26") && !argv.includes("--report-only")) {
  if (!node26()) runtimes.splice(runtimes.indexOf("node26"), 1);
  else if (spawnSync(process.execPath, [join(root, "scripts", "build.mjs")], { stdio: "inherit" }).status !== 0) {
    console.error("build failed: Node 26 not measured");
    runtimes.splice(runtimes.indexOf("node26"), 1);
  }
}

const gimli = buildGimli(outDir);
console.error(gimli.exe ? `gimli's addr2line: ${gimli.exe}` : `gimli's addr2line: ${gimli.why}`);

// --report-only: LINES.md from the runtimes' last JSON files (bench/out/lines-<runtime>.json), nothing run.
const reportOnly = argv.includes("--report-only");
const parts = [];
for (const rt of runtimes) {
  const json = join(outDir, `lines-${rt}.json`);
  if (reportOnly) {
    parts.push(JSON.parse(readFileSync(json, "utf8")));
    continue;
  }
  const args = rt === "deno"
    ? ["run", "-A", join(benchDir, "lines.bench.ts")]
    : rt === "node26"
    ? [...NODE26_FLAGS, join(root, "dist", "bench", "lines.bench.js")]
    : [join(benchDir, "lines.bench.ts")];
  console.error(`$ ${rt} bench/lines.bench.ts`);
  const r = spawnSync(rt === "node26" ? node26() : bin(rt), [...args, "--json", json, ...(quick ? ["--quick"] : [])], {
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, ...(gimli.exe ? { PROCMAP_GIMLI: gimli.exe } : {}) },
  });
  if (r.status !== 0) {
    console.error(`bench/lines.bench.ts failed under ${rt}`);
    process.exit(1);
  }
  parts.push(JSON.parse(readFileSync(json, "utf8")));
}

const fmt = (ns) =>
  ns === null || ns === undefined
    ? "-"
    : ns >= 1e6
    ? `${(ns / 1e6).toFixed(1)} ms`
    : ns >= 1000
    ? `${(ns / 1000).toFixed(2)} µs`
    : `${Math.round(ns)} ns`;
const tasks = [...new Set(parts.flatMap((p) => p.rows.map((r) => `${r.file}\t${r.task}`)))];
let md = `# Source lines: cost per address\n\n`;
md += `\`node bench/lines.mjs\` (part of \`npm run bench\`) on ${
  os.cpus()[0]?.model ?? "?"
} (${os.cpus().length} cores), `;
md += `${new Date().toISOString().slice(0, 10)}. Costs are CPU time per address (procmap: the runtime's process; `;
md += `the tools: user + system time of their process); see bench/lines.bench.ts for what each task does. `;
md += reportOnly
  ? `Compare ratios within one run.\n\n`
  : `Load average (1 min) at the run's start: ${loadAtStart.toFixed(2)} on ${os.cpus().length} cores; ` +
    `compare ratios within one run.\n\n`;
md += `| file | task | ${parts.map((p) => p.runtime).join(" | ")} |\n| --- | --- |${
  parts.map(() => " ---: |").join("")
}\n`;
for (const t of tasks) {
  const [file, task] = t.split("\t");
  const cells = parts.map((p) => fmt(p.rows.find((r) => r.file === file && r.task === task)?.nsPerAddr));
  md += `| ${file} | ${task} | ${cells.join(" | ")} |\n`;
}
md += `\n${[...new Set(parts.flatMap((p) => p.notes))].map((n) => `- ${n}`).join("\n")}\n`;
// The issue's targets (#24), per file and runtime, from the same run's rows: warm per address no more than gimli's
// addr2line (parsed), and at least 100x cheaper than binutils addr2line; for the objects and the columns.
const at = (p, file, task) => p.rows.find((r) => r.file === file && r.task === task)?.nsPerAddr;
const files = [...new Set(parts.flatMap((p) => p.rows.map((r) => r.file)))];
const forms = [["objects", "procmap warm"], ["columns", "procmap warm, columns (symbolizeFileTable)"]];
let targets = "";
for (const file of files) {
  for (const [form, task] of forms) {
    const cells = parts.map((p) => {
      const w = at(p, file, task), g = at(p, file, "gimli addr2line, parsed"), a = at(p, file, "addr2line");
      if (w === undefined) return "-";
      const vsGimli = g ? `${(w / g).toFixed(2)}x gimli` : "gimli -";
      const vsA2l = a && a > 0 ? `${Math.round(a / w)}x cheaper than addr2line` : "addr2line -";
      return `${vsGimli}, ${vsA2l}`;
    });
    if (cells.some((c) => c !== "-")) targets += `| ${file} | ${form} | ${cells.join(" | ")} |\n`;
  }
}
if (targets) {
  md += `\n## Targets (issue #24): warm cost over gimli's (<= 1x), binutils addr2line's over warm (>= 100x)\n\n`;
  md += `| file | form | ${parts.map((p) => p.runtime).join(" | ")} |\n| --- | --- |${
    parts.map(() => " --- |").join("")
  }\n`;
  md += targets;
}
const report = quick ? join(outDir, "LINES.quick.md") : join(benchDir, "LINES.md");
writeFileSync(report, md);
// Committed as deno fmt leaves it, so `deno fmt --check` stays clean (its tables are written unpadded).
if (!quick) spawnSync(bin("deno"), ["fmt", "--quiet", report], { stdio: "inherit" });
console.error(`wrote ${report}`);
