/**
 * Under Deno, procmap needs --allow-ffi (and nothing else), or just
 * --allow-ffi=<path of the C library>: without it, opening gives a
 * ProcMapsError that says which flag to add, and the path it names
 * suffices. Runs the Deno from node_modules, whatever runtime runs the tests.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

const DENO = "node_modules/.bin/deno";
const skip = existsSync(DENO) ? false : "node_modules/.bin/deno is not installed";

function run(flags: string[]): { ok: boolean; name?: string; code?: string; message?: string } {
  const r = spawnSync(DENO, ["run", "--no-prompt", ...flags, "tests/fixtures/open_without_ffi.ts"], {
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

test("Deno without --allow-ffi: a ProcMapsError naming the flag", { skip }, () => {
  const r = run([]);
  assert.equal(r.ok, false);
  assert.equal(r.name, "ProcMapsError");
  assert.equal(r.code, "EACCES");
  assert.match(r.message!, /--allow-ffi/);
  assert.match(r.message!, /--allow-ffi=\/\S+\.so(\.\d+)* /, "names the C library's path");
});

test("Deno with --allow-ffi=<the path the error names>: both backends work", { skip }, () => {
  const path = /--allow-ffi=(\/\S+)/.exec(run([]).message!)![1];
  assert.deepEqual(run([`--allow-ffi=${path}`]), { ok: true });
});

test("Deno with --allow-ffi=<the libc this machine loads> (from /proc/self/maps): both backends work", { skip }, () => {
  const libc = /\s(\/\S*\/libc\.so\.6)$/m.exec(readFileSync("/proc/self/maps", "utf8"))?.[1];
  assert.ok(libc, "a glibc path in this process's maps");
  assert.deepEqual(run([`--allow-ffi=${libc}`]), { ok: true });
});

test("Deno with --allow-ffi for another library only: refused, with the flag named", { skip }, () => {
  const r = run(["--allow-ffi=/usr/lib/no-such-library.so"]);
  assert.equal(r.ok, false);
  assert.equal(r.code, "EACCES");
  assert.match(r.message!, /--allow-ffi/);
});

test("Deno with only --allow-ffi: both backends walk, query and resolve", { skip }, () => {
  assert.deepEqual(run(["--allow-ffi"]), { ok: true });
});
