/**
 * src/util/bytes.ts' number helpers against BigInt's own arithmetic: the
 * resolve and symbolize fast routes make their bigints with toBigint() and
 * take a VMA's numbers as doubles only where below52() holds.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { below52, toBigint } from "../src/util/bytes.ts";

test("toBigint gives BigInt(v) for integers in [0, 2^53)", () => {
  const edges = [0, 1, 0xffff_ffff, 2 ** 32, 2 ** 32 + 1, 2 ** 52 - 1, 2 ** 52, 2 ** 53 - 2, 2 ** 53 - 1];
  let x = 0x9e3779b9;
  const random = Array.from({ length: 1000 }, () => {
    x ^= x << 13, x ^= x >>> 17, x ^= x << 5;
    const hi = (x >>> 0) % 2 ** 21;
    x ^= x << 13, x ^= x >>> 17, x ^= x << 5;
    return hi * 2 ** 32 + (x >>> 0);
  });
  for (const v of [...edges, ...random]) assert.equal(toBigint(v), BigInt(v), `toBigint(${v})`);
});

test("below52 holds strictly between -2^52 and 2^52", () => {
  const two52 = 2n ** 52n;
  for (const v of [0n, 1n, -1n, two52 - 1n, -(two52 - 1n)]) assert.equal(below52(v), true, `${v}`);
  for (const v of [two52, -two52, two52 + 1n, 2n ** 64n - 1n, -(2n ** 63n)]) assert.equal(below52(v), false, `${v}`);
});
