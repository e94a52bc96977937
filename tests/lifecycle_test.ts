/**
 * A process that exits under the reader: between open and first use, in the
 * middle of an iteration, at an arbitrary moment of a stream of queries; and
 * a pid that is reused by another process. Each gives ProcMapsError ESRCH (no
 * crash, no hang, no answer from the wrong process), and close() still
 * releases the descriptor.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProcMaps, ProcMapsError, type Vma } from "../mod.ts";
import { compileC, startChild, type Started } from "./helpers/child.ts";
import { readRows, type Row } from "./helpers/ground_truth.ts";
import { isRoot } from "./helpers/runtime.ts";
import { BACKENDS } from "./helpers/backends.ts";
import { count, Rng, seed } from "./helpers/rng.ts";
import { countFds } from "./helpers/fds.ts";

const SEED = seed(11);
const churnBin = compileC("churn");

interface Hold {
  pid: number;
  mark: { start: string; end: string };
  error?: string;
  errno?: number;
}

/** Descriptors of this process open on /proc/<pid>/ files. */
function procFds(pid: number): number {
  return countFds((link) => link.startsWith(`/proc/${pid}/`));
}

/** SIGKILLs the child and waits until it has been reaped. */
async function killAndReap(c: Started<unknown>): Promise<void> {
  const exited = new Promise<void>((resolve) => c.child.once("exit", () => resolve()));
  c.child.kill("SIGKILL");
  await exited;
}

function assertEsrch(fn: () => unknown, what: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ProcMapsError, `${what}: expected ProcMapsError, got ${e}`);
    assert.equal(e.code, "ESRCH", `${what}: ${e.message}`);
    return true;
  }, what);
}

async function assertEsrchAsync(fn: () => Promise<unknown>, what: string): Promise<void> {
  await assert.rejects(fn, (e: unknown) => {
    assert.ok(e instanceof ProcMapsError, `${what}: expected ProcMapsError, got ${e}`);
    assert.equal(e.code, "ESRCH", `${what}: ${e.message}`);
    return true;
  }, what);
}

const hold = () => startChild<Hold>(churnBin, ["--hold"]);

for (const backend of BACKENDS) {
  test(`${backend}: killed between open and first use: ESRCH everywhere, close() releases the descriptor`, async () => {
    const c = await hold();
    const maps = ProcMaps.open(c.pid, { backend });
    assert.equal(procFds(c.pid), 1);
    await killAndReap(c);
    assert.equal(existsSync(`/proc/${c.pid}`), false, "reaped");
    assertEsrch(() => maps.query(BigInt(c.info.mark.start)), "query");
    assertEsrch(() => maps.query(0n, { coveringOrNext: true, buildId: true }), "query or-next with build ID");
    assertEsrch(() => maps.query(0xffffffffff600000n), "query of the gate area");
    assertEsrch(() => [...maps.vmasSync()], "vmasSync");
    await assertEsrchAsync(async () => {
      for await (const _ of maps.vmas()) { /* consume */ }
    }, "vmas");
    maps.refresh();
    assertEsrch(() => maps.query(0n), "query after refresh");
    maps.close();
    assert.equal(procFds(c.pid), 0, "descriptor closed");
  });

  test(`${backend}: killed mid-iteration: ESRCH or the walk's own snapshot, never a hang`, async () => {
    for (const mode of ["sync", "async"] as const) {
      const c = await hold();
      const maps = ProcMaps.open(c.pid, { backend });
      const truth = readRows(c.pid);
      const got: Vma[] = [];
      let error: unknown;
      try {
        if (mode === "sync") {
          for (const v of maps.vmasSync()) {
            got.push(v);
            if (got.length === 3) await killAndReap(c);
          }
        } else {
          for await (const v of maps.vmas()) {
            got.push(v);
            if (got.length === 3) await killAndReap(c);
          }
        }
      } catch (e) {
        error = e;
      }
      if (backend === "ioctl") {
        // Each step asks the kernel, so the walk notices at once.
        assert.ok(error instanceof ProcMapsError && error.code === "ESRCH", `${mode}: ${error}`);
        assert.equal(got.length, 3);
      } else {
        // A text walk answers from the text it read when it began: complete, then ESRCH next time.
        assert.equal(error, undefined, `${mode}: ${error}`);
        assert.equal(got.length, truth.length);
        assertEsrch(() => [...maps.vmasSync()], `${mode}: next walk`);
      }
      maps.close();
      assert.equal(procFds(c.pid), 0, `${mode}: descriptor closed`);
    }
  });

  test(`${backend}: exit at an arbitrary moment under a stream of walks and queries (seed ${SEED})`, async () => {
    const rng = new Rng(SEED + (backend === "ioctl" ? 0 : 1));
    for (let round = 0; round < count(10, 300); round++) {
      const dir = mkdtempSync(join(tmpdir(), "procmap-exit-"));
      const exitAfterUs = rng.range(5_000, 40_000);
      const c = await startChild<{ pid: number; windows: { start: string; end: string }[] }>(churnBin, [
        dir,
        "--exit-after-us",
        String(exitAfterUs),
      ]);
      try {
        const maps = ProcMaps.open(c.pid, { backend });
        let stable: Row[] | undefined;
        try {
          stable = readRows(c.pid).filter((r) =>
            !c.info.windows.some((w) => r.start < BigInt(w.end) && r.end > BigInt(w.start))
          );
        } catch {
          // exited already (a very short timer): the loop below must still end in ESRCH
        }
        const what = `round ${round} (exit after ${exitAfterUs} us)`;
        let calls = 0;
        let gone = false;
        // The child ends itself; 10 million calls would be minutes, so this bound only catches a hang.
        while (!gone && calls < 10_000_000) {
          calls++;
          try {
            if (calls % 16 === 0) {
              const keys = new Set([...maps.vmasSync()].map((v) => `${v.start}-${v.end} ${v.perms} ${v.name}`));
              // A walk that succeeded saw the whole process: every stable VMA, none cut off by the exit.
              for (const r of stable ?? []) {
                assert.ok(
                  keys.has(`${r.start}-${r.end} ${r.perms} ${r.name}`),
                  `${what}: walk lost ${r.start.toString(16)}`,
                );
              }
            } else {
              if (backend === "text") maps.refresh();
              const w = rng.pick(c.info.windows);
              maps.query(BigInt(w.start) + BigInt(rng.int(4096 * 6)), { coveringOrNext: rng.chance(0.5) });
            }
          } catch (e) {
            if (!(e instanceof ProcMapsError) || e.code !== "ESRCH") throw e;
            gone = true;
          }
        }
        assert.ok(gone, `${what}: no ESRCH after ${calls} calls`);
        // Once gone, always gone.
        for (let i = 0; i < 5; i++) {
          maps.refresh();
          assertEsrch(() => maps.query(0n, { coveringOrNext: true }), `${what}: after exit`);
        }
        maps.close();
        assert.equal(procFds(c.pid), 0);
      } finally {
        await c.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
}

test("close() during an async iteration: the loop ends with EBADF and the descriptor is released", async () => {
  const c = await hold();
  try {
    for (const backend of BACKENDS) {
      const maps = ProcMaps.open(c.pid, { backend });
      let n = 0;
      await assert.rejects(async () => {
        for await (const _ of maps.vmas()) if (++n === 2) maps.close();
      }, (e: unknown) => e instanceof ProcMapsError && e.code === "EBADF");
      assert.equal(procFds(c.pid), 0, backend);
    }
  } finally {
    await c.stop();
  }
});

const reuseSkip = !isRoot ? "needs root: clone3 with set_tid needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE" : false;

test(
  "pid reuse: a handle on an exited process never reports the new process with its pid",
  { skip: reuseSkip },
  async () => {
    // clone3(set_tid) gives the new process exactly the old pid, so reuse is certain, not hoped for.
    const old = await hold();
    const pid = old.pid;
    const handles = BACKENDS.map((backend) => ProcMaps.open(pid, { backend }));
    for (const maps of handles) assert.equal(maps.query(BigInt(old.info.mark.start))?.end, BigInt(old.info.mark.end));
    await killAndReap(old);

    const reused = await startChild<Hold>(churnBin, ["--reuse", String(pid)]);
    try {
      assert.equal(reused.info.error, undefined, `clone3(set_tid=${pid}) failed: errno ${reused.info.errno}`);
      assert.equal(reused.info.pid, pid, "the new process has the old pid");
      const newMark = BigInt(reused.info.mark.start);
      // A fresh handle sees the new process: reuse really happened.
      {
        using fresh = ProcMaps.open(pid);
        assert.equal(fresh.query(newMark)?.end, BigInt(reused.info.mark.end));
      }
      // Until refresh(), the text handle answers from the snapshot it took of the old process.
      const text = handles[BACKENDS.indexOf("text")];
      assert.equal(text.query(BigInt(old.info.mark.start))?.end, BigInt(old.info.mark.end));
      for (const maps of handles) {
        maps.refresh();
        assertEsrch(() => maps.query(newMark), `${maps.backend}: query`);
        assertEsrch(() => [...maps.vmasSync()], `${maps.backend}: walk`);
        maps.close();
      }
      assert.equal(procFds(pid), 0);
    } finally {
      await reused.stop();
    }
  },
);
