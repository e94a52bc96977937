/**
 * Source lines against the reference tools over every instruction address
 * (the tests compare a sample): for each build of tests/fixtures/lines
 * (tests/helpers/lines_compare.ts) and for libc with libc6-dbg's debug
 * file, how many addresses' frames (`symbolizeFile()`, names as DWARF
 * gives them) equal `addr2line -f -i`, `llvm-symbolizer --inlining` and
 * `eu-addr2line -f -i`, each alone and any of them, and how many more the
 * naming rule and padding explain (see the test's header).
 *
 *   <runtime> bench/lines_agreement.ts [--max N]   (N addresses per build at most; default all)
 * @module
 */
import process from "node:process";
import { realpathSync } from "node:fs";
import { instructionAddresses } from "../tests/helpers/dwarf_tools.ts";
import { sample } from "../tests/helpers/dwarf_builds.ts";
import { built, compare, has, VARIANTS } from "../tests/helpers/lines_compare.ts";

const i = process.argv.indexOf("--max");
const max = i >= 0 ? Number(process.argv[i + 1]) : Infinity;

const targets: [string, () => string][] = VARIANTS.filter((v) => v.needs.every((t) => has(t))).map((v) => [
  v.name,
  () => built(v),
]);
targets.push(["libc.so.6 with libc6-dbg's debug file", () => realpathSync("/lib/x86_64-linux-gnu/libc.so.6")]);

console.log(
  "| build | addresses | agree (any tool) | addr2line | llvm-symbolizer | eu-addr2line | by the naming/padding rules | other |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const [name, path] of targets) {
  const file = path();
  const addrs = sample(instructionAddresses(file, [".text"]), max);
  // In parts: the tools take the addresses on standard input, one process per part.
  const t = { total: 0, agree: 0, a2l: 0, llvm: 0, eu: 0, nameRule: 0, misses: [] as string[] };
  for (let k = 0; k < addrs.length; k += 20_000) {
    const part = compare(file, addrs.slice(k, k + 20_000));
    for (const key of ["total", "agree", "a2l", "llvm", "eu", "nameRule"] as const) t[key] += part[key];
    t.misses.push(...part.misses);
  }
  const other = t.total - t.agree - t.nameRule;
  console.log(`| ${name} | ${t.total} | ${t.agree} | ${t.a2l} | ${t.llvm} | ${t.eu} | ${t.nameRule} | ${other} |`);
  for (const m of t.misses.slice(0, other ? 3 : 0)) console.error(`  ${name}: ${m}`);
}
