/**
 * Named anonymous memory (prctl PR_SET_VMA_ANON_NAME) shows as
 * `[anon:<name>]`. The kernel needs CONFIG_ANON_VMA_NAME; without it prctl
 * fails with EINVAL and no memory can be named, so the test skips and says
 * why (the text parser covers such names with fixture lines instead).
 * No after() hooks here: Deno's node:test does not run them in a file with
 * a skipped test.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { ProcMaps } from "../mod.ts";
import { compileC, startMapper } from "./helpers/child.ts";
import { BACKENDS } from "./helpers/backends.ts";

/** errno of prctl(PR_SET_VMA_ANON_NAME) in a throwaway child (0 when it works). */
const anonNameErrno = Number(spawnSync(compileC("anon_name_probe"), [], { encoding: "utf8" }).stdout.trim());
const reason = anonNameErrno === 0
  ? false
  : `this kernel cannot name anonymous memory (prctl PR_SET_VMA_ANON_NAME: errno ${anonNameErrno}, needs CONFIG_ANON_VMA_NAME)`;
if (reason) console.log(`note: skipping the [anon:name] test: ${reason}`);

test("anonymous memory named with PR_SET_VMA_ANON_NAME is reported as [anon:name]", { skip: reason }, async () => {
  const mapper = await startMapper();
  try {
    assert.equal(mapper.info.anonNameErrno, 0);
    for (const backend of BACKENDS) {
      using maps = ProcMaps.open(mapper.pid, { backend });
      const v = maps.query(BigInt(mapper.info.anonNamed.start))!;
      assert.equal(v.name, "[anon:procmap-anon]");
      assert.equal(v.fileBacked, false);
    }
  } finally {
    await mapper.stop();
  }
});
