/**
 * Fuzzing the two parsers that read bytes procmap does not control: the maps
 * text parser (parseMaps) and the ELF build-ID note reader (findBuildId);
 * and the public API with random arguments of every type.
 *
 * Inputs come from a seeded generator (PROCMAP_SEED replays a run): thousands
 * of cases in CI, millions with PROCMAP_STRESS=1. The only allowed outcomes
 * are a result or ProcMapsError EBADMSG (parser) and a result or null (ELF
 * reader); for valid generated text the parse must equal the ground truth's.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ProcMaps, ProcMapsError } from "../mod.ts";
import { parseMaps } from "../src/text/parser.ts";
import type { MapsTable } from "../src/text/table.ts";
import { findBuildId } from "../src/elf/build_id.ts";
import { fields, parseText, type Row } from "./helpers/ground_truth.ts";
import { elfImage, lieAboutElf, mapsText, mutateBytes } from "./helpers/mutate.ts";
import { count, Rng, seed } from "./helpers/rng.ts";
import { countCalls } from "./helpers/counting_libc.ts";

const SEED = seed(20261125);
const PAGE = 4096;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function rowsOf(t: MapsTable): Row[] {
  const out: Row[] = [];
  for (let i = 0; i < t.count; i++) out.push(fields(t.vma(i, true, undefined)));
  return out;
}

/** parseMaps' outcome: the rows, or the EBADMSG message. Anything else fails the test. */
function outcome(bytes: Uint8Array, length: number, what: string): Row[] | string {
  let t: MapsTable;
  try {
    t = parseMaps(bytes, length, PAGE);
  } catch (e) {
    if (e instanceof ProcMapsError && e.code === "EBADMSG") {
      assert.match(e.message, /^malformed maps line \d+ \(/, what);
      return e.message;
    }
    throw new Error(`${what}: parseMaps threw ${e} (seed ${SEED})`, { cause: e });
  }
  const rows = rowsOf(t);
  for (const r of rows) {
    assert.ok(r.start < r.end, `${what}: start below end`);
    assert.ok(r.end < 1n << 64n && r.offset < 1n << 64n && r.inode < 1n << 64n, `${what}: u64 fields`);
    assert.ok(r.devMajor >= 0 && r.devMajor < 2 ** 32 && r.devMinor >= 0 && r.devMinor < 2 ** 32, `${what}: dev`);
    assert.match(r.perms, /^[r-][w-][x-][ps]$/, what);
  }
  return rows;
}

const hexDump = (b: Uint8Array) => Array.from(b.subarray(0, 400), (x) => x.toString(16).padStart(2, "0")).join("");

test(`parseMaps: generated kernel-format texts parse exactly as the ground truth (seed ${SEED})`, () => {
  const rng = new Rng(SEED);
  const cases = count(2_000, 200_000);
  for (let c = 0; c < cases; c++) {
    const { text, rows } = mapsText(rng, rng.range(0, 20));
    const truth = parseText(decoder.decode(text));
    assert.deepEqual(truth, rows, `case ${c}: the generator and the ground truth disagree`);
    const got = outcome(text, text.length, `case ${c}`);
    assert.deepEqual(got, rows, `case ${c}: ${hexDump(text)}`);
  }
});

test(`parseMaps: mutated and random inputs give a table or EBADMSG, nothing else (seed ${SEED})`, () => {
  const rng = new Rng(SEED + 1);
  const cases = count(5_000, 2_000_000);
  let parsed = 0, refused = 0;
  for (let c = 0; c < cases; c++) {
    const input = rng.chance(0.1)
      ? rng.bytes(rng.range(0, 300))
      : mutateBytes(rng, mapsText(rng, rng.range(1, 8)).text);
    if (typeof outcome(input, input.length, `case ${c} ${hexDump(input)}`) === "string") refused++;
    else parsed++;
  }
  // Both outcomes must really be exercised, or the mutations are too mild or too wild.
  assert.ok(parsed > cases / 50 && refused > cases / 2, `parsed ${parsed}, refused ${refused}`);
});

test(`parseMaps: bytes past \`length\` are never read (seed ${SEED})`, () => {
  const rng = new Rng(SEED + 2);
  const cases = count(2_000, 500_000);
  for (let c = 0; c < cases; c++) {
    const full = rng.chance(0.5) ? mapsText(rng, rng.range(1, 6)).text : mutateBytes(rng, mapsText(rng, 3).text);
    const length = rng.int(full.length + 1);
    const alone = full.slice(0, length);
    assert.deepEqual(outcome(full, length, `case ${c}`), outcome(alone, length, `case ${c} copy`), `case ${c}`);
  }
});

/** One line with a field broken, and what the parser must say about it. */
const MALFORMED: [string, string, RegExp][] = [
  ["empty line", "\n", /\(bad start address\)/],
  ["no dash", "00400000 00401000 r-xp 00000000 00:00 0 \n", /expected '-'/],
  ["17-digit start", "10000000000000000-10000000000000001 r-xp 00000000 00:00 0 \n", /bad start address/],
  ["17-digit end", "00400000-10000000000000000 r-xp 00000000 00:00 0 \n", /bad end address/],
  ["end equals start", "00400000-00400000 r-xp 00000000 00:00 0 \n", /end address not above start/],
  ["end below start", "00401000-00400000 r-xp 00000000 00:00 0 \n", /end address not above start/],
  ["bad perms", "00400000-00401000 rwxq 00000000 00:00 0 \n", /bad permissions/],
  ["short perms", "00400000-00401000 rw", /truncated permissions/],
  ["17-digit offset", "00400000-00401000 r-xp 10000000000000000 00:00 0 \n", /bad offset/],
  ["no colon", "00400000-00401000 r-xp 00000000 0000 0 \n", /expected ':'/],
  ["major >= 2^32", "00400000-00401000 r-xp 00000000 100000000:00 0 \n", /bad device major/],
  ["minor >= 2^32", "00400000-00401000 r-xp 00000000 00:100000000 0 \n", /bad device minor/],
  ["no inode", "00400000-00401000 r-xp 00000000 00:00  /x\n", /bad inode/],
  ["inode >= 2^64", "00400000-00401000 r-xp 00000000 00:00 18446744073709551616 /x\n", /inode number out of range/],
  ["junk after inode", "00400000-00401000 r-xp 00000000 00:00 0x /x\n", /unexpected character after the inode/],
  ["no final newline", "00400000-00401000 r-xp 00000000 00:00 0 /lib/x.so", /truncated \(no newline/],
  ["NUL in address", "0040\x000000-00401000 r-xp 00000000 00:00 0 \n", /expected '-'/],
  ["binary", "\xff\xfe\x00\x01\x7f\x80garbage\n", /bad start address/],
];

test("parseMaps: each malformed field gives EBADMSG naming the line and the reason", () => {
  const good = "00400000-00401000 r-xp 00000000 fe:01 42                                 /bin/x\n";
  for (const [what, line, reason] of MALFORMED) {
    const bytes = encoder.encode(good + line);
    const r = outcome(bytes, bytes.length, what);
    assert.equal(typeof r, "string", `${what}: must be refused`);
    assert.match(r as string, /malformed maps line 2 /, what);
    assert.match(r as string, reason, what);
  }
});

test("parseMaps: extreme but valid lines parse (u64 maxima, names past PATH_MAX, spaces, tabs, \\012)", () => {
  const long = "/" + "x".repeat(9000);
  const text = [
    "fffffffffffffffe-ffffffffffffffff rwxs ffffffffffffffff ffffffff:ffffffff 18446744073709551615 /a b\t\\c  ",
    "00000000-00000001 ---p 00000000 00:00 0 ",
    `7f0000000000-7f0000001000 r--p 00000000 fe:00 1                          ${long}`,
    "7f0000001000-7f0000002000 r--p 00000000 fe:00 1                          /new\\012line (deleted)",
    "",
  ].join("\n");
  const rows = outcome(encoder.encode(text), encoder.encode(text).length, "extremes") as Row[];
  assert.deepEqual(rows, parseText(text));
  assert.equal(rows[0].end, (1n << 64n) - 1n);
  assert.equal(rows[0].devMajor, 0xffffffff);
  assert.equal(rows[0].inode, (1n << 64n) - 1n);
  assert.equal(rows[0].name, "/a b\t\\c  ");
  assert.equal(rows[2].name, long);
  assert.equal(rows[3].name, "/new\nline (deleted)");
});

test("parseMaps: allocation stays proportional to the input", () => {
  // One ~1 MB line of digits, one 1 MB name, 100k tiny lines: each parses or
  // is refused at once, and the table never holds more rows than lines.
  const digits = encoder.encode("0".repeat(1 << 20) + "-1 r--p 0 0:0 0 \n");
  assert.match(outcome(digits, digits.length, "digits") as string, /bad start address/);
  const name = encoder.encode(`1-2 r--p 0 0:0 0 /${"n".repeat(1 << 20)}\n`);
  assert.equal((outcome(name, name.length, "name") as Row[])[0].name.length, (1 << 20) + 1);
  let s = "";
  for (let i = 0; i < 100_000; i++) s += `${(i * 2 + 1).toString(16)}-${(i * 2 + 2).toString(16)} r--p 0 0:0 0\n`;
  const many = encoder.encode(s);
  const t = parseMaps(many, many.length, PAGE);
  assert.equal(t.count, 100_000);
  // Columns start at one row per 60 bytes and double: never more than twice what is needed.
  assert.ok(t.capacity <= 2 * Math.max(t.count, Math.ceil(many.length / 60)) + 16, `capacity ${t.capacity}`);
});

// ---------------------------------------------------------------- ELF notes

/**
 * A Fetch over `bytes` with the text backend's semantics (a read reaching
 * past the end fails, as in the kernel), which checks every request the
 * reader makes.
 */
function fetcher(bytes: Uint8Array, what: string) {
  let calls = 0;
  const fetch = (offset: number, len: number): Uint8Array | null => {
    calls++;
    assert.ok(Number.isSafeInteger(offset) && offset >= 0, `${what}: fetch offset ${offset}`);
    // The text backend's scratch buffer is 64 bytes: a longer read would lose the build ID.
    assert.ok(Number.isInteger(len) && len >= 1 && len <= 64, `${what}: fetch length ${len}`);
    if (offset + len > bytes.length) return null;
    return bytes.slice(offset, offset + len);
  };
  return { fetch, calls: () => calls };
}

function buildIdOutcome(bytes: Uint8Array, what: string): string | null {
  const f = fetcher(bytes, what);
  let r: Uint8Array | null;
  try {
    r = findBuildId(f.fetch);
  } catch (e) {
    throw new Error(`${what}: findBuildId threw ${e} (seed ${SEED})`, { cause: e });
  }
  // Work is bounded: two ELF headers, 256 program headers, 4096 note headers and one descriptor.
  const bound = 2 + 256 + 4096 + 1;
  assert.ok(f.calls() <= bound, `${what}: ${f.calls()} fetches for ${bytes.length} bytes`);
  if (r === null) return null;
  assert.ok(r instanceof Uint8Array && r.length >= 1 && r.length <= 20, `${what}: build ID of ${r?.length} bytes`);
  return Array.from(r, (x) => x.toString(16).padStart(2, "0")).join("");
}

test(`findBuildId: generated ELF32/ELF64 images give the build ID the kernel's rules find (seed ${SEED})`, () => {
  const rng = new Rng(SEED + 10);
  const cases = count(3_000, 1_000_000);
  let found = 0;
  for (let c = 0; c < cases; c++) {
    const img = elfImage(rng);
    assert.equal(buildIdOutcome(img.bytes, `case ${c}`), img.buildId, `case ${c}: ${hexDump(img.bytes)}`);
    if (img.buildId) found++;
  }
  assert.ok(found > cases / 4 && found < cases, `${found} of ${cases} images had a build ID`);
});

test(`findBuildId: lying offsets and sizes, and random bytes, give a build ID or null (seed ${SEED})`, () => {
  const rng = new Rng(SEED + 11);
  const cases = count(5_000, 2_000_000);
  let found = 0;
  for (let c = 0; c < cases; c++) {
    const img = elfImage(rng);
    const bytes = rng.chance(0.5)
      ? lieAboutElf(rng, img)
      : mutateBytes(rng, rng.chance(0.5) ? lieAboutElf(rng, img) : img.bytes);
    if (buildIdOutcome(bytes, `case ${c} ${hexDump(bytes)}`) !== null) found++;
  }
  assert.ok(found > 0 && found < cases, `${found} of ${cases} mutated images had a build ID`);
});

test("findBuildId: a fetch that fails at any step gives null", () => {
  const rng = new Rng(SEED + 12);
  for (let c = 0; c < 200; c++) {
    const img = elfImage(rng);
    if (!img.buildId) continue;
    for (let failAt = 1; failAt < 40; failAt++) {
      let calls = 0;
      const r = findBuildId((off, len) => (++calls >= failAt ? null : img.bytes.slice(off, off + len)));
      if (calls >= failAt) assert.equal(r, null, `case ${c}, failing call ${failAt}`);
    }
  }
});

test("findBuildId: the kernel's limits (256 program headers, 20-byte IDs, u32 note arithmetic)", () => {
  const rng = new Rng(SEED + 13);
  let img = elfImage(rng);
  while (!img.is64 || img.buildId === null) img = elfImage(rng);
  const v = new DataView(img.bytes.buffer);
  // A huge phnum is cut to 256 headers, each past the file: no build ID, bounded work.
  const huge = img.bytes.slice();
  new DataView(huge.buffer).setUint16(img.phnumAt, 0xffff, true);
  new DataView(huge.buffer).setBigUint64(img.phoffAt, 1n << 40n, true);
  assert.equal(buildIdOutcome(huge, "phnum 65535"), null);
  // A phoff whose table end overflows u64 is refused before any header is read.
  const wrap = img.bytes.slice();
  new DataView(wrap.buffer).setBigUint64(img.phoffAt, (1n << 64n) - 8n, true);
  const f = fetcher(wrap, "phoff wrap");
  assert.equal(findBuildId(f.fetch), null);
  assert.equal(f.calls(), 2, "ident and header only");
  void v;
});

test("findBuildId: a hostile ELF with 256 note segments over 4 GiB of zeros is given up on after bounded work", () => {
  // Each zero note header is 12 bytes long: scanning it all would take 256 x 358 million
  // fetches, each a read system call in the text backend (hours): a reader must stop early.
  const header = new Uint8Array(64 + 256 * 56);
  const v = new DataView(header.buffer);
  header.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setUint16(16, 3, true); // ET_DYN
  v.setBigUint64(32, 64n, true); // e_phoff
  v.setUint16(54, 56, true);
  v.setUint16(56, 256, true); // e_phnum
  for (let i = 0; i < 256; i++) {
    const ph = 64 + i * 56;
    v.setUint32(ph, 4, true); // PT_NOTE
    v.setBigUint64(ph + 8, 0x10000n, true); // p_offset
    v.setBigUint64(ph + 32, 0xfffe0000n, true); // p_filesz: up to just below 4 GiB
  }
  const fileSize = 0xffff_ffff; // sparse: zeros after the headers
  let calls = 0;
  const LIMIT = 1_000_000;
  const r = findBuildId((offset, len) => {
    if (++calls > LIMIT) throw new Error(`more than ${LIMIT} fetches for one file`);
    if (offset + len > fileSize) return null;
    const out = new Uint8Array(len);
    out.set(header.subarray(offset, offset + len));
    return out;
  });
  assert.equal(r, null);
});

// ---------------------------------------------------------------- API arguments

/** Values of every kind, including the ones errors_test lists one by one. */
const VALUES: unknown[] = [
  0,
  -0,
  1,
  -1,
  1.5,
  NaN,
  Infinity,
  -Infinity,
  2 ** 31,
  2 ** 32,
  2 ** 53 - 1,
  2 ** 53,
  2 ** 64,
  1e308,
  Number.MIN_VALUE,
  4194304,
  4194305,
  0n,
  -1n,
  1n,
  2n ** 63n,
  2n ** 64n - 1n,
  2n ** 64n,
  -(2n ** 64n),
  "",
  "self",
  "0",
  "1",
  "../1",
  "1/../2",
  "self/../1",
  "0x1000",
  " 1",
  "\0",
  "🙂",
  "a".repeat(5000),
  null,
  undefined,
  true,
  false,
  Symbol("s"),
  {},
  [],
  [1],
  () => 1,
  new Number(1),
  Object(1n),
  new String("self"),
  new Date(0),
  /x/,
  new Map(),
  Object.create(null),
  "auto",
  "ioctl",
  "text",
  "fast",
];
const KEYS = [
  "coveringOrNext",
  "readable",
  "writable",
  "executable",
  "shared",
  "fileBacked",
  "name",
  "buildId",
  "from",
  "to",
  "signal",
  "backend",
  "readble",
  "__proto__",
  "constructor",
  "toString",
  "0",
];

function randomValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 0 ? 4 : 6)) {
    case 0:
      return rng.bigint(70) - (rng.chance(0.2) ? 1n << 65n : 0n);
    case 1:
      return rng.chance(0.5) ? rng.u32() : (rng.u32() - 2 ** 31) / rng.range(1, 3);
    case 2:
    case 3:
      return rng.pick(VALUES);
    default: {
      // An options object: valid keys with good or bad values, unknown keys, inherited keys.
      const entries: [string, unknown][] = [];
      for (let i = rng.int(4); i > 0; i--) {
        const k = rng.pick(KEYS);
        const v = rng.chance(0.5)
          ? rng.chance(0.5)
          : k === "signal"
          ? rng.pick([new AbortController().signal, AbortSignal.abort()])
          : randomValue(rng, depth + 1);
        entries.push([k, v]);
      }
      const o = Object.fromEntries(entries);
      return rng.chance(0.1) ? Object.create(o) : o;
    }
  }
}

test(`API: random arguments give a result, TypeError/RangeError (before any system call) or ProcMapsError (seed ${SEED})`, () => {
  const rng = new Rng(SEED + 20);
  using self = ProcMaps.open("self");
  const cases = count(3_000, 300_000);
  let refused = 0;
  for (let c = 0; c < cases; c++) {
    const a = randomValue(rng), b = rng.chance(0.3) ? undefined : randomValue(rng);
    const op = rng.int(4);
    const what = `case ${c}: op ${op}`;
    let thrown: unknown;
    const calls = countCalls(() => {
      try {
        if (op === 0) ProcMaps.open(a as number, b as never).close();
        else if (op === 1) self.query(a as bigint, b as never);
        else if (op === 2) self.vmasSync(a as never).return?.();
        else void self.vmas(a as never).return?.();
      } catch (e) {
        thrown = e;
      }
    });
    if (thrown === undefined || thrown instanceof ProcMapsError) continue;
    if ((thrown as Error)?.name === "AbortError") continue; // vmas({ signal: aborted }) throws the signal's reason
    assert.ok(thrown instanceof TypeError || thrown instanceof RangeError, `${what}: threw ${String(thrown)}`);
    assert.match(thrown.message, /must|unknown/, what);
    assert.deepEqual(calls, { open: 0, ioctl: 0, pread: 0 }, `${what}: ${thrown.message}`);
    refused++;
  }
  assert.ok(refused > cases / 3, `${refused} of ${cases} refused`);
});
