/**
 * The symbol reader on hostile and odd ELF files: lying sizes, counts,
 * links and offsets, unterminated strings, huge alias runs, random
 * corruption of a real binary. Each gives a reason (or the symbols that are
 * sound), never a throw, crash or hang. A well-formed file built the same
 * way is named, so the builder itself is checked.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Symbolizer } from "../mod.ts";
import {
  buildSymElf,
  FUNC_GLOBAL,
  FUNC_LOCAL,
  FUNC_WEAK,
  OBJECT_GLOBAL,
  type SymElfSpec,
} from "./helpers/elf_symtab.ts";
import { compileC } from "./helpers/child.ts";
import { Rng } from "./helpers/rng.ts";

const dir = mkdtempSync(join(tmpdir(), "procmap-hostile-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function write(bytes: Uint8Array): string {
  const p = join(dir, `f${n++}`);
  writeFileSync(p, bytes);
  return p;
}
const symbolizer = new Symbolizer({ maxCacheBytes: 0 });
const at = (spec: SymElfSpec, addrs: bigint[]) => symbolizer.symbolizeFile(write(buildSymElf(spec)), addrs);

test("a well-formed table: sized, zero-sized (to the next symbol, within its section), nested, aliases", () => {
  const r = at({
    syms: [
      { name: "f", value: 0x1000n, size: 0x10n },
      { name: "zero", value: 0x1100n, size: 0n },
      { name: "after_zero", value: 0x1180n, size: 0x10n },
      { name: "last_zero", value: 0x1f00n, size: 0n },
      { name: "outer", value: 0x1200n, size: 0x100n },
      { name: "inner", value: 0x1240n, size: 0x10n },
      { name: "__local_alias", value: 0x1400n, size: 8n, info: FUNC_LOCAL },
      { name: "weak_alias", value: 0x1400n, size: 8n, info: FUNC_WEAK },
      { name: "_global", value: 0x1500n, size: 8n },
      { name: "global_longer", value: 0x1500n, size: 8n },
      { name: "data", value: 0x1600n, size: 4n, info: OBJECT_GLOBAL },
      { name: "unsized_data", value: 0x1700n, size: 0n, info: OBJECT_GLOBAL },
    ],
  }, [0x1000n, 0x100fn, 0x1010n, 0x1150n, 0x1fffn, 0x2000n, 0x1245n, 0x1260n, 0x1400n, 0x1500n, 0x1602n, 0x1700n]);
  const names = r.map((x) => x.symbol?.name);
  assert.deepEqual(names, [
    "f",
    "f",
    undefined,
    "zero",
    "last_zero",
    undefined,
    "inner",
    "outer",
    "weak_alias",
    "global_longer",
    "data",
    undefined,
  ]);
  assert.equal(r[3].symbol?.size, 0x80n); // up to after_zero
  assert.equal(r[4].symbol?.size, 0x100n); // up to the end of .text
  assert.equal(r[2].symbolReason, "no-symbol");
  assert.equal(r[0].symbol?.source, "symtab");
});

test("lying sizes, links and offsets give a reason", () => {
  const syms = [{ name: "f", value: 0x1000n, size: 0x10n }];
  const cases: [string, SymElfSpec, string][] = [
    ["symtab larger than procmap reads", { syms, symtabSize: 1n << 40n }, "table-too-big"],
    ["symtab running past the end of the file", { syms, symtabSize: 60n << 20n }, "no-symbols"],
    ["string table larger than procmap reads", { syms, strtabSize: 1n << 50n }, "table-too-big"],
    ["symtab linked to a section that does not exist", { syms, symtabLink: 999 }, "no-symbols"],
    ["section headers past the end of the file", { syms, shoff: 1n << 40n }, "no-elf"],
    ["section header offset beyond 2^53", { syms, shoff: 1n << 60n }, "no-elf"],
    ["more section headers than the file holds", { syms, shnum: 0xfeff }, "no-elf"],
    ["a name past the string table", { syms: [{ name: 1 << 20, value: 0x1000n, size: 0x10n }] }, "no-symbols"],
    ["an unterminated name", { syms, unterminated: true }, "no-symbols"],
    ["an undefined symbol", { syms: [{ name: "u", value: 0x1000n, size: 0x10n, shndx: 0 }] }, "no-symbols"],
    ["a symbol in a section that does not exist, zero-sized", {
      syms: [{ name: "z", value: 0x1000n, size: 0n, shndx: 77 }],
    }, "no-symbols"],
  ];
  for (const [what, spec, reason] of cases) {
    const [r] = at(spec, [0x1000n]);
    assert.equal(r.symbol, undefined, what);
    assert.equal(r.symbolReason, reason, what);
    assert.ok(r.symbolMessage, what);
  }
  // Not ELF at all, empty, a directory.
  for (const p of [write(new Uint8Array(100)), write(new Uint8Array(0))]) {
    assert.equal(symbolizer.symbolizeFile(p, [0n])[0].symbolReason, "no-elf");
  }
  assert.equal(symbolizer.symbolizeFile(dir, [0n])[0].symbolReason, "file-unreadable");
  assert.equal(symbolizer.symbolizeFile(join(dir, "missing"), [0n])[0].symbolReason, "file-unreadable");
});

test("200,000 aliases at one address with long names: one is named, in bounded work", () => {
  const long = "x".repeat(30000);
  const syms = Array.from({ length: 200_000 }, (_, i) => ({
    name: i === 0 ? "_" + long : 1, // all others share offset 1: the long name minus its underscore
    value: 0x1000n,
    size: 0x10n,
    info: FUNC_GLOBAL,
  }));
  const [r] = at({ syms }, [0x1008n]);
  // Past the name-scan budget aliases keep table order: either name is right.
  const name = r.symbol?.name;
  assert.ok(name === long || name === "_" + long, `got ${name?.slice(0, 40)}... (${name?.length} chars)`);
  assert.equal(r.symbol?.offset, 8n);
  // A run of aliases within the budget follows the rule: fewer leading underscores.
  const few = at({
    syms: [{ name: "__a", value: 0x1000n, size: 4n }, { name: "_a", value: 0x1000n, size: 4n }],
  }, [0x1000n]);
  assert.equal(few[0].symbol?.name, "_a");
});

test("randomly corrupted copies of a real binary never throw", () => {
  const original = readFileSync(compileC("sym_target", ["-g"]));
  const rng = new Rng(20261201);
  for (let i = 0; i < 150; i++) {
    const bytes = Uint8Array.from(original);
    const flips = 1 + rng.int(40);
    for (let k = 0; k < flips; k++) {
      // Mostly in the headers and tables (the start and the end of the file).
      const pos = rng.int(2) === 0 ? rng.int(128) : bytes.length - 1 - rng.int(Math.min(bytes.length, 8192));
      bytes[pos] = rng.int(256);
    }
    const p = write(bytes);
    const r = symbolizer.symbolizeFile(p, [0x1139n, 0n, 0x4000n, 0xffffffffffffffffn]);
    assert.equal(r.length, 4);
    for (const x of r) assert.ok(x.symbol !== undefined || x.symbolReason !== undefined);
    rmSync(p);
  }
});

test("a relocatable object (gcc -c) or a core-typed file: no-elf, never a guess among sections that all start at 0", () => {
  // In a .o every function's value and every DWARF line sequence is an offset in its own section: main in
  // .text.startup and fib in .text are both at 0, so a symbol or a line there would be a guess (addr2line
  // applies the relocations and needs a section named).
  const obj = readFileSync(compileC("sym_target", ["-g", "-c"]));
  assert.equal(new DataView(obj.buffer, obj.byteOffset).getUint16(16, true), 1); // ET_REL
  for (
    const [what, bytes] of [["ET_REL", obj], [
      "ET_CORE",
      retyped(readFileSync(compileC("sym_target", ["-g"])), 4),
    ]] as const
  ) {
    const r = symbolizer.symbolizeFile(write(bytes), [0n, 0x10n, 0x1139n]);
    for (const x of r) {
      assert.equal(x.symbol, undefined, `${what}: ${JSON.stringify(x)}`);
      assert.equal(x.symbolReason, "no-elf");
      assert.match(x.symbolMessage!, what === "ET_REL" ? /relocatable object \(ET_REL\)/ : /ELF type 4/);
    }
  }
  // The same program linked is named, with lines.
  const linked = symbolizer.symbolizeFile(compileC("sym_target", ["-g"]), [0x1139n, 0x1000n]);
  assert.ok(linked.some((x) => x.symbol?.frames?.length), JSON.stringify(linked));
});

function retyped(b: Uint8Array, type: number): Uint8Array {
  const c = Uint8Array.from(b);
  new DataView(c.buffer).setUint16(16, type, true);
  return c;
}
