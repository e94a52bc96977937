/**
 * The index sorts under symbol tables and symbolize batches (util/radix.ts,
 * symbolize/ascending.ts) against Array.prototype.sort with a comparator
 * (stable since ES2019) on random 64-bit keys: ties, shared high bits,
 * keys differing only in one half, and orders that already ascend.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { radixOrder } from "../src/util/radix.ts";
import { ascending } from "../src/symbolize/ascending.ts";

/** A small deterministic generator (xorshift32), so a failure repeats. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
}

/** The comparator sort's answer: indices by (hi, lo), ties by index. */
function reference(order: number[], hi: Uint32Array, lo: Uint32Array): number[] {
  return [...order].sort((a, b) => hi[a] - hi[b] || lo[a] - lo[b]);
}

test("radixOrder equals a stable comparator sort on random keys", () => {
  const next = rng(0x9e3779b9);
  for (const n of [0, 1, 2, 3, 17, 1000, 5000]) {
    for (const shape of ["random", "shared high", "few values", "high only"]) {
      const hi = new Uint32Array(n), lo = new Uint32Array(n);
      for (let i = 0; i < n; i++) {
        hi[i] = shape === "random" || shape === "high only" ? next() : 0x7f3a;
        lo[i] = shape === "few values" ? next() % 7 : shape === "high only" ? 5 : next();
      }
      // Any subset of the indices, in any order (symbol tables sort the entries they keep).
      const order = Array.from({ length: n }, (_, i) => i).filter(() => next() % 4 !== 0);
      const want = reference(order, hi, lo);
      assert.deepEqual([...radixOrder(Uint32Array.from(order), hi, lo)], want, `${shape}, ${n} keys`);
    }
  }
});

test("ascending() orders distinct addresses, the identity when they already ascend", () => {
  const next = rng(12345);
  const n = 3000;
  const hi = new Uint32Array(n), lo = new Uint32Array(n);
  const seen = new Set<string>();
  for (let i = 0; i < n;) {
    const h = 0x7f00 + (next() % 3), l = next();
    if (seen.has(`${h}:${l}`)) continue;
    seen.add(`${h}:${l}`);
    hi[i] = h, lo[i++] = l;
  }
  const all = Array.from({ length: n }, (_, i) => i);
  const want = reference(all, hi, lo);
  assert.deepEqual([...ascending(hi, lo)], want);
  const sortedHi = Uint32Array.from(want, (i) => hi[i]), sortedLo = Uint32Array.from(want, (i) => lo[i]);
  assert.deepEqual([...ascending(sortedHi, sortedLo)], all);
});
