/**
 * Node.js: `import { ProcMaps } from "procmap"` (and `require("procmap")`)
 * resolves through the package's exports to the compiled JavaScript; Node 26
 * gets the ioctl backend through node:ffi, the machine's Node 20 the text
 * backend, and both list libc's mapping as the kernel's maps text does.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { node26, NODE26_FLAGS, systemNode } from "./helpers/node_runtimes.ts";

// Node 20 has no `using` syntax: a plain declaration and an explicit close.
const esm = `
import { ProcMaps } from "procmap";
const maps = ProcMaps.open("self");
const vmas = [...maps.vmasSync()];
const libc = vmas.find((v) => /libc\\.so/.test(v.name));
console.log(JSON.stringify({ backend: maps.backend, count: vmas.length, libc: libc?.toString() }));
maps.close();
`;
const cjs = esm.replace(`import { ProcMaps } from "procmap";`, `const { ProcMaps } = require("procmap");`);

const LINE = /^[0-9a-f]+-[0-9a-f]+ r..p [0-9a-f]+ [0-9a-f]+:[0-9a-f]+ \d+ +\/.*libc\.so/;
const built = existsSync("dist/mod.js") ? false : "dist/ is not built (npm run build)";

function run(node: string, flags: string[], type: "module" | "commonjs", script: string) {
  const r = spawnSync(node, [...flags, `--input-type=${type}`, "-e", script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, "", "no warning on stderr");
  return JSON.parse(r.stdout) as { backend: string; count: number; libc: string };
}

/** node:ffi (so the ioctl) from Node 26.12 on, without flags. */
function hasFfi(node: string): boolean {
  const [major, minor] = spawnSync(node, ["--version"], { encoding: "utf8" }).stdout.slice(1).split(".").map(Number);
  return major > 26 || (major === 26 && minor >= 12);
}

for (
  const [name, node, flags] of [
    ["the machine's Node.js", systemNode(), []],
    ["Node.js 26 from npm", node26(), NODE26_FLAGS],
  ] as const
) {
  for (const [type, script] of [["module", esm], ["commonjs", cjs]] as const) {
    test(`${name} loads procmap by package name (${type === "module" ? "import" : "require"})`, {
      skip: built || (node === undefined ? `${name} is not installed` : false),
    }, () => {
      const out = run(node!, [...flags], type, script);
      assert.equal(out.backend, hasFfi(node!) ? "ioctl" : "text");
      assert.ok(out.count > 10);
      assert.match(out.libc, LINE);
    });
  }
}
