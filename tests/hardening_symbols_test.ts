/**
 * ELF symbol sources as attacker input (issue 22): what a hostile file
 * costs, call after call.
 * - PLT relocation bombs: a `.rela.plt` of thousands of relocations all
 *   naming one 64 KiB `.dynsym` name under a `.plt` that claims bytes the
 *   file lacks, and real stubs naming thousands of 64 KiB names.
 * - A stripped file without a build ID whose `.gnu_debuglink` names a
 *   1 GiB file (refused by its size, unread) or a 256 MiB one (read once:
 *   its checksum is remembered).
 * - A file without a build ID with a large `.symtab`, or an xz bomb in
 *   `.gnu_debugdata`: read once, then cached by identity, size and times.
 * - MiniDebugInfo in a file with no `.dynsym`: the message names it.
 * - Node 26's permission model refusing a debug directory: a reason, not
 *   Node's raw error.
 *
 * Oracles: bytes read through a counting binding, memory growth (RSS) under
 * 64 MiB, descriptors left (none), and the generous bounds the issue sets
 * for hostile input, in CPU time (the machine may be shared): every case
 * answered within a second (the issue's target is 200 ms), the first look at
 * a large debug-link candidate within 2 s.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  fstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { Buffer } from "node:buffer";
import { Symbolizer } from "../mod.ts";
import { getLibc, type Libc, setLibcForTesting } from "../ffi/mod.ts";
import {
  buildSectionElf,
  R_X86_64_JUMP_SLOT,
  relaEntries,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_WRITE,
  SHT_DYNSYM,
  SHT_NOBITS,
  SHT_PROGBITS,
  SHT_RELA,
  SHT_STRTAB,
  SHT_SYMTAB,
  stringTable,
  symbolEntries,
  x86Plt,
} from "./helpers/elf_sections.ts";
import { compileC } from "./helpers/child.ts";
import { node26 } from "./helpers/node_runtimes.ts";

const real = getLibc();
const dir = mkdtempSync(join(tmpdir(), "procmap-hardsym-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function write(bytes: Uint8Array): string {
  const p = join(dir, `f${files++}`);
  writeFileSync(p, bytes);
  return p;
}
const haveXz = spawnSync("xz", ["--version"]).status === 0;

/** The descriptors open now (not the one that listed them, closed by then). */
function openFds(): number[] {
  return readdirSync("/proc/self/fd").map(Number).filter((fd) => {
    try {
      fstatSync(fd);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Runs `fn`, counting the bytes read through the binding; also the CPU time
 * it took (the process's, in ms), its memory growth and the descriptors it
 * opened and left open.
 */
function measured<T>(fn: () => T): { value: T; bytes: number; ms: number; rssGrowth: number; fdsLeft: number } {
  let bytes = 0;
  const counting: Libc = {
    ...real,
    pread: (fd, buf, off) => {
      const n = real.pread(fd, buf, off);
      if (n > 0) bytes += n;
      return n;
    },
  };
  // Descriptors as a set: the runtime's own threads may close some meanwhile (Bun closes a spawned
  // child's pipes when it gets to it), so only the ones the call opened and left open count.
  const fds = new Set(openFds());
  const rss = process.memoryUsage().rss;
  setLibcForTesting(counting);
  const cpu = process.cpuUsage();
  try {
    const value = fn();
    const used = process.cpuUsage(cpu);
    return {
      value,
      bytes,
      ms: (used.user + used.system) / 1000,
      rssGrowth: process.memoryUsage().rss - rss,
      fdsLeft: openFds().filter((fd) => !fds.has(fd)).length,
    };
  } finally {
    setLibcForTesting(real);
  }
}

const MiB = 1 << 20;
const LONG = "x".repeat(65535);

/**
 * A file with a `.dynsym`, a `.rela.plt` of `relocs` JUMP_SLOT relocations
 * (relocation i naming symbol `symOf(i)`, its slot the i-th of `.got.plt`) and a
 * `.plt` of `stubs` real stubs (stub i through slot i), or, with `claim`, a
 * `.plt` claiming that size with no bytes behind it.
 */
function pltFile(opts: {
  names: (string | number)[];
  relocs: number;
  symOf: (i: number) => number;
  stubs: number;
  claim?: bigint;
}): Uint8Array {
  const strings = opts.names.filter((n): n is string => typeof n === "string");
  const dynstr = stringTable(strings);
  let s = 0;
  const nameOff = opts.names.map((n) => (typeof n === "string" ? dynstr.at[s++] : n));
  const dynsym = symbolEntries(nameOff.map((name) => ({ name, info: 0x12, shndx: 0, value: 0n, size: 0n })));
  const GOT = 0x40000n, PLT = 0x1000n;
  const slot = (i: number) => GOT + 24n + 8n * BigInt(i);
  const rela = relaEntries(
    Array.from({ length: opts.relocs }, (_, i) => ({ offset: slot(i), sym: opts.symOf(i), type: R_X86_64_JUMP_SLOT })),
  );
  const plt = opts.claim === undefined ? x86Plt(PLT, opts.stubs, slot) : new Uint8Array(0);
  return buildSectionElf([
    { name: ".dynsym", type: SHT_DYNSYM, flags: SHF_ALLOC, data: dynsym, link: 2, entsize: 24n, info: 1 },
    { name: ".dynstr", type: SHT_STRTAB, flags: SHF_ALLOC, data: dynstr.bytes },
    { name: ".rela.plt", type: SHT_RELA, flags: SHF_ALLOC, data: rela, link: 1, entsize: 24n },
    {
      name: ".plt",
      type: SHT_PROGBITS,
      flags: SHF_ALLOC | SHF_EXECINSTR,
      addr: PLT,
      data: plt,
      size: opts.claim,
      entsize: 16n,
    },
    { name: ".got.plt", type: SHT_NOBITS, flags: SHF_ALLOC | SHF_WRITE, addr: GOT, size: 8n * BigInt(opts.relocs + 3) },
  ]);
}

test("PLT stubs built by the test's own writer are named through their slots", () => {
  const p = write(pltFile({ names: ["alpha", "beta"], relocs: 3, symOf: (i) => [2, 1, 2][i], stubs: 3 }));
  const r = new Symbolizer().symbolizeFile(p, [0x1010n, 0x101fn, 0x1020n, 0x1030n, 0x1040n, 0x1000n]);
  assert.deepEqual(r.map((x) => x.symbol?.name), [
    "beta@plt",
    "beta@plt",
    "alpha@plt",
    "beta@plt",
    undefined,
    undefined,
  ]);
});

test("PLT relocation bombs: answered quickly, in bounded memory", () => {
  const cases: [string, Uint8Array][] = [
    // 20,000 relocations of one 64 KiB name, a .plt claiming a terabyte (546 KB on disk).
    ["lying .plt", pltFile({ names: [LONG], relocs: 20_000, symOf: () => 1, stubs: 0, claim: 1n << 40n })],
    // 20,000 real stubs through 20,000 symbols, each naming a different 64 KiB suffix of one string.
    [
      "20,000 long names",
      pltFile({
        names: [LONG, ...Array.from({ length: 19_999 }, (_, i) => 1 + (i % 60000))],
        relocs: 20_000,
        symOf: (i) => 1 + i,
        stubs: 20_000,
      }),
    ],
    // The same stubs all naming one symbol.
    ["one name 20,000 times", pltFile({ names: [LONG], relocs: 20_000, symOf: () => 1, stubs: 20_000 })],
  ];
  for (const [what, bytes] of cases) {
    const p = write(bytes);
    const m = measured(() => new Symbolizer().symbolizeFile(p, [0x1010n, 0x1000n + 16n * 20_000n]));
    assert.ok(m.ms < 1000, `${what}: ${m.ms.toFixed(0)} ms of CPU`);
    assert.ok(m.rssGrowth < 64 * MiB, `${what}: RSS +${(m.rssGrowth / MiB).toFixed(0)} MiB`);
    assert.equal(m.fdsLeft, 0, what);
    for (const r of m.value) {
      const name = r.symbol?.name;
      // A stub is named after a (64 KiB, or a suffix of it) .dynsym name, or not at all.
      assert.ok(name === undefined || /^x+@plt$/.test(name), `${what}: ${name?.slice(0, 20)}`);
    }
  }
});

/** A program without a build ID, stripped, with a debug link to `<name>.debug` next to it; and its debug file. */
function linkedProgram(name: string): { bin: string; debug: string; addr: bigint } {
  const d = join(dir, name);
  mkdirSync(d);
  const full = join(d, "full");
  copyFileSync(compileC("sym_target", ["-g", "-Wl,--build-id=none"]), full);
  const debug = join(d, `${name}.debug`);
  const run = (cmd: string, args: string[]) => assert.equal(spawnSync(cmd, args).status, 0, `${cmd} ${args}`);
  run("objcopy", ["--only-keep-debug", full, debug]);
  const bin = join(d, name);
  run("objcopy", ["--strip-all", `--add-gnu-debuglink=${debug}`, full, bin]);
  const nm = spawnSync("nm", [full], { encoding: "utf8" }).stdout;
  const addr = BigInt("0x" + /^([0-9a-f]+) t static_function$/m.exec(nm)![1]);
  return { bin, debug, addr };
}

test("a debug link naming a 1 GiB file: refused by its size, never read", () => {
  const { bin, debug, addr } = linkedProgram("huge");
  // The real debug file, padded (sparse) to 1 GiB: an ELF file whose CRC32 no longer matches.
  truncateSync(debug, 1 << 30);
  const s = new Symbolizer();
  for (let call = 0; call < 3; call++) {
    const m = measured(() => s.symbolizeFile(bin, [addr]));
    assert.ok(m.bytes < MiB, `call ${call}: read ${m.bytes} bytes`);
    assert.ok(m.ms < 2000, `call ${call}: ${m.ms.toFixed(0)} ms of CPU`);
    assert.equal(m.fdsLeft, 0);
    assert.notEqual(m.value[0].symbol?.source, "debug-file");
  }
});

test("a debug link naming a 256 MiB file with the wrong checksum: read once, then remembered", () => {
  const { bin, debug, addr } = linkedProgram("large");
  // The real debug file, padded to 256 MiB: an ELF file whose CRC32 no longer matches.
  truncateSync(debug, 256 * MiB);
  for (const s of [new Symbolizer(), new Symbolizer({ maxCacheBytes: 0 })]) {
    const first = measured(() => s.symbolizeFile(bin, [addr]));
    assert.ok(first.bytes >= 256 * MiB, `first look read ${first.bytes} bytes`);
    assert.ok(first.ms < 2000, `first look: ${first.ms.toFixed(0)} ms of CPU`);
    assert.notEqual(first.value[0].symbol?.source, "debug-file");
    const again = measured(() => s.symbolizeFile(bin, [addr]));
    assert.ok(again.bytes < MiB, `read again: ${again.bytes} bytes`);
    assert.ok(again.ms < 1000, `again: ${again.ms.toFixed(0)} ms of CPU`);
    assert.equal(again.fdsLeft, 0);
  }
  // The right debug file is still found (and named from).
  const good = linkedProgram("good");
  const [r] = new Symbolizer().symbolizeFile(good.bin, [good.addr]);
  assert.equal(r.symbol?.name, "static_function");
  assert.equal(r.symbol?.source, "debug-file");
});

/** An ELF file without a build ID whose `.symtab` has `n` 16-byte functions `f0`, `f1`, ... from 0x1000. */
function bigSymtab(n: number): Uint8Array {
  const names = new Uint8Array(1 + n * 9);
  const syms = new Uint8Array(24 * (n + 1));
  const v = new DataView(syms.buffer);
  let at = 1;
  for (let i = 0; i < n; i++) {
    const e = 24 * (i + 1);
    v.setUint32(e, at, true);
    syms[e + 4] = 0x12;
    v.setUint16(e + 6, 1, true);
    v.setBigUint64(e + 8, BigInt(0x1000 + 16 * i), true);
    v.setBigUint64(e + 16, 16n, true);
    names[at++] = 0x66; // f
    for (const c of String(i)) names[at++] = c.charCodeAt(0);
    names[at++] = 0;
  }
  return buildSectionElf([
    {
      name: ".text",
      type: SHT_NOBITS,
      flags: SHF_ALLOC | SHF_EXECINSTR,
      addr: 0x1000n,
      size: BigInt(16 * n),
    },
    { name: ".symtab", type: SHT_SYMTAB, data: syms, link: 3, entsize: 24n },
    { name: ".strtab", type: SHT_STRTAB, data: names.subarray(0, at) },
  ]);
}

test("a large .symtab without a build ID is read once, then cached by identity, size and times", () => {
  const p = write(bigSymtab(500_000));
  const s = new Symbolizer();
  const first = measured(() => s.symbolizeFile(p, [0x1000n + 16n * 377_777n]));
  assert.equal(first.value[0].symbol?.name, "f377777");
  assert.ok(first.bytes > 24 * 500_000);
  for (let call = 0; call < 3; call++) {
    const m = measured(() => s.symbolizeFile(p, [0x1000n + 16n * 123_456n + 3n]));
    assert.equal(m.value[0].symbol?.name, "f123456");
    assert.ok(m.bytes < 64 * 1024, `call ${call} read ${m.bytes} bytes`);
    assert.ok(m.ms < 1000, `call ${call}: ${m.ms.toFixed(0)} ms of CPU`);
    assert.ok(m.rssGrowth < 64 * MiB, `call ${call}: RSS +${(m.rssGrowth / MiB).toFixed(0)} MiB`);
  }
  // Changed in place (same inode, other size and times): read again.
  const bytes = readFileSync(p);
  writeFileSync(p, Buffer.concat([bytes, new Uint8Array(16)]));
  const changed = measured(() => s.symbolizeFile(p, [0x1000n]));
  assert.equal(changed.value[0].symbol?.name, "f0");
  assert.ok(changed.bytes > 24 * 500_000, "a changed file is read again");
});

/** `.gnu_debugdata` holding `bytes` xz-compressed. */
function withDebugdata(bytes: Uint8Array, dynsym: boolean): Uint8Array {
  const xz = spawnSync("xz", ["-1", "-c", "--check=crc32"], { input: bytes, maxBuffer: 1 << 28 });
  assert.equal(xz.status, 0);
  const packed = new Uint8Array(xz.stdout);
  const dynstr = stringTable(["exported"]);
  return buildSectionElf([
    { name: ".text", type: SHT_NOBITS, flags: SHF_ALLOC | SHF_EXECINSTR, addr: 0x1000n, size: 0x1000n },
    ...(dynsym
      ? [
        {
          name: ".dynsym",
          type: SHT_DYNSYM,
          flags: SHF_ALLOC,
          data: symbolEntries([{ name: dynstr.at[0], info: 0x12, shndx: 1, value: 0x1800n, size: 0x10n }]),
          link: 3,
          entsize: 24n,
        },
        { name: ".dynstr", type: SHT_STRTAB, flags: SHF_ALLOC, data: dynstr.bytes },
      ]
      : []),
    { name: ".gnu_debugdata", type: SHT_PROGBITS, data: packed },
  ]);
}

test("an xz bomb in .gnu_debugdata costs a bounded read once, not per call", { skip: !haveXz && "needs xz" }, () => {
  // 64 MiB of zeros: about 10 KB under xz.
  const p = write(withDebugdata(new Uint8Array(64 * MiB), true));
  const s = new Symbolizer();
  let cached = 0;
  for (let call = 0; call < 3; call++) {
    const m = measured(() => s.symbolizeFile(p, [0x1800n, 0x1100n]));
    // Decompressing the bomb whole takes about a second of CPU; later calls decompress nothing.
    assert.ok(m.ms < (call === 0 ? 1000 : 250), `call ${call}: ${m.ms.toFixed(0)} ms of CPU`);
    assert.ok(m.rssGrowth < 64 * MiB, `call ${call}: RSS +${(m.rssGrowth / MiB).toFixed(0)} MiB`);
    assert.equal(m.value[0].symbol?.name, "exported");
    assert.equal(m.value[1].symbol, undefined);
    // The file's tables are remembered after the first call (no build ID: by identity, size and times).
    if (call === 0) cached = s.cacheBytes;
    assert.ok(cached > 0 && s.cacheBytes === cached, `call ${call}: cache ${s.cacheBytes}`);
  }
});

test("MiniDebugInfo in a file without .dynsym: the message says where no symbol was found", {
  skip: !haveXz && "needs xz",
}, () => {
  const names = stringTable(["local_function"]);
  const mini = buildSectionElf([
    { name: ".text", type: SHT_NOBITS, flags: SHF_ALLOC | SHF_EXECINSTR, addr: 0x1000n, size: 0x1000n },
    {
      name: ".symtab",
      type: SHT_SYMTAB,
      data: symbolEntries([{ name: names.at[0], info: 0x02, shndx: 1, value: 0x1200n, size: 0x20n }]),
      link: 3,
      entsize: 24n,
    },
    { name: ".strtab", type: SHT_STRTAB, data: names.bytes },
  ]);
  const p = write(withDebugdata(mini, false));
  const [hit, miss] = new Symbolizer().symbolizeFile(p, [0x1210n, 0x1300n]);
  assert.equal(hit.symbol?.name, "local_function");
  assert.equal(hit.symbol?.source, "minidebuginfo");
  assert.equal(miss.symbolReason, "no-symbol");
  assert.match(miss.symbolMessage ?? "", /^no symbol covers it in MiniDebugInfo/);
});

test("Node 26 with --permission: a debug directory it may not read gives a reason, not Node's raw error", {
  skip: !node26() ? "Node.js 26 is not installed (npm ci)" : !existsSync("dist/mod.js") ? "dist/ is not built" : false,
}, () => {
  // The package and /proc may be read (so procmap works), /usr/lib/debug may not (nor the libraries).
  const script = `
    const { ProcMaps } = await import(${JSON.stringify(resolve("dist/mod.js"))});
    try {
      const maps = ProcMaps.open("self");
      const libc = [...maps.vmasSync({ executable: true, fileBacked: true })].find((v) => /libc\\.so/.test(v.name));
      const [r] = maps.symbolize([libc.start + 16n]);
      console.log(JSON.stringify({ kind: r.kind, symbol: r.symbol?.name ?? null, reason: r.symbolReason ?? null }));
      maps.close();
    } catch (e) {
      console.log(JSON.stringify({ thrown: e.name, code: e.code ?? null, message: e.message }));
    }`;
  const r = spawnSync(node26()!, [
    "--permission",
    `--allow-fs-read=${resolve(".")}/`,
    "--allow-fs-read=/proc/",
    "--disable-warning=ExperimentalWarning",
    "--input-type=module",
    "-e",
    script,
  ], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
  assert.equal(out.thrown, undefined, JSON.stringify(out));
  assert.equal(out.kind, "file");
  // libc itself is outside what may be read: no symbol, and why.
  assert.ok(out.symbol !== null || out.reason !== null, JSON.stringify(out));
});
