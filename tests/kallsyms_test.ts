// Kernel symbols against /proc/kallsyms parsed independently, as an
// unprivileged user (hidden addresses), and against what `perf script`
// names for kernel samples of `perf record -a`.
import { describe, it } from "node:test";
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
      if (i + 1 < addrs.length) {
        assert.equal(s.size, addrs[i + 1] - a);
        assert.equal(k.find(addrs[i + 1] - 1n)?.start, a);
      }
      if (i > 0) assert.equal(k.find(a - 1n)?.start, addrs[i - 1]);
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
    assert.deepEqual(k.find(0xffffffff81000090n), {
      name: "text_sym",
      start: 0xffffffff81000080n,
      size: 0x3f000f80n,
      type: "t",
    });
    assert.deepEqual(k.find(0xffffffffc0001000n), {
      name: "mod_func",
      start: 0xffffffffc0001000n,
      size: 0x10n,
      type: "t",
      module: "my_mod",
    });
    assert.equal(k.find(0xffffffffc0001fffn)?.name, "mod_func2"); // the last one: to the end of its page
    assert.equal(k.find(0xffffffffc0002000n), undefined);
    assert.equal(k.size, 5);
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
