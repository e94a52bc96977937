/**
 * Every result type serializes: `JSON.stringify()` of a Vma, VmaTable,
 * Resolved, ResolvePlan, Symbolized, SymbolInfo, FileSymbolized,
 * KernelSymbolized, smaps entry and rollup (and of resolveTable() and
 * symbolizeTable(), which give their objects' JSON) gives JSON from which every field
 * comes back (bigints from their "0x" hex strings, nested results from their
 * own JSON), and the method is no field of the object.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { ProcMaps, Symbolizer, Vma } from "../mod.ts";
import { symbolInfo } from "../src/symbolize/symbolizer.ts";
import { flagCut } from "../src/symbolize/table_cursor.ts";

const HEX = /^0x[0-9a-f]+$/;

/** The Vma back from its JSON (Vma.toJSON's own spelling: perms, dev as hex major:minor, inode in decimal). */
function checkVma(json: Record<string, unknown>, v: Vma, where: string): void {
  assert.equal(BigInt(json.start as string), v.start, where);
  assert.equal(BigInt(json.end as string), v.end, where);
  assert.equal(BigInt(json.offset as string), v.offset, where);
  assert.equal(json.perms, v.perms, where);
  const [major, minor] = (json.dev as string).split(":").map((x) => parseInt(x, 16));
  assert.deepEqual([major, minor], [v.devMajor, v.devMinor], where);
  assert.equal(BigInt(json.inode as string), v.inode, where);
  assert.equal(json.pageSize, v.pageSize, where);
  assert.equal(json.name, v.name, where);
  assert.equal(json.buildId, v.buildId, where);
}

/**
 * `json` (parsed back) holds every field of `original`: a bigint as "0x" hex
 * of the same value, undefined as no key, a Vma or a nested result as its
 * own JSON (checked the same way), anything else equal; and no other key.
 */
function checkFields(json: Record<string, unknown>, original: object, where: string): void {
  const fields = original as Record<string, unknown>;
  const keys = Object.keys(fields);
  assert.ok(!keys.includes("toJSON"), `${where}: toJSON is not a field`);
  for (const k of keys) {
    const v = fields[k];
    const w = `${where}.${k}`;
    if (v === undefined) assert.ok(!(k in json), `${w}: undefined gives no key`);
    else if (typeof v === "bigint") {
      assert.match(json[k] as string, HEX, w);
      assert.equal(BigInt(json[k] as string), v, w);
    } else if (v === Infinity) assert.equal(json[k], null, `${w}: Infinity, which JSON spells null`);
    else if (v instanceof Vma) checkVma(json[k] as Record<string, unknown>, v, w);
    else if (typeof v === "object" && v !== null && !Array.isArray(v) && "toJSON" in v) {
      checkFields(json[k] as Record<string, unknown>, v, w);
    } else assert.deepEqual(json[k], v, w);
  }
  for (const k of Object.keys(json)) assert.ok(fields[k] !== undefined, `${where}: key ${k} is no field`);
}

/** Stringify (which threw for bigints before toJSON), parse back, check every field. */
function roundTrip(x: object, where: string): Record<string, unknown> {
  const back = JSON.parse(JSON.stringify(x));
  checkFields(back, x, where);
  // toJSON() itself is plain data: stringifying it gives the same text.
  assert.equal(JSON.stringify((x as { toJSON(): unknown }).toJSON()), JSON.stringify(x), where);
  return back;
}

/**
 * Two forms of one answer serialize alike. This process's own VMAs can change between the two
 * calls (its heap grows, a GC unmaps), so a pair is taken again, a few times, before they differ.
 */
function sameJson(objects: () => unknown, columns: () => unknown, where: string): void {
  let a = "", b = "";
  for (let i = 0; i < 3; i++) {
    a = JSON.stringify(objects());
    b = JSON.stringify(columns());
    if (a === b) return;
  }
  assert.equal(b, a, where);
}

/** One VMA of each kind this process has: a file, anonymous memory, the stack, the vDSO. */
function sampleVmas(maps: ProcMaps): Vma[] {
  const vmas = [...maps.vmasSync()];
  const pick = (pred: (v: Vma) => boolean) => vmas.find(pred);
  return [
    pick((v) => v.executable && v.fileBacked && /libc[.-]/.test(v.name ?? "")),
    pick((v) => v.fileBacked && !v.executable && v.offset > 0n),
    pick((v) => v.name === ""),
    pick((v) => v.name === "[stack]"),
    pick((v) => v.name === "[vdso]"),
  ].filter((v): v is Vma => v !== undefined);
}

for (const backend of ["auto", "text"] as const) {
  test(`${backend}: Vma, VmaTable, Resolved and ResolvePlan round-trip through JSON`, () => {
    using maps = ProcMaps.open("self", { backend });
    const vmas = sampleVmas(maps);
    assert.ok(vmas.length >= 4, "a file, anonymous memory, the stack and the vDSO");
    for (const v of vmas) checkVma(JSON.parse(JSON.stringify(v)), v, v.toString());
    const withIds = maps.vmasSync({ buildId: true }).next().value!;
    checkVma(JSON.parse(JSON.stringify(withIds)), withIds, "with build ID");

    const t = maps.table({ buildId: true });
    const rows = JSON.parse(JSON.stringify(t));
    assert.ok(Array.isArray(rows) && rows.length === t.length && t.length > 0);
    rows.forEach((r: Record<string, unknown>, i: number) => checkVma(r, t.at(i)!, `table row ${i}`));
    assert.equal(JSON.stringify(t), JSON.stringify([...t]));

    const addrs = [...vmas.map((v) => v.start + 0x10n), 0x10n];
    const results = maps.resolve(addrs, { buildId: true });
    assert.equal(results.at(-1), null);
    const kinds = new Set<string>();
    for (const r of results) {
      if (!r) continue;
      kinds.add(r.kind);
      const back = roundTrip(r, `resolve(0x${r.addr.toString(16)})`);
      assert.equal(back.kind, r.kind);
    }
    assert.ok(kinds.has("file") && kinds.has("anonymous") && kinds.has("special"), [...kinds].join());
    // The columns serialize as their objects do: one shape.
    sameJson(
      () => maps.resolve(addrs, { buildId: true }),
      () => maps.resolveTable(addrs, { buildId: true }),
      "resolveTable",
    );
    // With and without a snapshot, and a forced strategy: each plan's fields come back.
    roundTrip(maps.planResolve(addrs), "planResolve");
    roundTrip(maps.planResolve(addrs, { strategy: "text" }), "planResolve text");
    if (maps.backend === "ioctl") {
      // No budget: Infinity, which JSON spells null.
      const forced = JSON.parse(JSON.stringify(maps.planResolve(addrs, { strategy: "ioctl" })));
      assert.deepEqual(forced, {
        strategy: "ioctl",
        uniqueAddresses: addrs.length,
        queryBudget: null,
        reason: "strategy ioctl was asked for",
      });
    }
  });
}

test("Symbolized, SymbolInfo and FileSymbolized round-trip through JSON", () => {
  using maps = ProcMaps.open("self");
  const symbolizer = new Symbolizer();
  const vmas = sampleVmas(maps);
  const libc = vmas[0];
  assert.ok(libc.name?.includes("libc"), "libc is mapped");
  // Addresses across libc's code (some named, some maybe not), anonymous memory, the vDSO, nothing.
  const addrs: bigint[] = [];
  for (let a = libc.start; a < libc.end; a += (libc.size / 64n) | 1n) addrs.push(a);
  for (const v of vmas.slice(1)) addrs.push(v.start);
  addrs.push(0x10n);
  const results = maps.symbolize(addrs, { symbolizer });
  let named = 0, unnamed = 0;
  for (const r of results) {
    if (!r) continue;
    const where = `symbolize(0x${r.addr.toString(16)})`;
    const back = roundTrip(r, where);
    if (r.symbol) {
      named++;
      assert.equal(back.symbol && (back.symbol as Record<string, unknown>).name, r.symbol.name);
      roundTrip(r.symbol, `${where}.symbol`);
    } else {
      unnamed++;
      assert.equal(back.symbolReason, r.symbolReason);
    }
  }
  assert.ok(named > 0 && unnamed > 0, `${named} named, ${unnamed} not`);
  // The table's rows serialize as symbolize()'s objects, frames included.
  sameJson(() => maps.symbolize(addrs, { symbolizer }), () => maps.symbolizeTable(addrs, { symbolizer }), "table");
  if (existsSync("/usr/lib/debug/.build-id")) {
    assert.ok(results.some((r) => r?.symbol?.frames?.length), "libc's debug file gives frames, in the JSON too");
  }

  // symbolizeFile: named, not named, and a file that cannot be read.
  const [hit] = results.filter((r) => r?.symbol && r.kind === "file");
  const file = symbolizer.symbolizeFile(hit!.name, [hit!.elfAddr!, 0n]);
  assert.ok(file[0].symbol);
  for (const f of file) roundTrip(f, `symbolizeFile(0x${f.elfAddr.toString(16)})`);
  const [missing] = symbolizer.symbolizeFile("/nonexistent/procmap-json", [0x1000n]);
  assert.equal(missing.symbolReason, "file-unreadable");
  roundTrip(missing, "symbolizeFile of a missing file");
});

test("a SymbolInfo whose demangling the budget cut keeps its toJSON() and its reason", () => {
  const cut = flagCut(symbolInfo({ name: "_Z1fv", start: 0x1000n, size: 0x10n }, "symtab", 0x1004n, false));
  const back = roundTrip(cut, "cut");
  assert.equal(back.demangleReason, "budget");
  assert.equal(back.offset, "0x4");
});

test("KernelSymbolized round-trips through JSON (named where kallsyms shows addresses, else its reason)", () => {
  const line = readFileSync("/proc/kallsyms", "utf8").split("\n").find((l) => / [tT] /.test(l))!;
  const addr = BigInt("0x" + line.split(" ")[0]);
  const symbolizer = new Symbolizer();
  const results = symbolizer.symbolizeKernel([addr === 0n ? 0xffffffff81000000n : addr, 0n]);
  for (const k of results) {
    const back = roundTrip(k, `symbolizeKernel(0x${k.addr.toString(16)})`);
    if (k.symbol) roundTrip(k.symbol, "kernel symbol");
    else assert.equal(back.symbolReason, k.symbolReason);
  }
});

test("smaps entries and the rollup round-trip through JSON (figures as numbers, the range as hex)", () => {
  using maps = ProcMaps.open("self");
  const entries = [...maps.smapsSync()];
  assert.ok(entries.length > 0);
  for (const e of entries.slice(0, 50)) {
    const back = roundTrip(e, `smaps ${e.vma.toString()}`);
    assert.equal(back.rss, e.rss);
    assert.deepEqual(back.vmFlags, e.vmFlags);
  }
  const rollup = maps.rollup();
  const back = roundTrip(rollup, "rollup");
  assert.equal(back.pss, rollup.pss);
  assert.match(back.start as string, HEX);
});

test("a kernel thread's empty rollup serializes too", {
  skip: readFileSync("/proc/2/stat", "utf8").includes("(kthreadd)") ? false : "pid 2 is not kthreadd here",
}, () => {
  using maps = ProcMaps.open(2);
  const r = maps.rollup();
  assert.equal(JSON.stringify(r), '{"start":"0x0","end":"0x0"}');
});
