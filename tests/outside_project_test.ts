// procmap used by a script outside its project (a directory with nothing but the script, no package.json,
// no node_modules): the npm packages it loads on first use must still be found where they are installed
// (here: the repository's node_modules), and where none is installed the reason must say so. The case is
// MiniDebugInfo (.gnu_debugdata, decoded with npm xz-decompress): Deno's resolver had answered "not a
// dependency" for a module imported from outside the main module's project, and the result blamed the
// missing debug file. Ground truth: nm -S of the xz-decoded .gnu_debugdata image.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { compileC } from "./helpers/child.ts";
import { nmSized } from "./helpers/tools.ts";

const isDeno = "Deno" in globalThis;
const isBun = "Bun" in globalThis;
// The repository: this file runs from tests/ (Deno, Bun) or dist/tests/ (Node).
const HERE = new URL(".", import.meta.url).pathname;
const ROOT = [join(HERE, ".."), join(HERE, "../..")].find((d) => existsSync(join(d, "package.json")))!;
const skip = spawnSync("xz", ["--version"]).status === 0 && spawnSync("objcopy", ["--version"]).status === 0
  ? false
  : "xz and objcopy are needed to build the file";

const tmp = mkdtempSync(join(tmpdir(), "procmap-outside-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The script: symbolizes argv's addresses in argv's file with the procmap module at argv[0], prints JSON. */
const SCRIPT = `
const args = globalThis.Deno ? Deno.args : process.argv.slice(2);
const { Symbolizer } = await import(args[0]);
const got = new Symbolizer().symbolizeFile(args[1], [BigInt(args[2])], { debugDirs: [], lines: false });
console.log(JSON.stringify(got[0]));
`;

/** Runs the script in its own directory (outside the repository) under this runtime, with procmap from `mod`. */
function runOutside(dir: string, mod: string, file: string, addr: bigint): Record<string, unknown> {
  writeFileSync(join(dir, "script.mjs"), SCRIPT);
  const cmd = isDeno ? ["run", "--allow-all", "--no-prompt", "script.mjs"] : isBun
    // No auto-install: Bun would otherwise fetch a package that no node_modules holds.
    ? ["--no-install", "script.mjs"]
    : ["--disable-warning=ExperimentalWarning", "script.mjs"];
  const r = spawnSync(process.execPath, [...cmd, mod, file, `0x${addr.toString(16)}`], {
    cwd: dir,
    encoding: "utf8",
    timeout: 120_000,
    killSignal: "SIGKILL",
  });
  if (r.status !== 0) throw new Error(`${cmd.join(" ")} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

describe("a script outside procmap's project", { skip }, () => {
  // A stripped file whose only record of static_function is its MiniDebugInfo, made as Fedora's find-debuginfo does.
  const fixture = (() => {
    if (skip) return undefined;
    const bin = compileC("sym_target", ["-g"]);
    const dir = join(tmp, "fixture");
    const r = spawnSync("sh", [
      "-ec",
      `mkdir -p "$2" && cd "$2" && nm -D "$1" --format=posix --defined-only | awk '{print $1}' | sort > dyn &&
      nm "$1" --format=posix --defined-only | awk '$2 == "T" || $2 == "t" {print $1}' | sort > funcs &&
      comm -13 dyn funcs > keep && objcopy --only-keep-debug "$1" debug &&
      objcopy -S --remove-section .gdb_index --remove-section .comment --keep-symbols=keep debug mini &&
      xz -k mini && strip --strip-all -R .comment "$1" -o stripped &&
      objcopy --add-section .gnu_debugdata=mini.xz stripped`,
      "sh",
      bin,
      dir,
    ], { encoding: "utf8", timeout: 60_000 });
    if (r.status !== 0) throw new Error(`building the MiniDebugInfo file: ${r.stderr}`);
    // The decoded image (xz -k kept it) is the ground truth; the stripped file's own tables lack the function.
    const truth = nmSized(join(dir, "mini")).find((s) => s.name === "static_function");
    assert.ok(truth, "nm finds static_function in the MiniDebugInfo image");
    assert.ok(!nmSized(join(dir, "stripped"), true).some((s) => s.name === "static_function"));
    return { file: join(dir, "stripped"), truth };
  })();

  it("finds the packages in procmap's own node_modules and names a MiniDebugInfo-only function", {
    timeout: 180_000,
  }, () => {
    const dir = mkdtempSync(join(tmp, "script-"));
    // Deno and Bun run the sources; Node.js the bundle the package ships (built by scripts/build.mjs).
    const mod = isDeno || isBun ? join(ROOT, "mod.ts") : join(ROOT, "dist", "bundle", "mod.js");
    const got = runOutside(dir, mod, fixture!.file, fixture!.truth.addr);
    const sym = got.symbol as Record<string, string> | undefined;
    assert.ok(sym, `no symbol: ${got.symbolMessage}`);
    assert.equal(sym.name, "static_function");
    assert.equal(sym.source, "minidebuginfo");
    assert.equal(BigInt(sym.start), fixture!.truth.addr);
    assert.equal(BigInt(sym.size), fixture!.truth.size);
  });

  it("says the decoder cannot be loaded (npm xz-decompress) when no node_modules holds it", {
    timeout: 180_000,
  }, () => {
    const dir = mkdtempSync(join(tmp, "copy-"));
    // A copy of procmap with no node_modules above it: the sources for Deno and Bun, the bundle for Node.js.
    let mod: string;
    if (isDeno || isBun) {
      for (const d of ["src", "ffi", "mod.ts"]) cpSync(join(ROOT, d), join(dir, "procmap", d), { recursive: true });
      mod = join(dir, "procmap", "mod.ts");
    } else {
      cpSync(join(ROOT, "dist", "bundle"), join(dir, "procmap"), { recursive: true });
      mod = join(dir, "procmap", "mod.js");
    }
    assert.ok(!existsSync(join(dirname(dir), "node_modules")) && !existsSync(join(tmpdir(), "node_modules")));
    const got = runOutside(dir, mod, fixture!.file, fixture!.truth.addr);
    assert.equal(got.symbol, undefined);
    assert.equal(got.symbolReason, "no-symbol");
    const message = String(got.symbolMessage);
    assert.match(message, /MiniDebugInfo \(\.gnu_debugdata\) is not decoded: .*npm xz-decompress\) cannot be loaded: /);
    // The resolver's own error follows, naming the package it could not find.
    assert.match(message, /cannot be loaded: .*xz-decompress/);
    assert.doesNotMatch(message, /not decoded: .*\n/, "one line");
  });
});
