/**
 * A large symbolize() batch (the sorted walk, the forward search in each
 * table, numbers instead of bigints) gives exactly what each address gets
 * alone and what resolve() plus Symbolizer.symbolizeFile() give it: every
 * VMA of a C++ process, page padding, unmapped gaps and duplicates.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ProcMaps, SYMBOL_REASONS, type Symbolized, Symbolizer } from "../mod.ts";
import { startChild, type Started } from "./helpers/child.ts";
import { readRows } from "./helpers/ground_truth.ts";
import { Rng } from "./helpers/rng.ts";
import { columnFrames } from "./helpers/frame_columns.ts";
import { compileCxx, haveGxx } from "./helpers/tools.ts";

let child: Started<{ pid: number }>;
before(async () => {
  if (haveGxx) child = await startChild<{ pid: number }>(compileCxx("sym_target_cpp", ["-g"]), []);
});
after(() => child?.stop());

/** A batch over every VMA of the child: dense runs in code, anywhere in every VMA, edges and gaps, duplicates. */
function batchOver(pid: number, seed: number): bigint[] {
  const rows = readRows(pid).filter((r) => r.start < 0xffff800000000000n);
  const rng = new Rng(seed);
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
  return addrs;
}

test("a batch of 6,000 addresses equals each address alone and resolve() + symbolizeFile()", {
  skip: haveGxx ? false : "g++ is needed",
}, () => {
  const addrs = batchOver(child.pid, 15);

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

/** The row-level reading of a table: what its columns say of row `r`, without its views. */
function columnsOf(t: ReturnType<ProcMaps["symbolizeTable"]>, r: number) {
  const k = t.symbol[r];
  return {
    name: k < 0 ? undefined : t.symbols.name[k],
    demangled: k < 0 ? undefined : t.symbols.demangled[k],
    start: k < 0 ? undefined : t.symbols.start[k],
    size: k < 0 ? undefined : t.symbols.size[k],
    source: k < 0 ? undefined : t.symbols.source[k],
    offset: k < 0 ? undefined : t.symbolOffset[r],
    reason: SYMBOL_REASONS[t.symbolReason[r]],
  };
}

test("symbolizeTable(): its columns, frames and objects are symbolize()'s results (demangled or not, any input form)", {
  skip: haveGxx ? false : "g++ is needed",
}, () => {
  const addrs = batchOver(child.pid, 16);
  using maps = ProcMaps.open(child.pid);
  const symbolizer = new Symbolizer();
  let withFrames = 0;
  for (const [demangle, lines] of [[true, true], [false, true], [true, false]]) {
    const objects = maps.symbolize(addrs, { symbolizer, demangle, lines });
    for (const input of [addrs, BigUint64Array.from(addrs)]) {
      const t = maps.symbolizeTable(input, { symbolizer, demangle, lines });
      assert.equal(t.resolved.index.length, addrs.length);
      const all = t.toArray();
      assert.equal(all.length, addrs.length);
      const rowOf = new Map<number, Symbolized | null>();
      let named = 0;
      for (let i = 0; i < addrs.length; i++) {
        const r = t.resolved.index[i];
        const o = objects[i];
        // One view per row, and the columns agree with symbolize()'s object.
        assert.equal(all[i], t.at(i));
        if (rowOf.has(r)) assert.equal(t.at(i), rowOf.get(r));
        else {
          rowOf.set(r, t.at(i)!);
          // Compared one by one: a failing deepEqual of whole arrays takes minutes to print.
          assert.deepEqual(t.at(i), o, `${addrs[i].toString(16)}, demangle ${demangle}`);
        }
        const c = columnsOf(t, r);
        // The frames column: symbolize()'s frames (its libraries' and the child's own DWARF).
        assert.deepEqual(t.framesAt(r), o?.symbol?.frames);
        // And read from the chain columns alone.
        assert.deepEqual(columnFrames(t.chains, t.chain[r]), o?.symbol?.frames);
        if (t.framesAt(r)) withFrames++;
        // A function only DWARF names has no row in the symbol table (its SymbolInfo comes through at()).
        if (o?.symbol?.source === "dwarf") {
          assert.equal(t.symbol[r], -1);
          continue;
        }
        assert.deepEqual(c, {
          name: o?.symbol?.name,
          demangled: o?.symbol?.demangled,
          start: o?.symbol?.start,
          size: o?.symbol?.size,
          source: o?.symbol?.source,
          offset: o?.symbol?.offset,
          reason: o?.symbolReason,
        }, `row of ${addrs[i].toString(16)}`);
        if (o?.symbol) named++;
      }
      assert.ok(named > 2000, `most code addresses are named (${named})`);
      // Each distinct symbol has one row.
      const keys = new Set<string>();
      for (let k = 0; k < t.symbols.length; k++) {
        keys.add(`${t.symbols.source[k]}:${t.symbols.start[k]}:${t.symbols.name[k]}`);
      }
      assert.equal(keys.size, t.symbols.length);
    }
  }
  assert.ok(withFrames > 100, `rows with source frames: ${withFrames}`);
  assert.equal(maps.symbolizeTable([]).length, 0);
  assert.throws(() => maps.symbolizeTable([1n], { lines: 1 } as never), TypeError);
});
