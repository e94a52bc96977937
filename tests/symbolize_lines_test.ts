/**
 * Source lines and inlined frames (`symbol.frames`): the options that ask
 * for them, checked before anything is read.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ProcMaps, Symbolizer } from "../mod.ts";

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
