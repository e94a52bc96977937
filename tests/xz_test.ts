// xz decompression against xz-utils: files made by `xz`, and a MiniDebugInfo
// section made the way Fedora's find-debuginfo does (gdb manual, "MiniDebugInfo").
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { xzDecompress, xzUnavailable } from "../src/symbolize/xz.ts";
import { Rng } from "./helpers/rng.ts";

const tmp = mkdtempSync(join(tmpdir(), "procmap-xz-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
const hasXz = spawnSync("xz", ["--version"]).status === 0;
const noXz = hasXz ? false : "xz is not installed (apt-get install xz-utils)";

function sh(script: string): string {
  const r = spawnSync("sh", ["-ec", script], { cwd: tmp, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${script}: ${r.stderr}`);
  return r.stdout;
}
function bytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(tmp, name)));
}
/** What `xz -t` says of these bytes. */
function xzAccepts(data: Uint8Array): boolean {
  writeFileSync(join(tmp, "probe.xz"), data);
  return spawnSync("xz", ["-t", join(tmp, "probe.xz")]).status === 0;
}

describe("xzDecompress", { skip: noXz }, () => {
  it("round-trips files compressed by xz (presets, checks, concatenated streams)", { timeout: 60_000 }, () => {
    const rng = new Rng(7);
    const rand = () => rng.u32() / 4294967296;
    const plain = new Uint8Array(100_000);
    for (let i = 0; i < plain.length; i++) plain[i] = rand() < 0.7 ? 0x41 + (i % 7) : Math.floor(rand() * 256);
    writeFileSync(join(tmp, "plain"), plain);
    for (const flags of ["-0", "-6", "-9", "-1 --check=crc32", "-1 --check=none"]) {
      sh(`xz ${flags} -c plain > p.xz`);
      const out = xzDecompress(bytes("p.xz"), plain.length);
      assert.ok(out, `xz ${flags}: ${xzUnavailable() ?? "null"}`);
      assert.deepEqual(out, plain, `xz ${flags}`);
    }
    // xz-embedded as built here knows no SHA-256 (xz's default check is CRC64).
    sh("xz -1 --check=sha256 -c plain > sha.xz");
    assert.equal(xzDecompress(bytes("sha.xz"), plain.length), null);
    sh("xz -c plain > a.xz; printf 'tail' | xz -c > b.xz; cat a.xz b.xz > ab.xz; xz -dc ab.xz > ab");
    assert.deepEqual(xzDecompress(bytes("ab.xz"), 1 << 20), bytes("ab"));
    assert.deepEqual(xzDecompress(bytes("a.xz"), plain.length), plain);
  });

  it("gives null beyond maxBytes, and bounds a decompression bomb", { timeout: 60_000 }, () => {
    sh("head -c 300000 /dev/zero | xz -c > z.xz; head -c 16000000 /dev/zero | xz -1 -c > bomb.xz");
    assert.equal(xzDecompress(bytes("z.xz"), 300_000)?.length, 300_000);
    assert.equal(xzDecompress(bytes("z.xz"), 299_999), null);
    assert.equal(xzDecompress(bytes("bomb.xz"), 1 << 20), null);
    assert.ok(bytes("bomb.xz").length < 16_000);
  });

  it("gives null for truncated, corrupt and non-xz input, as xz -t rejects it", { timeout: 60_000 }, () => {
    sh("seq 1 40000 | xz -c > s.xz");
    const good = bytes("s.xz");
    assert.ok(xzDecompress(good, 1 << 20));
    for (let n = 0; n < good.length; n += Math.max(1, Math.floor(good.length / 97))) {
      assert.equal(xzDecompress(good.subarray(0, n), 1 << 20), null, `first ${n} bytes`);
    }
    assert.equal(xzDecompress(good.subarray(0, good.length - 1), 1 << 20), null);
    const rng = new Rng(11);
    const rand = () => rng.u32() / 4294967296;
    for (let k = 0; k < 24; k++) {
      const bad = good.slice();
      const at = Math.floor(rand() * bad.length);
      bad[at] ^= 1 << Math.floor(rand() * 8);
      const got = xzDecompress(bad, 1 << 20);
      assert.equal(got !== null, xzAccepts(bad), `bit flip at ${at}`);
    }
    const junk = new Uint8Array(good.length + 3);
    junk.set(good);
    assert.equal(xzDecompress(junk, 1 << 20), null); // trailing bytes that are not stream padding
    assert.equal(xzAccepts(junk), false);
    const garbage = new Uint8Array(4096).map(() => Math.floor(rand() * 256));
    garbage.set([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
    assert.equal(xzDecompress(garbage, 1 << 20), null);
    assert.equal(xzDecompress(new Uint8Array(0), 1 << 20), null);
  });

  it("refuses a dictionary over 64 MiB (the decoder's limit; xz itself accepts it)", () => {
    sh("seq 1 1000 | xz --lzma2=dict=128MiB -c > bigdict.xz");
    assert.equal(xzAccepts(bytes("bigdict.xz")), true);
    assert.equal(xzDecompress(bytes("bigdict.xz"), 1 << 20), null);
  });

  it("checks its arguments", () => {
    assert.throws(() => xzDecompress(new Uint8Array(8), -1), RangeError);
    assert.throws(() => xzDecompress(new Uint8Array(8), 1.5), RangeError);
    assert.throws(() => xzDecompress([1, 2] as unknown as Uint8Array, 10), TypeError);
  });

  it("decompresses a MiniDebugInfo section made as Fedora makes it", {
    skip: spawnSync("gcc", ["--version"]).status === 0 ? false : "gcc missing",
    timeout: 60_000,
  }, () => {
    writeFileSync(
      join(tmp, "prog.c"),
      '#include <stdio.h>\n__attribute__((noinline)) static int helper(int x) { return x * 7; }\n__attribute__((noinline)) int visible(int x) { return helper(x) + 1; }\nint main(int c, char **v) { printf("%d\\n", visible(c)); return 0; }\n',
    );
    // The recipe of the gdb manual's MiniDebugInfo section.
    sh(`gcc -O1 -g -o prog prog.c
nm -D prog --format=posix --defined-only | awk '{ print $1 }' | sort > dynsyms
nm prog --format=posix --defined-only | awk '{ if ($2 == "T" || $2 == "t" || $2 == "D") print $1 }' | sort > funcsyms
comm -13 dynsyms funcsyms > keep_symbols
objcopy --only-keep-debug prog debug
objcopy -S --remove-section .gdb_index --remove-section .comment --keep-symbols=keep_symbols debug mini_debuginfo
strip --strip-all -R .comment prog
xz --keep mini_debuginfo
objcopy --add-section .gnu_debugdata=mini_debuginfo.xz prog
objcopy --dump-section .gnu_debugdata=section.xz prog`);
    const section = bytes("section.xz");
    assert.deepEqual(section, bytes("mini_debuginfo.xz"));
    const elf = xzDecompress(section, 64 << 20);
    assert.ok(elf);
    assert.deepEqual(elf, bytes("mini_debuginfo"));
    writeFileSync(join(tmp, "decoded.elf"), elf);
    const syms = sh("nm decoded.elf");
    assert.match(syms, / t helper\n/);
    assert.match(syms, / T visible\n/);
  });
});
