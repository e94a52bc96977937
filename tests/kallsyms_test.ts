// Kernel symbols against /proc/kallsyms parsed independently, as an
// unprivileged user (hidden addresses), and against what `perf script`
// names for kernel samples of `perf record -a`.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { getLibc } from "../ffi/mod.ts";
import { readKallsyms } from "../src/symbolize/kallsyms.ts";
import { isRoot, runAsNobody } from "./helpers/runtime.ts";

const libc = getLibc();
const tmp = mkdtempSync(join(tmpdir(), "procmap-kallsyms-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
// Deno does not emit "exit" to test files: after() cleans up there.
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Line {
  addr: bigint;
  type: string;
  name: string;
  module?: string;
}
/** /proc/kallsyms the way a script would read it. */
function parse(text: string): Line[] {
  const out: Line[] = [];
  for (const l of text.split("\n")) {
    const m = /^([0-9a-f]+) (\S) (\S+)(?:\t\[(\S+)\])?$/.exec(l);
    if (m) out.push({ addr: BigInt("0x" + m[1]), type: m[2], name: m[3], module: m[4] });
  }
  return out;
}
const KEPT = /^[TtWwDdBb]$/;
/** Where perf ends the last symbol of a region (symbols__fixup_end): the page boundary after the next one. */
const perfEnd = (start: bigint) => ((start + 4096n + 4095n) / 4096n) * 4096n;
const restrict = readFileSync("/proc/sys/kernel/kptr_restrict", "utf8").trim();

describe("readKallsyms", () => {
  const lines = parse(readFileSync("/proc/kallsyms", "utf8")).filter((l) => KEPT.test(l.type));
  const visible = lines.some((l) => l.addr !== 0n);

  it("names every kernel symbol's address by that symbol or an alias at the same address", {
    skip: visible ? false : "kernel addresses are hidden from this test (not root, or kptr_restrict)",
    timeout: 60_000,
  }, () => {
    const k = readKallsyms(libc);
    assert.equal(k.hidden, undefined);
    const byAddr = new Map<bigint, Line[]>();
    for (const l of lines) byAddr.set(l.addr, [...(byAddr.get(l.addr) ?? []), l]);
    assert.equal(k.size, byAddr.size);
    const addrs = [...byAddr.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (let i = 0; i < addrs.length; i += Math.max(1, Math.floor(addrs.length / 5000))) {
      const a = addrs[i];
      const s = k.find(a);
      assert.ok(s, `0x${a.toString(16)}`);
      assert.equal(s.start, a);
      const aliases = byAddr.get(a)!;
      assert.ok(aliases.some((l) => l.name === s.name && l.type === s.type), `${s.name} at 0x${a.toString(16)}`);
      assert.equal(s.module, aliases.find((l) => l.name === s.name)!.module);
      const next = i + 1 < addrs.length ? k.find(addrs[i + 1]) : undefined;
      if (next && next.module === s.module) {
        assert.equal(s.size, addrs[i + 1] - a);
        assert.equal(k.find(addrs[i + 1] - 1n)?.start, a);
      } else assert.equal(s.start + s.size, perfEnd(a), `the last symbol of its region: ${s.name}`);
      if (i > 0) assert.equal(k.find(a - 1n)?.start ?? addrs[i - 1], addrs[i - 1]);
    }
    assert.equal(k.find(addrs[0] - 1n), undefined);
  });

  it("picks one of several names at an address by the documented rule, sizes up to the next symbol", () => {
    const file = join(tmp, "kallsyms");
    writeFileSync(
      file,
      [
        "ffffffff81000000 T _text",
        "ffffffff81000000 T _stext",
        "ffffffff81000000 T startup_64",
        "ffffffff81000000 t local_first",
        "ffffffff81000040 W weak_one",
        "ffffffff81000040 t local_one",
        "ffffffff81000080 D data_sym",
        "ffffffff81000080 t text_sym",
        "ffffffff81000100 r rodata_not_kept",
        "ffffffff81000200 A absolute_not_kept",
        "ffffffffc0001000 t mod_func\t[my_mod]",
        "ffffffffc0001010 T mod_func2\t[my_mod]",
        "garbage line",
        "ffffffffc0002000 T",
        "",
      ].join("\n"),
    );
    const k = readKallsyms(libc, file);
    assert.equal(k.find(0xffffffff81000010n)?.name, "startup_64"); // global, no leading underscore, longest
    assert.equal(k.find(0xffffffff81000040n)?.name, "weak_one"); // weak over local
    assert.equal(k.find(0xffffffff81000080n)?.name, "text_sym"); // text over data
    // The kernel image's last symbol ends where perf ends it, not at the first module's symbol.
    assert.deepEqual(k.find(0xffffffff81000090n), {
      name: "text_sym",
      start: 0xffffffff81000080n,
      size: 0x1f80n,
      type: "t",
    });
    assert.equal(k.find(0xffffffff81002000n), undefined);
    assert.deepEqual(k.find(0xffffffffc0001000n), {
      name: "mod_func",
      start: 0xffffffffc0001000n,
      size: 0x10n,
      type: "t",
      module: "my_mod",
    });
    // The last one: to the page boundary after the next one (perf's rule).
    assert.equal(k.find(0xffffffffc0002fffn)?.name, "mod_func2");
    assert.equal(k.find(0xffffffffc0003000n), undefined);
    assert.equal(k.size, 5);
  });

  it("sizes the last symbol of each region as perf does: a garbage address past the image gets no name", () => {
    const file = join(tmp, "regions");
    writeFileSync(
      file,
      [
        "ffffffff81000000 T _text",
        "ffffffff83762a40 D __start_early_lsm_info", // the image's last kept symbol
        "ffffffffc0201000 t ftrace_trampoline\t[__builtin__ftrace]",
        "ffffffffc0400000 t a_one\t[mod_a]",
        "ffffffffc0400100 t a_two\t[mod_a]",
        "ffffffffc0500000 t b_one\t[mod_b]",
        "ffffffffc0600000 t bpf_prog_1\t[bpf]",
        "",
      ].join("\n"),
    );
    const k = readKallsyms(libc, file);
    const at = (a: bigint) => k.find(a)?.name;
    assert.equal(k.find(0xffffffff83762a40n)?.size, 0x15c0n);
    assert.equal(at(0xffffffff83763fffn), "__start_early_lsm_info");
    assert.equal(at(0xffffffff83764000n), undefined);
    assert.equal(at(0xffffffffa0000000n), undefined); // between the image and the modules
    assert.equal(at(0xffffffffc0201fffn), "ftrace_trampoline");
    assert.equal(at(0xffffffffc0203000n), undefined);
    assert.equal(at(0xffffffffc04000ffn), "a_one"); // within a module: up to the next symbol
    assert.equal(at(0xffffffffc0401fffn), "a_two"); // the module's last: the page after its page
    assert.equal(at(0xffffffffc0402000n), undefined);
    assert.equal(at(0xffffffffc0500fffn), "b_one");
    assert.equal(at(0xffffffffc0600fffn), "bpf_prog_1"); // page-aligned: its own page
    assert.equal(at(0xffffffffc0601000n), undefined);
  });

  it("the kernel image's last symbol on this machine is sized to a page or two, not to the first module", {
    skip: visible ? false : "kernel addresses are hidden from this test",
  }, () => {
    const k = readKallsyms(libc);
    const firstModule = lines.filter((l) => l.module !== undefined).reduce<bigint | undefined>(
      (m, l) => (m === undefined || l.addr < m ? l.addr : m),
      undefined,
    );
    if (firstModule === undefined) return;
    const image = lines.filter((l) => l.module === undefined && l.addr < firstModule);
    const last = image.reduce((m, l) => (l.addr > m ? l.addr : m), 0n);
    const s = k.find(last)!;
    assert.ok(s.size <= 8192n, `${s.name} has size 0x${s.size.toString(16)}`);
    assert.equal(k.find(perfEnd(last)), undefined);
  });

  it("says why when every address reads as zero", () => {
    const file = join(tmp, "zeros");
    writeFileSync(file, "0000000000000000 T _text\n0000000000000000 t foo\t[m]\n");
    const k = readKallsyms(libc, file);
    assert.equal(k.size, 0);
    assert.equal(k.hidden?.reason, restrict === "2" ? "kptr_restrict" : "no-cap-syslog");
    assert.equal(readKallsyms(libc, join(tmp, "missing")).hidden?.reason, "unreadable");
    assert.equal(readKallsyms(libc, "/proc/kallsyms", { maxBytes: 4096 }).hidden?.reason, "too-large");
  });

  it(
    "as nobody: hidden, with the reason",
    { skip: isRoot ? false : "needs root to drop to nobody", timeout: 60_000 },
    () => {
      const r = runAsNobody("tests/fixtures/symbolize/kallsyms_as_user.ts") as {
        uid: number;
        size: number;
        hidden: { reason: string; message: string } | null;
      };
      assert.equal(r.uid, 65534);
      const paranoid = Number(readFileSync("/proc/sys/kernel/perf_event_paranoid", "utf8"));
      if (restrict === "0" && paranoid <= 1) {
        assert.equal(r.hidden, null); // the kernel shows addresses to perf users then
        return;
      }
      assert.equal(r.size, 0);
      assert.equal(r.hidden?.reason, restrict === "2" ? "kptr_restrict" : "no-cap-syslog");
      assert.match(r.hidden!.message, /kptr_restrict/);
    },
  );

  it("names kernel samples of perf record -a as perf script does", { timeout: 120_000 }, (t) => {
    if (!visible) return t.skip("kernel addresses are hidden");
    const data = join(tmp, "perf.data");
    const rec = spawnSync("perf", ["record", "-a", "-e", "cpu-clock", "-F", "999", "-o", data, "--", "sleep", "0.5"], {
      encoding: "utf8",
    });
    if (rec.status !== 0) return t.skip(`perf record does not work here: ${rec.stderr.trim().split("\n").pop()}`);
    const script = spawnSync("perf", ["script", "-i", data, "-F", "ip,sym,symoff"], {
      encoding: "utf8",
      maxBuffer: 64 << 20,
    });
    if (script.status !== 0) return t.skip(`perf script failed: ${script.stderr}`);
    const k = readKallsyms(libc);
    const aliases = new Map<bigint, Set<string>>();
    for (const l of lines) aliases.set(l.addr, (aliases.get(l.addr) ?? new Set()).add(l.name));
    let checked = 0;
    for (const l of script.stdout.split("\n")) {
      const m = /^\s*(ffff[0-9a-f]{12}) (\S+)\+0x([0-9a-f]+)/.exec(l);
      if (!m) continue;
      const ip = BigInt("0x" + m[1]);
      const s = k.find(ip);
      assert.ok(s, `no symbol for ${l}`);
      assert.ok(aliases.get(s.start)?.has(m[2]), `${l}: we say ${s.name}+0x${(ip - s.start).toString(16)}`);
      assert.equal(ip - s.start, BigInt("0x" + m[3]), l);
      checked++;
    }
    if (checked === 0) return t.skip("perf recorded no kernel samples");
  });
});
