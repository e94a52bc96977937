/**
 * The maps text parser (src/text/parser.ts) against the independent
 * ground-truth parser, on saved kernel texts (tests/fixtures/maps/), on live
 * texts, and on hand-written lines whose meaning is known; malformed lines
 * must be refused with EBADMSG naming the line.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ProcMapsError, type Vma } from "../mod.ts";
import { parseMaps } from "../src/text/parser.ts";
import { NameCache } from "../src/util/names.ts";
import { fields, parseText, type Row } from "./helpers/ground_truth.ts";
import { startMapper } from "./helpers/child.ts";

// Saved texts live in tests/fixtures/maps; compiled tests run from dist/tests.
const HERE = new URL(".", import.meta.url).pathname;
const CORPUS = [join(HERE, "fixtures/maps"), join(HERE, "../../tests/fixtures/maps")].find((d) =>
  existsSync(join(d, "mapper.maps"))
)!;
const PAGE = 4096;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Every row of `bytes` as parsed by src/text/parser.ts. */
function parse(bytes: Uint8Array): Vma[] {
  const table = parseMaps(bytes, bytes.length, PAGE, "self");
  return Array.from({ length: table.count }, (_, i) => table.vma(i, true, undefined));
}

/** Compares our parse with the ground truth's, field by field, and checks the rest of each Vma. */
function assertSameAsGroundTruth(bytes: Uint8Array, what: string): Row[] {
  const truth = parseText(decoder.decode(bytes));
  const ours = parse(bytes);
  assert.equal(ours.length, truth.length, `${what}: row count`);
  ours.forEach((v, i) => {
    assert.deepEqual(fields(v), truth[i], `${what}: row ${i + 1}`);
    assert.equal(v.pageSize, PAGE);
    assert.equal(v.buildId, undefined);
    const t = truth[i];
    assert.equal(v.fileBacked, t.inode !== 0n || t.devMajor !== 0 || t.devMinor !== 0);
  });
  return truth;
}

const corpus = readdirSync(CORPUS).filter((f) => f.endsWith(".maps")).sort();

test("the corpus holds the saved kernel texts", () => {
  for (const f of ["deno_self.maps", "bun_self.maps", "many_vmas.maps", "mapper.maps"]) {
    assert.ok(corpus.includes(f), f);
  }
});

for (const file of corpus) {
  test(`corpus ${file}: parseMaps equals the ground-truth parser, every field of every line`, () => {
    const bytes = new Uint8Array(readFileSync(join(CORPUS, file)));
    const rows = assertSameAsGroundTruth(bytes, file);
    assert.ok(rows.length > 10);
    if (file === "many_vmas.maps") assert.ok(rows.length > 2000, "thousands of VMAs");
    if (file === "mapper.maps") {
      const names = rows.map((r) => r.name);
      assert.ok(names.some((n) => n.includes("\n")), "a name with a newline");
      assert.ok(
        names.some((n) => n.includes("\t") && n.includes("\\") && n.endsWith("  ")),
        "tab, backslash, trailing spaces",
      );
      assert.ok(names.some((n) => n.endsWith(".bin (deleted)")));
      assert.ok(names.includes("/memfd:procmap-test (deleted)"));
      assert.ok(names.includes("/dev/zero (deleted)"));
      assert.ok(names.some((n) => n.length > 4096), "a name longer than PATH_MAX");
    }
  });
}

test("live: this process's maps parse like the ground truth's", () => {
  assertSameAsGroundTruth(new Uint8Array(readFileSync("/proc/self/maps")), "self");
});

test("live: the mapper child's maps parse like the ground truth's", async () => {
  const mapper = await startMapper(true);
  try {
    assertSameAsGroundTruth(new Uint8Array(readFileSync(`/proc/${mapper.pid}/maps`)), "mapper");
  } finally {
    await mapper.stop();
  }
});

/** Bytes from a string whose \xNN escapes stand for single bytes (not UTF-8). */
function latin1(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

const PAD = (head: string) => head.padEnd(73, " ");
const NON_UTF8 = latin1("/tmp/bad\xff\xfe name \xc3( \xe2\x82 end");

/** Hand-written lines, each with the values it plainly means. */
const HANDWRITTEN: { what: string; line: Uint8Array; expect: Row }[] = [
  {
    what: "[anon:name] (CONFIG_ANON_VMA_NAME, which this kernel lacks)",
    line: encoder.encode(PAD("7f1c2a000000-7f1c2a021000 rw-p 00000000 00:00 0 ") + "[anon:my heap arena]\n"),
    expect: {
      start: 0x7f1c2a000000n,
      end: 0x7f1c2a021000n,
      perms: "rw-p",
      offset: 0n,
      devMajor: 0,
      devMinor: 0,
      inode: 0n,
      name: "[anon:my heap arena]",
    },
  },
  {
    what: "[anon_shmem:name]",
    line: encoder.encode(PAD("7f1c2a100000-7f1c2a102000 rw-s 00000000 00:01 2051 ") + "[anon_shmem:ring]\n"),
    expect: {
      start: 0x7f1c2a100000n,
      end: 0x7f1c2a102000n,
      perms: "rw-s",
      offset: 0n,
      devMajor: 0,
      devMinor: 1,
      inode: 2051n,
      name: "[anon_shmem:ring]",
    },
  },
  {
    what: "addresses of different widths, no name, no trailing space",
    line: encoder.encode("e0a00000-580100000 r--p 00000000 00:00 0\n"),
    expect: {
      start: 0xe0a00000n,
      end: 0x580100000n,
      perms: "r--p",
      offset: 0n,
      devMajor: 0,
      devMinor: 0,
      inode: 0n,
      name: "",
    },
  },
  {
    what: "no name, with the trailing space the kernel writes",
    line: encoder.encode("7ffd0000-7ffd1000 ---p 00000000 00:00 0 \n"),
    expect: {
      start: 0x7ffd0000n,
      end: 0x7ffd1000n,
      perms: "---p",
      offset: 0n,
      devMajor: 0,
      devMinor: 0,
      inode: 0n,
      name: "",
    },
  },
  {
    what: "a three-digit major device number (103:03)",
    line: encoder.encode(PAD("55d0c0a00000-55d0c0a2c000 r--p 00000000 103:03 1835042 ") + "/usr/bin/bash\n"),
    expect: {
      start: 0x55d0c0a00000n,
      end: 0x55d0c0a2c000n,
      perms: "r--p",
      offset: 0n,
      devMajor: 0x103,
      devMinor: 3,
      inode: 1835042n,
      name: "/usr/bin/bash",
    },
  },
  {
    what: "three-digit major and minor (1fd:2ff)",
    line: encoder.encode(PAD("55d0c0a2c000-55d0c0af0000 r-xp 0002c000 1fd:2ff 1835042 ") + "/usr/bin/bash\n"),
    expect: {
      start: 0x55d0c0a2c000n,
      end: 0x55d0c0af0000n,
      perms: "r-xp",
      offset: 0x2c000n,
      devMajor: 0x1fd,
      devMinor: 0x2ff,
      inode: 1835042n,
      name: "/usr/bin/bash",
    },
  },
  {
    what: "an unpadded line as old kernels wrote it (one space before the name)",
    line: encoder.encode("08048000-08056000 r-xp 00000000 03:0c 64593 /usr/sbin/gpm\n"),
    expect: {
      start: 0x08048000n,
      end: 0x08056000n,
      perms: "r-xp",
      offset: 0n,
      devMajor: 3,
      devMinor: 12,
      inode: 64593n,
      name: "/usr/sbin/gpm",
    },
  },
  {
    what: "an unpadded line with a bracketed name",
    line: encoder.encode("0804a000-0806b000 rw-p 00000000 00:00 0 [heap]\n"),
    expect: {
      start: 0x0804a000n,
      end: 0x0806b000n,
      perms: "rw-p",
      offset: 0n,
      devMajor: 0,
      devMinor: 0,
      inode: 0n,
      name: "[heap]",
    },
  },
  {
    what: "a name with trailing spaces",
    line: encoder.encode(PAD("7f0000000000-7f0000001000 r--p 00000000 fe:00 12 ") + "/tmp/trailing   \n"),
    expect: {
      start: 0x7f0000000000n,
      end: 0x7f0000001000n,
      perms: "r--p",
      offset: 0n,
      devMajor: 0xfe,
      devMinor: 0,
      inode: 12n,
      name: "/tmp/trailing   ",
    },
  },
  {
    what: "a name with tabs, backslashes and inner runs of spaces",
    line: encoder.encode(PAD("7f0000001000-7f0000002000 r--p 00001000 fe:00 13 ") + "/tmp/a\tb\\c  d\\\\e\t\n"),
    expect: {
      start: 0x7f0000001000n,
      end: 0x7f0000002000n,
      perms: "r--p",
      offset: 0x1000n,
      devMajor: 0xfe,
      devMinor: 0,
      inode: 13n,
      name: "/tmp/a\tb\\c  d\\\\e\t",
    },
  },
  {
    what: "a name with \\012 (an escaped newline)",
    line: encoder.encode(PAD("7f0000002000-7f0000003000 r--p 00000000 fe:00 14 ") + "/tmp/new\\012line\\012\n"),
    expect: {
      start: 0x7f0000002000n,
      end: 0x7f0000003000n,
      perms: "r--p",
      offset: 0n,
      devMajor: 0xfe,
      devMinor: 0,
      inode: 14n,
      name: "/tmp/new\nline\n",
    },
  },
  {
    what: "a backslash that does not start \\012",
    line: encoder.encode(PAD("7f0000003000-7f0000004000 r--p 00000000 fe:00 15 ") + "/tmp/x\\01\\0\\\n"),
    expect: {
      start: 0x7f0000003000n,
      end: 0x7f0000004000n,
      perms: "r--p",
      offset: 0n,
      devMajor: 0xfe,
      devMinor: 0,
      inode: 15n,
      name: "/tmp/x\\01\\0\\",
    },
  },
  {
    what: "a name that is not valid UTF-8",
    line: new Uint8Array([
      ...encoder.encode(PAD("7f0000004000-7f0000005000 r--p 00000000 fe:00 16 ")),
      ...NON_UTF8,
      0x0a,
    ]),
    expect: {
      start: 0x7f0000004000n,
      end: 0x7f0000005000n,
      perms: "r--p",
      offset: 0n,
      devMajor: 0xfe,
      devMinor: 0,
      inode: 16n,
      name: new TextDecoder().decode(NON_UTF8),
    },
  },
  {
    what: "a UTF-8 name",
    line: encoder.encode(PAD("7f0000005000-7f0000006000 r--p 00000000 fe:00 17 ") + "/tmp/ünïcødé 🦕.so\n"),
    expect: {
      start: 0x7f0000005000n,
      end: 0x7f0000006000n,
      perms: "r--p",
      offset: 0n,
      devMajor: 0xfe,
      devMinor: 0,
      inode: 17n,
      name: "/tmp/ünïcødé 🦕.so",
    },
  },
  {
    what: "an inode above 2^53",
    line: encoder.encode(PAD("7f0000006000-7f0000007000 r--s 00000000 00:2a 9007199254740993 ") + "/mnt/big\n"),
    expect: {
      start: 0x7f0000006000n,
      end: 0x7f0000007000n,
      perms: "r--s",
      offset: 0n,
      devMajor: 0,
      devMinor: 0x2a,
      inode: 9007199254740993n,
      name: "/mnt/big",
    },
  },
  {
    what: "the largest inode (2^64 - 1)",
    line: encoder.encode(PAD("7f0000007000-7f0000008000 r--s 00000000 00:2a 18446744073709551615 ") + "/mnt/max\n"),
    expect: {
      start: 0x7f0000007000n,
      end: 0x7f0000008000n,
      perms: "r--s",
      offset: 0n,
      devMajor: 0,
      devMinor: 0x2a,
      inode: 18446744073709551615n,
      name: "/mnt/max",
    },
  },
  {
    what: "an offset near 2^64",
    line: encoder.encode(PAD("7f0000008000-7f0000009000 r--p fffffffffffff000 00:05 9 ") + "/dev/mem\n"),
    expect: {
      start: 0x7f0000008000n,
      end: 0x7f0000009000n,
      perms: "r--p",
      offset: 0xfffffffffffff000n,
      devMajor: 0,
      devMinor: 5,
      inode: 9n,
      name: "/dev/mem",
    },
  },
  {
    what: "the [vsyscall] line",
    line: encoder.encode(PAD("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 ") + "[vsyscall]\n"),
    expect: {
      start: 0xffffffffff600000n,
      end: 0xffffffffff601000n,
      perms: "--xp",
      offset: 0n,
      devMajor: 0,
      devMinor: 0,
      inode: 0n,
      name: "[vsyscall]",
    },
  },
  {
    what: "addresses at the top of the u64 range, 16-digit offset",
    line: encoder.encode("ffffffffffffe000-ffffffffffffffff rwxs 0000000000000000 ff:ff 1 /x\n"),
    expect: {
      start: 0xffffffffffffe000n,
      end: 0xffffffffffffffffn,
      perms: "rwxs",
      offset: 0n,
      devMajor: 0xff,
      devMinor: 0xff,
      inode: 1n,
      name: "/x",
    },
  },
  {
    what: "a name that ends in (deleted)",
    line: encoder.encode(PAD("7f0000009000-7f000000a000 rw-s 00000000 00:01 1025 ") + "/memfd:jit (deleted)\n"),
    expect: {
      start: 0x7f0000009000n,
      end: 0x7f000000a000n,
      perms: "rw-s",
      offset: 0n,
      devMajor: 0,
      devMinor: 1,
      inode: 1025n,
      name: "/memfd:jit (deleted)",
    },
  },
];

for (const { what, line, expect } of HANDWRITTEN) {
  test(`hand-written line: ${what}`, () => {
    const [v] = parse(line);
    assert.deepEqual(fields(v), expect);
    assert.equal(v.fileBacked, expect.inode !== 0n || expect.devMajor !== 0 || expect.devMinor !== 0);
    assert.equal(v.pageSize, PAGE);
  });
}

test("hand-written lines together parse in order, and the non-UTF-8 name decodes like TextDecoder", () => {
  const all = new Uint8Array(HANDWRITTEN.reduce((n, h) => n + h.line.length, 0));
  let at = 0;
  for (const h of HANDWRITTEN) all.set(h.line, (at += h.line.length) - h.line.length);
  const vmas = parse(all);
  assert.deepEqual(vmas.map(fields), HANDWRITTEN.map((h) => h.expect));
  const bad = vmas.find((v) => v.name?.startsWith("/tmp/bad"))!;
  assert.equal(bad.name, new TextDecoder().decode(NON_UTF8));
  assert.ok(bad.name!.includes("\ufffd"));
});

test("a parse into a spare table (the text backend's, between snapshots) gives what a fresh one gives", () => {
  const names = new NameCache();
  // Each text twice in a row (the second parse fits the first's columns), the sizes up and down.
  const texts = [...corpus, ...corpus.slice().reverse()].flatMap((f) => {
    const bytes = new Uint8Array(readFileSync(join(CORPUS, f)));
    return [bytes, bytes.slice()];
  });
  let spare = parseMaps(texts[0], texts[0].length, PAGE, "self", names);
  spare.hugePageSizes.set(0, 2 << 20);
  spare.ordered = false;
  let reused = 0;
  for (const bytes of texts) {
    const before = spare;
    const table = parseMaps(bytes, bytes.length, PAGE, "self", names, spare);
    if (table === before) reused++;
    const truth = parseText(decoder.decode(bytes));
    assert.equal(table.count, truth.length);
    assert.equal(table.ordered, true);
    assert.equal(table.hugePageSizes.size, 0);
    for (let i = 0; i < table.count; i++) {
      const v = table.vma(i, true, undefined);
      assert.deepEqual(fields(v), truth[i], `row ${i + 1}`);
      assert.equal(v.pageSize, PAGE);
    }
    spare = table;
  }
  // Similar sizes share columns; many_vmas.maps is too large for the others' and they too small for its.
  assert.ok(reused >= texts.length / 2, `${reused} of ${texts.length} parses reused the spare`);
  assert.ok(reused < texts.length, "a text too large or too small for the spare's columns gets new ones");
  // Another name cache or page size: a new table.
  assert.notEqual(parseMaps(texts[0], texts[0].length, PAGE, "self", new NameCache(), spare), spare);
  assert.notEqual(parseMaps(texts[0], texts[0].length, 2 * PAGE, "self", names, spare), spare);
});

test("a parse that stops short of the buffer's end ignores the rest", () => {
  const text = encoder.encode("1000-2000 r--p 00000000 00:00 0\n3000-4000 r--p 00000000 00:00 0\ngarbage");
  const table = parseMaps(text, text.indexOf(0x67 /* g */), PAGE, "self");
  assert.equal(table.count, 2);
  assert.equal(table.vma(1, true, undefined).start, 0x3000n);
  assert.equal(parseMaps(text, 0, PAGE, "self").count, 0);
});

test("the parser tells a text whose rows overlap (changed while it was read) from an ordered one", () => {
  const table = (t: string) => parseMaps(encoder.encode(t), encoder.encode(t).length, PAGE, "self");
  const row = (s: string, e: string) => `${s}-${e} r--p 00000000 00:00 0\n`;
  assert.equal(table(row("1000", "2000") + row("2000", "3000") + row("5000", "6000")).ordered, true);
  // Starting below the previous end, by a page or in the high half of a 64-bit address.
  assert.equal(table(row("1000", "3000") + row("2000", "4000")).ordered, false);
  assert.equal(table(row("100000000", "300000000") + row("1ffffffff", "400000000")).ordered, false);
  assert.equal(table(row("5000", "6000") + row("1000", "2000")).ordered, false);
  assert.equal(table(row("ffffffff", "100000000") + row("100000000", "100001000")).ordered, true);
});

const GOOD = "7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n";
const NAMED = PAD("7f0000001000-7f0000002000 r--p 00000000 fe:00 42 ") + "/lib/x.so\n";

test("a text cut at any byte of its last line is refused, even when the buffer holds the rest", () => {
  const full = encoder.encode(GOOD + NAMED);
  for (let length = GOOD.length + 1; length < full.length; length++) {
    assert.throws(() => parseMaps(full, length, PAGE, "self"), (e: unknown) => {
      assert.ok(e instanceof ProcMapsError && e.code === "EBADMSG", `cut at ${length}: ${e}`);
      assert.match(e.message, /\bline 2\b/);
      return true;
    });
  }
  assert.equal(parseMaps(full, GOOD.length, PAGE, "self").count, 1);
  assert.equal(parseMaps(full, full.length, PAGE, "self").count, 2);
});

/** Malformed lines: the text is GOOD, NAMED, then the bad line (line 3) unless said otherwise. */
const MALFORMED: { what: string; text: Uint8Array; line: number }[] = [
  ["truncated in the end address", "7f0000002000-7f00\n"],
  ["truncated after the permissions", "7f0000002000-7f0000003000 rw-p\n"],
  ["truncated in the device", "7f0000002000-7f0000003000 rw-p 00000000 fe\n"],
  ["bad hex in the start", "7f00000g2000-7f0000003000 rw-p 00000000 00:00 0\n"],
  ["bad hex in the offset", "7f0000002000-7f0000003000 rw-p 0000z000 00:00 0\n"],
  ["bad hex in the device", "7f0000002000-7f0000003000 rw-p 00000000 0x:00 0\n"],
  ["17 hex digits in the start", "000007f0000002000-7f0000003000 rw-p 00000000 00:00 0\n"],
  ["17 hex digits in the end", "7f0000002000-000007f0000003000 rw-p 00000000 00:00 0\n"],
  ["17 hex digits in the offset", "7f0000002000-7f0000003000 rw-p 00000000000000000 00:00 0\n"],
  ["a device number above 32 bits", "7f0000002000-7f0000003000 rw-p 00000000 100000000:00 0\n"],
  ["an inode above 2^64 - 1", "7f0000002000-7f0000003000 rw-p 00000000 00:00 18446744073709551616\n"],
  ["no inode", "7f0000002000-7f0000003000 rw-p 00000000 00:00\n"],
  ["no inode, trailing space", "7f0000002000-7f0000003000 rw-p 00000000 00:00 \n"],
  ["no offset", "7f0000002000-7f0000003000 rw-p 00:00 0\n"],
  ["no device", "7f0000002000-7f0000003000 rw-p 00000000 0\n"],
  ["no minor", "7f0000002000-7f0000003000 rw-p 00000000 fe: 0\n"],
  ["no end address", "7f0000002000 rw-p 00000000 00:00 0\n"],
  ["no end address after the dash", "7f0000002000- rw-p 00000000 00:00 0\n"],
  ["permissions with a bad letter", "7f0000002000-7f0000003000 rwzp 00000000 00:00 0\n"],
  ["permissions in the wrong order", "7f0000002000-7f0000003000 wr-p 00000000 00:00 0\n"],
  ["three permission letters", "7f0000002000-7f0000003000 rw- 00000000 00:00 0\n"],
  ["five permission letters", "7f0000002000-7f0000003000 rw-pp 00000000 00:00 0\n"],
  ["x in the sharing position", "7f0000002000-7f0000003000 rw-x 00000000 00:00 0\n"],
  ["end equal to start", "7f0000002000-7f0000002000 rw-p 00000000 00:00 0\n"],
  ["end below start", "7f0000003000-7f0000002000 rw-p 00000000 00:00 0\n"],
  ["a letter right after the inode", "7f0000002000-7f0000003000 rw-p 00000000 00:00 12a /x\n"],
  ["two spaces between fields", "7f0000002000-7f0000003000  rw-p 00000000 00:00 0\n"],
  ["a tab between fields", "7f0000002000-7f0000003000\trw-p 00000000 00:00 0\n"],
  ["a leading space", " 7f0000002000-7f0000003000 rw-p 00000000 00:00 0\n"],
  ["a CRLF line end after the inode", "7f0000002000-7f0000003000 rw-p 00000000 00:00 0\r\n"],
  ["a last line without its newline", "7f0000002000-7f0000003000 rw-p 00000000 00:00 0"],
  ["a last named line without its newline", PAD("7f0000002000-7f0000003000 r--p 00000000 fe:00 43 ") + "/lib/y.so"],
  ["an empty line", "\n" + GOOD],
].map(([what, bad]) => ({ what, text: encoder.encode(GOOD + NAMED + bad), line: 3 }));

MALFORMED.push(
  {
    what: "binary garbage",
    text: new Uint8Array([...encoder.encode(GOOD + NAMED), 0x00, 0xff, 0x13, 0x37, 0x0a]),
    line: 3,
  },
  {
    what: "binary garbage as the whole text",
    text: Uint8Array.from({ length: 64 }, (_, i) => (i * 97 + 13) & 0xff),
    line: 1,
  },
  {
    what: "a NUL inside the start address",
    text: encoder.encode(GOOD + "7f00\u00000002000-7f0000003000 rw-p 00000000 00:00 0\n"),
    line: 2,
  },
  { what: "an empty line in the middle", text: encoder.encode(GOOD + "\n" + NAMED), line: 2 },
  { what: "an empty first line", text: encoder.encode("\n" + GOOD), line: 1 },
  { what: "a bad line after many good ones", text: encoder.encode(GOOD.repeat(999) + "nonsense\n" + GOOD), line: 1000 },
  {
    what: "a text cut in the middle of a line",
    text: encoder.encode(GOOD + NAMED).subarray(0, GOOD.length + 30),
    line: 2,
  },
);

for (const { what, text, line } of MALFORMED) {
  test(`malformed: ${what} throws EBADMSG naming line ${line}`, () => {
    assert.throws(() => parseMaps(text, text.length, PAGE, 1234), (e: unknown) => {
      assert.ok(e instanceof ProcMapsError, String(e));
      assert.equal(e.code, "EBADMSG");
      assert.equal(e.pid, 1234);
      assert.match(e.message, new RegExp(`\\bline ${line}\\b`));
      return true;
    });
  });
}
