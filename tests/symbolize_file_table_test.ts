/**
 * symbolizeFileTable(): symbolizeFile() as columns. Every row's columns
 * (symbol, offset, reason, frame chain) and objects equal symbolizeFile()'s
 * results, on libc with its debug file, on every byte of a C++ fixture's
 * code, on a function only DWARF names, and on files with no DWARF or that
 * cannot be read.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FileSymbolized, type FileSymbolizedTable, SYMBOL_REASONS, Symbolizer } from "../mod.ts";
import { built, has, VARIANTS } from "./helpers/lines_compare.ts";
import { columnFrames } from "./helpers/frame_columns.ts";

const LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6";

/** Checks every input position of `t` against symbolizeFile()'s `objects`; returns the rows with frames. */
function agree(t: FileSymbolizedTable, objects: FileSymbolized[], what: string): number {
  assert.equal(t.index.length, objects.length, what);
  let framed = 0;
  const seen = new Map<number, FileSymbolized>();
  for (let i = 0; i < objects.length; i++) {
    const r = t.index[i];
    const o = objects[i];
    const at = t.at(i)!;
    // One object per row.
    if (seen.has(r)) {
      assert.equal(at, seen.get(r));
      continue;
    }
    seen.set(r, at);
    const where = `${what} 0x${o.elfAddr.toString(16)}`;
    assert.equal(t.elfAddr[r], o.elfAddr, where);
    // Compared one by one: a failing deepEqual of whole arrays takes minutes to print.
    assert.deepEqual(at, o, where);
    assert.deepEqual(t.framesAt(r), o.symbol?.frames, where);
    assert.deepEqual(columnFrames(t.chains, t.chain[r]), o.symbol?.frames, where);
    if (o.symbol?.frames) framed++;
    assert.equal(SYMBOL_REASONS[t.symbolReason[r]], o.symbolReason, where);
    assert.equal(t.symbolMessageAt(r), o.symbolMessage, where);
    const k = t.symbol[r];
    if (!o.symbol || o.symbol.source === "dwarf") {
      // A function only DWARF names has no row in the symbol table (its SymbolInfo comes through at()).
      assert.equal(k, -1, where);
      continue;
    }
    assert.deepEqual({
      name: t.symbols.name[k],
      demangled: t.symbols.demangled[k],
      start: t.symbols.start[k],
      size: t.symbols.size[k],
      source: t.symbols.source[k],
      offset: t.symbolOffset[r],
    }, {
      name: o.symbol.name,
      demangled: o.symbol.demangled,
      start: o.symbol.start,
      size: o.symbol.size,
      source: o.symbol.source,
      offset: o.symbol.offset,
    }, where);
  }
  return framed;
}

/** The executable PT_LOAD's [vaddr, vaddr + memsz) of a file, from readelf. */
function textRange(file: string): [number, number] {
  const r = spawnSync("readelf", ["-lW", file], { encoding: "utf8" });
  for (const m of r.stdout.matchAll(/^\s*LOAD\s+\S+\s+(0x[0-9a-f]+)\s+\S+\s+\S+\s+(0x[0-9a-f]+)\s+(R?\s?W?\s?E)/gm)) {
    if (m[3].includes("E")) return [Number(m[1]), Number(m[1]) + Number(m[2])];
  }
  throw new Error(`no executable PT_LOAD in ${file}`);
}

test("symbolizeFileTable(): libc with its debug file, every option, any input form, equals symbolizeFile()", () => {
  const [lo, hi] = textRange(LIBC);
  let x = 20261207;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  const addrs = Array.from({ length: 6000 }, () => BigInt(lo + Math.floor(next() * (hi - lo))));
  // Repeats, out of order, and addresses outside the code (data, past the end, above 2^52).
  addrs.push(...addrs.slice(0, 500), 0n, 0x10n, BigInt(hi + 0x100000), 1n << 60n, 0xffffffffffffffffn);
  const s = new Symbolizer();
  let framed = 0;
  for (const opts of [{}, { inlines: false }, { demangle: false }, { lines: false }]) {
    const objects = s.symbolizeFile(LIBC, addrs, opts);
    for (const input of [addrs, BigUint64Array.from(addrs), addrs.map(Number).filter((a) => a <= 2 ** 53)]) {
      const o = input.length === addrs.length ? objects : s.symbolizeFile(LIBC, input, opts);
      const t = s.symbolizeFileTable(LIBC, input, opts);
      const n = agree(t, o, JSON.stringify(opts));
      if ("lines" in opts) assert.equal(n, 0);
      framed += n;
      assert.equal(t.toArray().length, input.length);
      assert.deepEqual(JSON.parse(JSON.stringify(t)), JSON.parse(JSON.stringify(o)));
    }
  }
  assert.ok(framed > 10_000, `rows with frames: ${framed}`);
});

/** [start, end) of a section, from readelf. */
function sectionRange(path: string, name: string): [bigint, bigint] | undefined {
  const out = spawnSync("readelf", ["-SW", path], { encoding: "utf8" }).stdout ?? "";
  const m = new RegExp(`\\s${name.replace(".", "\\.")}\\s+PROGBITS\\s+([0-9a-f]+)\\s+[0-9a-f]+\\s+([0-9a-f]+)`).exec(
    out,
  );
  return m ? [BigInt("0x" + m[1]), BigInt("0x" + m[1]) + BigInt("0x" + m[2])] : undefined;
}

test("symbolizeFileTable(): every byte of a C++ fixture's code, its chains shared where one answer holds", () => {
  const v = VARIANTS.find((v) => v.name.startsWith("g++") && v.needs.every((t) => has(t)));
  if (!v) return;
  const bin = built(v);
  const range = sectionRange(bin, ".text");
  assert.ok(range, `${v.name}: .text`);
  const [start, end0] = range;
  const end = end0 - start > 12_000n ? start + 12_000n : end0;
  const addrs: bigint[] = [];
  for (let a = end - 1n; a >= start; a--) addrs.push(a);
  for (const opts of [{}, { inlines: false }, { demangle: false }]) {
    const s = new Symbolizer();
    const objects = s.symbolizeFile(bin, addrs, opts);
    const t = s.symbolizeFileTable(bin, addrs, opts);
    assert.ok(agree(t, objects, `${v.name} ${JSON.stringify(opts)}`) > 1000);
    // Neighbours in one line row share a chain: fewer chains than rows with frames.
    let rows = 0;
    for (let r = 0; r < t.length; r++) if (t.chain[r] >= 0) rows++;
    assert.ok(t.chains.length < rows, `${t.chains.length} chains for ${rows} rows`);
    // A chain's frames array is made once.
    const c = t.chain[t.index[0]];
    if (c >= 0) assert.equal(t.chains.framesOf(c), t.chains.framesOf(c));
  }
});

test("symbolizeFileTable(): a function only DWARF names, a file without DWARF, an unreadable file, no addresses", {
  skip: has("gcc") && has("objcopy") ? false : "gcc and objcopy are needed",
}, () => {
  const dir = mkdtempSync(join(tmpdir(), "procmap-filetable-"));
  try {
    writeFileSync(
      join(dir, "t.c"),
      // hidden_fn after a function with a size (a zero-sized symbol before it would cover it).
      "static int hidden_fn(int x);\nint visible_fn(int x) { return hidden_fn(x) + 2; }\n" +
        "static int __attribute__((noinline)) hidden_fn(int x) { return x * 3 + 1; }\n" +
        "int main(int c, char **v) { return visible_fn(c); }\n",
    );
    const bin = join(dir, "t");
    const strip = join(dir, "t.stripped");
    const bare = join(dir, "t.nodwarf");
    for (
      const [cmd, ...args] of [
        ["gcc", "-O1", "-fno-toplevel-reorder", "-g", "-o", bin, join(dir, "t.c")],
        ["objcopy", "--strip-symbol=hidden_fn", bin, strip],
        ["objcopy", "--strip-debug", bin, bare],
      ]
    ) assert.equal(spawnSync(cmd, args).status, 0, `${cmd} ${args.join(" ")}`);
    const nm = spawnSync("nm", [bin], { encoding: "utf8" }).stdout;
    const hidden = BigInt("0x" + /^([0-9a-f]+) t hidden_fn$/m.exec(nm)![1]);
    const visible = BigInt("0x" + /^([0-9a-f]+) T visible_fn$/m.exec(nm)![1]);
    const addrs = [hidden, hidden + 1n, hidden + 2n, visible, visible + 4n, hidden, 0x10n, 0n];
    const s = new Symbolizer({ debugDirs: [] });
    for (const [file, opts] of [[strip, {}], [strip, { inlines: false }], [bare, {}], [bin, {}]] as const) {
      const objects = s.symbolizeFile(file, addrs, opts);
      const t = s.symbolizeFileTable(file, addrs, opts);
      agree(t, objects, file);
      if (file === strip) {
        const r = t.index[0];
        assert.equal(t.symbolAt(r)?.source, "dwarf");
        assert.equal(t.symbol[r], -1);
        assert.ok(t.chain[r] >= 0);
        assert.equal(t.chains.name[t.chains.first[t.chain[r] + 1] - 1], "hidden_fn");
        assert.equal(t.at(5), t.at(0));
      }
      if (file === bare) assert.ok(Array.from(t.chain).every((c) => c === -1));
    }
    // A file that cannot be opened: every row says why, as symbolizeFile() does.
    const gone = join(dir, "missing");
    const t = s.symbolizeFileTable(gone, addrs);
    agree(t, s.symbolizeFile(gone, addrs), "missing");
    assert.equal(t.symbolReasonAt(0), "file-unreadable");
    assert.equal(t.chains.length, 0);
    assert.equal(s.symbolizeFileTable(bin, []).length, 0);
    assert.equal(s.symbolizeFileTable(bin, []).at(0), undefined);
    assert.throws(() => s.symbolizeFileTable(bin, [1n], { lines: 1 } as never), TypeError);
    assert.throws(() => s.symbolizeFileTable(bin, [-1n]), RangeError);
    assert.throws(() => s.symbolizeFileTable(bin, [1n], { line: true } as never), /symbolizeFileTable option "line"/);
    assert.throws(() => t.rowAt(t.length), RangeError);
    assert.throws(() => t.chains.framesOf(0), RangeError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
