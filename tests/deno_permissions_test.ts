/**
 * Under Deno, procmap needs --allow-ffi (and nothing else): without it,
 * opening gives a ProcMapsError that says which flag to add. Runs the Deno
 * from node_modules, whatever runtime runs the tests.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

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
});

test("Deno with only --allow-ffi: both backends walk, query and resolve", { skip }, () => {
  assert.deepEqual(run(["--allow-ffi"]), { ok: true });
});
