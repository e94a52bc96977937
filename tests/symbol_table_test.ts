/**
 * An ELF symbol table answers its first lookups by scanning its entries and
 * sorts itself when more come (src/elf/symbol_table.ts): both must name
 * every address alike. Compared on hand-made tables with random aliases
 * (bindings, types, names), zero-sized, nested and overlapping symbols,
 * symbols outside their section; and on libc's
 * `.dynsym` and libc6-dbg's debug file; on hostile tables (entries the
 * filter drops, values past 2^52); and around every symbol of real files
 * (libc, libm, the dynamic loader, libz and their debug files). Also: a symbol found by a scan is
 * the object the sorted table gives, and a batch announcing many lookups
 * sorts the table first.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { buildSymElf, FUNC_GLOBAL, FUNC_LOCAL, FUNC_WEAK, OBJECT_GLOBAL, type Sym } from "./helpers/elf_symtab.ts";
import { count, Rng, seed } from "./helpers/rng.ts";
import { memoryReader } from "../src/elf/read_at.ts";
import { type ElfSections, readSections, type Section, SHT_DYNSYM, SHT_SYMTAB } from "../src/elf/sections.ts";
import type { ReadAt } from "../src/elf/segments.ts";
import { type ElfSymbolTable, readSymbolTable } from "../src/elf/symbols.ts";
import type { RawSymbol, SymbolSource } from "../src/symbol.ts";
import { installedDebugFile } from "./helpers/elf_notes.ts";

/** Lookups a table scans before it sorts itself (symbol_table.ts's SCAN_LOOKUPS). */
const SCANS = 8;

const show = (
  s: RawSymbol | undefined,
) => (s ? `${s.name} [${s.start.toString(16)}, +${s.size.toString(16)})` : "none");

function tableOf(read: ReadAt, elf: ElfSections, sec: Section, source: SymbolSource): ElfSymbolTable {
  const t = readSymbolTable(read, elf, sec, source);
  assert.ok(typeof t !== "string", `table: ${t}`);
  return t as ElfSymbolTable;
}

/** Each probe looked up in fresh tables (scanned, `SCANS` probes each) and in one sorted table: the same answers. */
function compare(read: ReadAt, elf: ElfSections, sec: Section, source: SymbolSource, probes: bigint[], what: string) {
  const sorted = tableOf(read, elf, sec, source);
  sorted.expectLookups(() => Infinity);
  let scanned = tableOf(read, elf, sec, source);
  probes.forEach((p, i) => {
    if (i % SCANS === 0) scanned = tableOf(read, elf, sec, source);
    assert.equal(show(scanned.find(p)), show(sorted.find(p)), `${what}: address 0x${p.toString(16)}`);
  });
}

/** Around each symbol: its start, last byte and end, and the bytes next to them. */
function around(syms: readonly { value: bigint; size: bigint }[]): bigint[] {
  const out = new Set<bigint>();
  for (const s of syms) {
    for (const p of [s.value - 1n, s.value, s.value + 1n, s.value + s.size - 1n, s.value + s.size]) {
      if (p >= 0n) out.add(p);
    }
  }
  return [...out];
}

test("scanned and sorted lookups name every address alike, on random hand-made tables", () => {
  const rng = new Rng(seed(26));
  const names = ["f", "_f", "__f", "f_long_name", "g", "__g_impl", "h@GLIBC_2.2.5", "h@@GLIBC_2.34", "obj"];
  const infos = [FUNC_GLOBAL, FUNC_WEAK, FUNC_LOCAL, OBJECT_GLOBAL, 0x1a /* GNU unique function */];
  for (let round = 0; round < count(100, 2000); round++) {
    const syms: Sym[] = [];
    const n = rng.range(1, 40);
    for (let i = 0; i < n; i++) {
      // Mostly inside .text [0x1000, 0x2000), some at its edges and outside; aliases by reusing a value.
      const value = syms.length && rng.chance(0.3)
        ? syms[rng.int(syms.length)].value
        : BigInt(rng.chance(0.9) ? 0x1000 + rng.int(0x1000) : rng.pick([0xff0, 0x1ff8, 0x2000, 0x2010]));
      const size = rng.chance(0.3) ? 0n : BigInt(rng.pick([1, 8, 0x10, 0x40, 0x100, 0x800]));
      syms.push({ name: `${rng.pick(names)}${rng.int(3)}`, value, size, info: rng.pick(infos) });
    }
    const read = memoryReader(buildSymElf({ syms }));
    const elf = readSections(read)!;
    const sec = elf.sections[2];
    // Beyond the symbols' own edges, every 8th byte of .text and around it.
    const probes = [...around(syms)];
    for (let a = 0xff8n; a < 0x2010n; a += 24n) probes.push(a);
    compare(read, elf, sec, "symtab", probes, `round ${round}`);
  }
});

test("scanned and sorted lookups name every address alike, on hostile tables", () => {
  // Entries of every kind the filter drops or keeps: each type and binding, undefined, absolute, common,
  // extended and out-of-range section indices, a section not loaded, no name or one past the string table,
  // sizes of 2^53 bytes and more, values past 2^52 and 2^53 (kept when sized: no section bounds them).
  const rng = new Rng(seed(2626));
  const types = [0, 1, 2, 3, 6, 10, 13];
  const binds = [0, 1, 2, 5, 10];
  const shndxs = [0, 1, 1, 1, 2, 4, 9, 0xfff1, 0xfff2, 0xffff];
  const huge = [2n ** 52n, 2n ** 52n + 0x1000n, 2n ** 53n + 2n, 2n ** 64n - 0x10n, 0xfffff00000000n];
  for (let round = 0; round < count(100, 2000); round++) {
    const syms: Sym[] = [];
    const n = rng.range(1, 40);
    for (let i = 0; i < n; i++) {
      const value = syms.length && rng.chance(0.25)
        ? syms[rng.int(syms.length)].value
        : rng.chance(0.15)
        ? rng.pick(huge)
        : BigInt(rng.chance(0.9) ? 0x1000 + rng.int(0x1000) : rng.pick([0, 0xff0, 0x1ff8, 0x2000, 0x2010]));
      const size = rng.chance(0.3)
        ? 0n
        : rng.chance(0.1)
        ? rng.pick([2n ** 53n, 2n ** 53n - 1n, 2n ** 64n - 1n, 2n ** 40n])
        : BigInt(rng.pick([1, 8, 0x10, 0x40, 0x100, 0x800]));
      const name = rng.chance(0.1) ? rng.pick([0, 1, 100000]) : `${rng.pick(["f", "_g", "__h", "x@V1"])}${rng.int(4)}`;
      syms.push({ name, value, size, info: (rng.pick(binds) << 4) | rng.pick(types), shndx: rng.pick(shndxs) });
    }
    const read = memoryReader(buildSymElf({ syms, unterminated: rng.chance(0.2) }));
    const elf = readSections(read)!;
    const sec = elf.sections[2];
    const probes = [...around(syms)].filter((p) => p < 2n ** 64n);
    for (let a = 0xff8n; a < 0x2010n; a += 40n) probes.push(a);
    compare(read, elf, sec, "symtab", probes, `round ${round}`);
  }
});

const libc = ["/lib/x86_64-linux-gnu/libc.so.6", "/lib/aarch64-linux-gnu/libc.so.6", "/usr/lib64/libc.so.6"]
  .find((p) => existsSync(p));

/** Some symbols of a real table (every `step`-th), around each. */
function realProbes(read: ReadAt, elf: ElfSections, sec: Section, source: SymbolSource, step: number): bigint[] {
  const all = [...tableOf(read, elf, sec, source).symbols()];
  return around(all.filter((_, i) => i % step === 0).map((s) => ({ value: s.start, size: s.size })));
}

test("scanned and sorted lookups name libc alike (.dynsym, and libc6-dbg's .symtab)", {
  skip: libc ? false : "no libc.so.6 here",
}, () => {
  const bytes = readFileSync(realpathSync(libc!));
  const read = memoryReader(bytes);
  const elf = readSections(read)!;
  const dynsym = elf.sections.find((s) => s.type === SHT_DYNSYM)!;
  compare(read, elf, dynsym, "dynsym", realProbes(read, elf, dynsym, "dynsym", 37), "libc .dynsym");
  const debug = installedDebugFile(libc!);
  if (!debug) return;
  const dread = memoryReader(readFileSync(debug));
  const delf = readSections(dread)!;
  const symtab = delf.sections.find((s) => s.type === SHT_SYMTAB)!;
  compare(dread, delf, symtab, "debug-file", realProbes(dread, delf, symtab, "debug-file", 41), "libc debug file");
});

/** Real files with a symbol table, and libc6-dbg's debug files of libc, libm and the dynamic loader. */
function realFiles(): string[] {
  const out: string[] = [];
  for (const dir of ["/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib64"]) {
    for (const name of ["libc.so.6", "libm.so.6", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "libz.so.1"]) {
      const p = `${dir}/${name}`;
      if (!existsSync(p)) continue;
      out.push(realpathSync(p));
      const debug = installedDebugFile(p);
      if (debug) out.push(debug);
    }
  }
  return out;
}

test("scanned and sorted lookups name every symbol of real files alike", () => {
  const files = realFiles();
  assert.ok(files.length > 0, "no real files here");
  for (const path of files) {
    const read = memoryReader(readFileSync(path));
    const elf = readSections(read)!;
    for (const sec of elf.sections.filter((s) => s.type === SHT_SYMTAB || s.type === SHT_DYNSYM)) {
      const source = sec.type === SHT_SYMTAB ? "symtab" : "dynsym";
      compare(read, elf, sec, source, realProbes(read, elf, sec, source, 1), `${path} ${sec.name}`);
    }
  }
});

test("a symbol a scan found is the sorted table's object; a batch of many lookups sorts the table first", () => {
  const syms: Sym[] = [
    { name: "a", value: 0x1000n, size: 0x100n },
    { name: "b", value: 0x1100n, size: 0x100n },
    { name: "c", value: 0x1200n, size: 0n },
  ];
  const read = memoryReader(buildSymElf({ syms }));
  const elf = readSections(read)!;
  const t = tableOf(read, elf, elf.sections[2], "symtab");
  const b = t.find(0x1180n);
  assert.equal(b?.name, "b");
  assert.equal(t.find(0x1190n), b);
  t.expectLookups(() => 2); // scans left for that: stays unsorted
  assert.equal(t.find(0x1100n), b);
  t.expectLookups(() => 100);
  assert.equal(t.find(0x1100n), b, "after sorting, the same object");
  assert.equal(t.find(0x1000n)?.name, "a");
  assert.equal(t.find(0x1300n)?.name, "c", "zero-sized: to the section's end");
  assert.deepEqual([...t.symbols()].map((s) => s.name), ["a", "b", "c"]);
  assert.equal([...t.symbols()][1], b);
});
