/**
 * The name cache never returns another name's string: names that collide on
 * slot and length but differ in any byte decode to themselves.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { NameCache, toHex } from "../src/util/names.ts";
import { Rng } from "./helpers/rng.ts";

function buffer(): { bytes: Uint8Array; words: Int32Array } {
  const buf = new ArrayBuffer(4096);
  return { bytes: new Uint8Array(buf), words: new Int32Array(buf) };
}

test("NameCache returns exactly the decoded bytes, hit or miss", () => {
  const cache = new NameCache();
  const { bytes, words } = buffer();
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const rng = new Rng(7);
  const names = [
    "/usr/lib/libc.so.6",
    "/usr/lib/libc.so.7",
    "/usr/lib/libd.so.6",
    "/usr/lib/libc.so.6x",
    "[heap]",
    "[stack]",
  ];
  for (let i = 0; i < 200; i++) {
    // Random names of a few lengths, differing in one random byte, with garbage after the end.
    const base = names[rng.int(names.length)];
    const chars = [...base];
    chars[rng.int(chars.length)] = String.fromCharCode(0x61 + rng.int(3));
    names.push(chars.join(""));
  }
  for (let round = 0; round < 5000; round++) {
    const name = names[rng.int(names.length)];
    bytes.fill(rng.int(256));
    const { written } = enc.encodeInto(name, bytes);
    const hint = rng.int(3); // few hints: many collisions
    assert.equal(cache.get(bytes, words, written, hint), dec.decode(bytes.subarray(0, written)));
  }
});

test("NameCache decodes bytes that are not UTF-8 as TextDecoder does", () => {
  const cache = new NameCache();
  const { bytes, words } = buffer();
  bytes.set([0x2f, 0xff, 0xfe, 0x41, 0xc3]);
  assert.equal(cache.get(bytes, words, 5, 1), new TextDecoder().decode(bytes.subarray(0, 5)));
  assert.equal(cache.get(bytes, words, 5, 1), "/\uFFFD\uFFFDA\uFFFD");
});

test("NameCache.getAt/putAt: names at any offset of a text, hit or miss, and a working set that fits stays", () => {
  const cache = new NameCache();
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const rng = new Rng(11);
  // A text of names at unaligned offsets; the same bytes at different places are one name.
  const names = ["[heap]", "[vdso]", "[vvar]", "[stack]", "/usr/lib/libc.so.6", "/usr/bin/cat", "/a", "/b"];
  for (let i = 0; i < 40; i++) names.push(`/tmp/file-${i}-${"x".repeat(rng.int(60))}`);
  let misses = 0;
  for (let round = 0; round < 20; round++) {
    for (const [k, name] of names.entries()) {
      const text = new Uint8Array(300);
      const at = 1 + rng.int(100);
      const bytes = enc.encode(name);
      text.set(bytes, at);
      const hint = name.startsWith("[") ? 0 : k; // pseudo files have no inode
      let got = cache.getAt(text, new DataView(text.buffer), at, bytes.length, hint);
      if (got === undefined) {
        misses++;
        got = cache.putAt(text, at, bytes.length, hint, dec.decode(bytes));
      }
      assert.equal(got, name);
    }
  }
  // 48 names in 256 slots: after the first round almost every lookup hits.
  assert.ok(misses < names.length + 10, `${misses} misses`);
});

test("NameCache.getAt: a name differing from a remembered one in any single byte (word or tail) is a miss", () => {
  const enc = new TextEncoder();
  const base = "/usr/lib/x86_64-linux-gnu/libz.so"; // 33 bytes: eight words and a tail byte
  for (const at of [0, 1, 2, 3]) {
    const cache = new NameCache();
    const text = new Uint8Array(64);
    text.set(enc.encode(base), at);
    const view = new DataView(text.buffer);
    assert.equal(cache.putAt(text, at, base.length, 7, base), base);
    assert.equal(cache.getAt(text, view, at, base.length, 7), base);
    for (let k = 0; k < base.length; k++) {
      // The middle and last bytes pick the set: a change elsewhere lands in the same set.
      const other = base.slice(0, k) + (base[k] === "x" ? "y" : "x") + base.slice(k + 1);
      const t2 = new Uint8Array(64);
      t2.set(enc.encode(other), at);
      assert.equal(cache.getAt(t2, new DataView(t2.buffer), at, base.length, 7), undefined, `byte ${k} at ${at}`);
    }
  }
});

test("toHex gives lowercase two-digit bytes", () => {
  assert.equal(toHex(new Uint8Array([0, 1, 0xab, 0xff, 0x10]), 5), "0001abff10");
  assert.equal(toHex(new Uint8Array([0xaa, 0xbb]), 1), "aa");
});
