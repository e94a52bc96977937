/**
 * A large symbolize() batch (the sorted walk, the forward search in each
 * table, numbers instead of bigints) gives exactly what each address gets
 * alone and what resolve() plus Symbolizer.symbolizeFile() give it: every
 * VMA of a C++ process, page padding, unmapped gaps and duplicates.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ProcMaps, Symbolizer } from "../mod.ts";
import { startChild, type Started } from "./helpers/child.ts";
import { readRows } from "./helpers/ground_truth.ts";
import { Rng } from "./helpers/rng.ts";
import { compileCxx, haveGxx } from "./helpers/tools.ts";

let child: Started<{ pid: number }>;
before(async () => {
  if (haveGxx) child = await startChild<{ pid: number }>(compileCxx("sym_target_cpp", ["-g"]), []);
});
after(() => child?.stop());

test("a batch of 6,000 addresses equals each address alone and resolve() + symbolizeFile()", {
  skip: haveGxx ? false : "g++ is needed",
}, () => {
  const rows = readRows(child.pid).filter((r) => r.start < 0xffff800000000000n);
  const rng = new Rng(15);
  const next = () => rng.u32() / 2 ** 32;
  const addrs: bigint[] = [];
  // Dense runs in code (the forward search), anywhere in every VMA, just past each VMA (gaps and padding).
  const code = rows.filter((r) => r.perms[2] === "x" && r.name.startsWith("/"));
  for (const r of code) {
    let a = r.start + BigInt(Math.floor(next() * 64));
    for (let i = 0; i < 500 && a < r.end; i++, a += BigInt(1 + Math.floor(next() * 96))) addrs.push(a);
  }
  for (let i = 0; i < 2000; i++) {
    const r = rows[Math.floor(next() * rows.length)];
    addrs.push(r.start + BigInt(Math.floor(next() * Number(r.end - r.start))));
  }
  for (const r of rows) addrs.push(r.end, r.end - 1n);
  for (let i = 0; i < 200; i++) addrs.push(addrs[Math.floor(next() * addrs.length)]); // duplicates
  addrs.push(0n, 1n, 0x7fffffffffffn);

  using maps = ProcMaps.open(child.pid);
  const symbolizer = new Symbolizer();
  const batch = maps.symbolize(addrs, { symbolizer });
  assert.equal(batch.length, addrs.length);
  const resolved = maps.resolve(addrs);
  const files = new Symbolizer();
  let named = 0;
  for (let i = 0; i < addrs.length; i++) {
    const got = batch[i];
    const [alone] = maps.symbolize([addrs[i]], { symbolizer });
    assert.deepEqual(got, alone, `address ${addrs[i].toString(16)} alone`);
    const r = resolved[i];
    if (r === null) {
      assert.equal(got, null);
      continue;
    }
    assert.ok(got);
    // The vDSO gets the ELF address of its image, which resolve() leaves out (no file).
    const elfAddr = r.name === "[vdso]" ? got.elfAddr : r.elfAddr;
    assert.deepEqual(
      [got.addr, got.vma, got.kind, got.name, got.buildId, got.fileOffset, got.elfAddr, got.reason, got.reasonText],
      [r.addr, r.vma, r.kind, r.name, r.buildId, r.fileOffset, elfAddr, r.reason, r.reasonText],
      `resolve() fields of ${addrs[i].toString(16)}`,
    );
    if (r.kind === "file" && r.elfAddr !== undefined) {
      const [f] = files.symbolizeFile(r.name, [r.elfAddr]);
      assert.deepEqual(got.symbol, f.symbol, `symbolizeFile(${r.name}, ${r.elfAddr.toString(16)})`);
      assert.equal(got.symbolReason, f.symbolReason);
      if (got.symbol) named++;
    }
  }
  assert.ok(named > 2000, `most code addresses are named (${named})`);
  // Equal addresses share one result, in input order.
  const first = new Map<bigint, unknown>();
  batch.forEach((r, i) => {
    if (!first.has(addrs[i])) first.set(addrs[i], r);
    else assert.equal(first.get(addrs[i]), r);
  });
});
