/**
 * The benchmarks' idiomatic-JavaScript baseline (bench/baseline_parser.ts)
 * must be correct, or beating it would mean nothing: it must agree with the
 * independent ground-truth parser on real maps.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseMapsBaseline } from "../bench/baseline_parser.ts";
import { fields, parseText, readText } from "./helpers/ground_truth.ts";

test("baseline parser equals the ground truth on this process's maps", () => {
  const text = readText("self");
  const got = parseMapsBaseline(text);
  assert.ok(got.length > 10);
  assert.deepEqual(got.map(fields), parseText(text).map(fields));
});

test("baseline parser keeps names with spaces, bare lines and [vsyscall]", () => {
  const text = [
    "00400000-00452000 r-xp 00000000 08:02 173521                             /usr/bin/my app",
    "7f0000000000-7f0000001000 rw-p 00000000 00:00 0 ",
    "7f0000001000-7f0000002000 rw-s 00001000 103:0a 4294967296               /dev/zero (deleted)",
    "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]",
    "",
  ].join("\n");
  const got = parseMapsBaseline(text);
  assert.deepEqual(got.map(fields), parseText(text).map(fields));
  assert.equal(got[0].name, "/usr/bin/my app");
  assert.equal(got[1].name, "");
  assert.equal(got[2].devMajor, 0x103);
  assert.equal(got[2].inode, 4294967296n);
  assert.equal(got[3].start, 0xffffffffff600000n);
});

test("baseline parser rejects a malformed line", () => {
  assert.throws(() => parseMapsBaseline("not a maps line\n"), /cannot parse/);
});
