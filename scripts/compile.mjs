#!/usr/bin/env node
// `npm run compile`: the procmap command (or the examples named) as a
// standalone executable, with `bun build --compile` (the Bun runtime and the
// code in one file, about 100 MB; nothing else needed where it runs: Linux on
// the same CPU). Writes bin/<name>; run e.g. `bin/procmap pmap $$`.
//   node scripts/compile.mjs [example...] [--check]
// --check: then runs bin/procmap pmap --json on a `sleep` child and compares
// its VMAs with the kernel's /proc/<pid>/maps (CI does this).
// (`deno compile` would work too, but downloads a runtime build the first
// time, which this project's machines cannot fetch.)
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { bin, root } from "./runtimes.mjs";

const check = process.argv.includes("--check");
const only = process.argv.slice(2).filter((a) => a !== "--check");
const examples = readdirSync(join(root, "examples"))
  .filter((f) => f.endsWith(".ts"))
  .map((f) => f.slice(0, -3))
  .filter((name) => (only.length === 0 ? ["procmap"] : only).includes(name));
mkdirSync(join(root, "bin"), { recursive: true });
let failed = 0;
for (const name of examples) {
  const args = ["build", "--compile", join("examples", `${name}.ts`), "--outfile", join("bin", name)];
  console.log(`$ bun ${args.join(" ")}`);
  const r = spawnSync(bin("bun"), args, { cwd: root, stdio: "inherit" });
  if (r.status !== 0) failed++;
}
if (check && !failed && examples.includes("procmap")) {
  const child = spawn("sleep", ["60"], { stdio: "ignore" });
  try {
    const r = spawnSync(join(root, "bin", "procmap"), ["pmap", String(child.pid), "--json"], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`bin/procmap exited ${r.status}: ${r.stderr}`);
    const out = JSON.parse(r.stdout);
    // The kernel's list (procmap adds the [vsyscall] gate the ioctl omits, as the text has it).
    const want = readFileSync(`/proc/${child.pid}/maps`, "utf8").split("\n").filter(Boolean)
      .map((l) => "0x" + l.split("-")[0].replace(/^0+(?=.)/, ""));
    const got = out.vmas.map((v) => v.start);
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      throw new Error(`bin/procmap pmap listed ${got.length} VMAs, the kernel ${want.length}:\n${got}\n${want}`);
    }
    console.log(`bin/procmap pmap ${child.pid}: ${got.length} VMAs (${out.backend}), as in /proc/${child.pid}/maps`);
  } catch (e) {
    console.error(`compile check failed: ${e.message}`);
    failed++;
  } finally {
    child.kill();
  }
}
// exitCode, not exit(): stdout may be a pipe, whose pending writes exit() would drop.
process.exitCode = failed ? 1 : 0;
