/**
 * Source lines and inlined frames (`symbol.frames`): the options that ask
 * for them, checked before anything is read; a batch's frames, shared
 * between neighbours, equal each address's own.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { ProcMaps, Symbolizer } from "../mod.ts";
import { built, has, VARIANTS } from "./helpers/lines_compare.ts";

const LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6";

test("lines and inlines are boolean options of symbolize() and symbolizeFile()", () => {
  using maps = ProcMaps.open("self");
  const s = new Symbolizer();
  for (const key of ["lines", "inlines"]) {
    for (const bad of [1, "yes", null, {}]) {
      assert.throws(() => maps.symbolize([0x1000n], { [key]: bad }), {
        name: "TypeError",
        message: `option ${key} must be a boolean, got ${
          bad === null
            ? "null"
            : typeof bad === "object"
            ? "an object"
            : typeof bad === "string"
            ? 'the string "yes"'
            : "number 1"
        }`,
      });
      assert.throws(() => s.symbolizeFile(LIBC, [0x1000n], { [key]: bad }), TypeError);
    }
  }
  assert.throws(
    () => maps.symbolize([0x1000n], { line: true } as never),
    /unknown symbolize option "line"; known: .*lines, inlines/,
  );
  assert.throws(
    () => s.symbolizeFile(LIBC, [0x1000n], { inline: false } as never),
    /unknown symbolizeFile option "inline"; known: demangle, lines, inlines, debugDirs/,
  );
  // Accepted: both, either, none.
  for (const opts of [{ lines: false }, { inlines: false }, { lines: true, inlines: true }, {}]) {
    assert.equal(maps.symbolize([0x10n], opts).length, 1);
    assert.equal(s.symbolizeFile(LIBC, [0x10n], opts).length, 1);
  }
});

/** [start, end) of a section, from readelf. */
function sectionRange(path: string, name: string): [bigint, bigint] | undefined {
  const out = spawnSync("readelf", ["-SW", path], { encoding: "utf8" }).stdout ?? "";
  const m = new RegExp(`\\s${name.replace(".", "\\.")}\\s+PROGBITS\\s+([0-9a-f]+)\\s+[0-9a-f]+\\s+([0-9a-f]+)`).exec(
    out,
  );
  return m ? [BigInt("0x" + m[1]), BigInt("0x" + m[1]) + BigInt("0x" + m[2])] : undefined;
}

// A batch's frames come from the previous address's answer wherever the reader says it still holds (same unit,
// function, line row and inline chain): every byte of code, asked in one batch, must get what it gets alone.
test("a batch's frames equal each address's own, and are shared where one answer holds", () => {
  const variants = VARIANTS.filter((v) => v.name.startsWith("gcc -O3") || v.name.startsWith("g++"));
  let shared = 0;
  for (const v of variants) {
    if (!v.needs.every((t) => has(t))) continue;
    const bin = built(v);
    const range = sectionRange(bin, ".text");
    assert.ok(range, `${v.name}: .text`);
    const [start, end0] = range;
    const end = end0 - start > 12_000n ? start + 12_000n : end0;
    const addrs: bigint[] = [];
    for (let a = start; a < end; a++) addrs.push(a);
    for (const opts of [{}, { inlines: false }, { demangle: false }]) {
      const s = new Symbolizer();
      const batch = s.symbolizeFile(bin, addrs, opts);
      // Alone, highest first: no address is where the one before it left an answer.
      for (let i = addrs.length - 1; i >= 0; i--) {
        const [one] = s.symbolizeFile(bin, [addrs[i]], opts);
        assert.deepEqual(one.symbol, batch[i].symbol, `${v.name} ${JSON.stringify(opts)} 0x${addrs[i].toString(16)}`);
      }
      for (let i = 1; i < batch.length; i++) {
        const f = batch[i].symbol?.frames;
        if (f && f === batch[i - 1].symbol?.frames) shared++;
      }
    }
  }
  if (variants.some((v) => v.needs.every((t) => has(t)))) {
    assert.ok(shared > 0, "neighbours in one line row share their frames");
  }
});
