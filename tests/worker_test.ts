/**
 * Workers: terminating a Worker runs no finalizers, so a handle it did not
 * close keeps its descriptors for the life of the process (README,
 * "Guarantees"). With `using` (or close()), nothing is left: the count of
 * /proc/self/fd before and after is the oracle.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { BACKENDS } from "./helpers/backends.ts";
import { countFds } from "./helpers/fds.ts";

const here = new URL(".", import.meta.url);
// Deno and Bun run the TypeScript; Node runs the compiled copy next to this file.
const script = ["fixtures/worker_handles.ts", "fixtures/worker_handles.js"]
  .map((p) => new URL(p, here))
  .find((u) => existsSync(u))!;

/** Descriptors of this process open on files under /proc (what handles hold: /proc/<pid> and its maps). */
const fds = () => countFds((link) => link.startsWith("/proc/"));

for (const backend of BACKENDS) {
  test(`${backend}: handles opened with \`using\` in terminated Workers leak no descriptor`, async () => {
    const before = fds();
    for (let w = 0; w < 2; w++) {
      const worker = new Worker(script, { workerData: { count: 50, backend } });
      const msg = await new Promise<{ answered: number }>((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
      });
      assert.equal(msg.answered, 50, "every handle answered");
      await worker.terminate();
    }
    assert.equal(fds(), before, "no descriptor left behind by 100 handles in 2 terminated workers");
  });
}
