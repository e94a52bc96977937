/**
 * Node.js: `import { ProcMaps } from "procmap"` resolves through the
 * package's exports to the compiled JavaScript and uses the text backend.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const script = `
import { ProcMaps } from "procmap";
using maps = ProcMaps.open("self");
const vmas = [...maps.vmasSync()];
const libc = vmas.find((v) => /libc\\.so/.test(v.name));
console.log(JSON.stringify({ backend: maps.backend, count: vmas.length, libc: libc?.toString() }));
`;

test("node imports procmap by package name and gets the text backend", {
  skip: existsSync("dist/mod.js") ? false : "dist/ is not built (npm run build)",
}, () => {
  // Node 20 has no `using` syntax: strip it to a plain declaration for this probe.
  const r = spawnSync("node", ["--input-type=module", "-e", script.replace("using maps", "const maps")], {
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { backend: string; count: number; libc: string };
  assert.equal(out.backend, "text");
  assert.ok(out.count > 10);
  assert.match(out.libc, /^[0-9a-f]+-[0-9a-f]+ r..p [0-9a-f]+ [0-9a-f]+:[0-9a-f]+ \d+ +\/.*libc\.so/);
});
