/**
 * The text backend reads each walk's text into a buffer it reuses once no
 * walk reads it any more (names are decoded from a snapshot's text as a walk
 * gets to them). A walk that is still going must keep reading its own
 * snapshot however many reads come after it: a child swaps the file mapped
 * at one address (two names of one length, so a reused buffer would line up
 * byte for byte), and walks in progress must still report the file of their
 * own moment, with the inode that goes with it.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProcMaps, type Vma } from "../mod.ts";
import { compileC, startChild, type Started } from "./helpers/child.ts";
import { fields, readRows } from "./helpers/ground_truth.ts";

interface SwapperInfo {
  addr: string;
  a: string;
  b: string;
}

let dir: string;
let child: Started<SwapperInfo>;
let addr: bigint;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "procmap-swapper-"));
  child = await startChild<SwapperInfo>(compileC("swapper"), [dir]);
  addr = BigInt(child.info.addr);
});

after(async () => {
  await child.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Maps the other file at `addr`; resolves once the child has. */
function swap(): Promise<void> {
  return new Promise((resolve) => {
    const onData = (chunk: string) => {
      if (!chunk.includes("ok")) return;
      child.child.stdout!.off("data", onData);
      resolve();
    };
    child.child.stdout!.on("data", onData);
    child.child.stdin!.write("swap\n");
  });
}

/** The name the kernel reports at `addr` now (the ground-truth parser on a fresh read). */
function mappedNow(): string {
  return readRows(child.pid).find((r) => r.start === addr)!.name;
}

const at = (vmas: Vma[]) => vmas.find((v) => v.start === addr);

test("a walk in progress keeps its snapshot's names while later walks read the text again", async () => {
  using maps = ProcMaps.open(child.pid, { backend: "text" });
  const then = mappedNow();
  const reference = [...maps.vmasSync()].map(fields);
  const outer = maps.vmasSync();
  const first = outer.next(); // the outer walk's snapshot is read here
  await swap();
  const now = mappedNow();
  assert.notEqual(now, then);
  // More reads than the backend has buffers: each walk sees the swap.
  for (let i = 0; i < 4; i++) assert.equal(at([...maps.vmasSync()])!.name, now);
  // One more walk taken and left open, one finished early: neither disturbs the outer walk.
  const left = maps.vmasSync();
  left.next();
  for (const _ of maps.vmasSync()) break;
  assert.equal(at([...maps.vmasSync()])!.name, now);
  const rest = [first.value as Vma, ...outer];
  assert.equal(at(rest)!.name, then);
  assert.deepEqual(rest.map(fields), reference);
  assert.equal(at([...left])!.name, now);
});

test("an async walk keeps its snapshot's names across refresh(), queries and other walks between its steps", async () => {
  using maps = ProcMaps.open(child.pid, { backend: "text" });
  const then = mappedNow();
  const reference = [...maps.vmasSync()].map(fields);
  const seen: Vma[] = [];
  let swapped = false;
  for await (const v of maps.vmas()) {
    seen.push(v);
    if (swapped) continue;
    swapped = true;
    await swap();
    for (let i = 0; i < 3; i++) {
      maps.refresh();
      assert.equal(maps.query(addr)!.name, mappedNow());
      const t = maps.table();
      assert.equal(t.name(t.find(addr)), mappedNow());
      assert.equal(at([...maps.vmasSync()])!.name, mappedNow());
    }
  }
  assert.equal(at(seen)!.name, then);
  assert.deepEqual(seen.map(fields), reference);
});
