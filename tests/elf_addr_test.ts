/**
 * ELF addresses through the segment a VMA maps, against gdb's `info
 * symbol` on a live child built with `-z noseparate-code` (its data segment
 * shares a file page with the text, so the RELRO `r--p` page starts with
 * padding that another segment's file bytes cover) and its `.bss` (past
 * p_filesz in the last file-backed page).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ProcMaps } from "../mod.ts";
import { compileC, startChild, type Started } from "./helpers/child.ts";
import { readRows, type Row } from "./helpers/ground_truth.ts";
import { gdbInfoSymbol, haveGdb, haveNm, nmSized } from "./helpers/tools.ts";
import { type LoadSegment, segmentForVma } from "../src/elf/segments.ts";

interface TargetInfo {
  pid: number;
  own: string;
  static: string;
  bss: string;
  staticBss: string;
  data: string;
}

const skip = !haveGdb || !haveNm ? "gdb and nm are needed for the ground truth" : false;
let bin: string;
let child: Started<TargetInfo>;
let rows: Row[];
before(async () => {
  bin = compileC("sym_target", ["-g", "-z", "noseparate-code"]);
  child = await startChild<TargetInfo>(bin, []);
  rows = readRows(child.pid);
});
after(() => child?.stop());

test("elfAddr of .bss, data, text and inter-segment padding equals gdb's info symbol", { skip }, () => {
  const own = rows.filter((r) => r.name === bin);
  // The RELRO page: read-only, mapping the data segment's first page (which starts with text bytes).
  const relro = own.find((r) => r.perms === "r--p");
  assert.ok(relro, `no r--p VMA of ${bin}`);
  const info = child.info;
  const addrs = [
    BigInt(info.bss),
    BigInt(info.staticBss) + 60n,
    BigInt(info.data),
    BigInt(info.static) + 4n,
    BigInt(info.own),
    relro.start + 0x123n,
    relro.start + 8n,
  ];
  const gdb = gdbInfoSymbol(child.pid, addrs);
  const nm = new Map(nmSized(bin).map((s) => [s.name, s.addr]));
  // gdb must see the padding as nothing and the rest as named: otherwise this test tests nothing.
  assert.equal(gdb[5], null);
  assert.ok(gdb[0]?.section === ".bss" && gdb[1]?.section === ".bss");
  for (const backend of ["auto", "text"] as const) {
    using maps = ProcMaps.open(child.pid, { backend });
    const got = maps.resolve(addrs);
    addrs.forEach((a, i) => {
      const g = gdb[i];
      const where = `${backend}: 0x${a.toString(16)} (gdb: ${g ? `${g.name}+${g.offset} in ${g.section}` : "none"})`;
      if (g === null) {
        assert.equal(got[i]!.elfAddr, undefined, where);
        assert.ok(got[i]!.reason, where);
      } else {
        assert.equal(got[i]!.elfAddr, nm.get(g.name)! + g.offset, where);
      }
    });
  }
});

const seg = (offset: number, vaddr: number, filesz: number, memsz: number, flags: number): LoadSegment => ({
  offset: BigInt(offset),
  vaddr: BigInt(vaddr),
  fileSize: BigInt(filesz),
  memSize: BigInt(memsz),
  flags,
});
const vmaAt = (start: number, end: number, offset: number, perms: string) => ({
  start: BigInt(start),
  end: BigInt(end),
  offset: BigInt(offset),
  pageSize: 4096,
  readable: perms[0] === "r",
  writable: perms[1] === "w",
  executable: perms[2] === "x",
});

test("segmentForVma: a VMA no segment maps, a misaligned load address and a tie give no segment", () => {
  // The child's layout (readelf -lW): text [0, 0xb88) R E; data 0xdd0 -> 0x1dd0, filesz 0x26c, memsz 0x2f0, RW.
  const loads = [seg(0, 0, 0xb88, 0xb88, 5), seg(0xdd0, 0x1dd0, 0x26c, 0x2f0, 6)];
  const base = 0x5000_0000;
  assert.equal(segmentForVma(loads, vmaAt(base + 0x1000, base + 0x2000, 0, "r--p"))?.shift, 0x1000n);
  assert.equal(segmentForVma(loads, vmaAt(base, base + 0x1000, 0, "r-xp"))?.shift, 0n);
  // Past every segment's file pages.
  assert.equal(segmentForVma(loads, vmaAt(base + 0x3000, base + 0x4000, 0x2000, "r--p")), undefined);
  // Address and offset not congruent to any segment's.
  assert.equal(segmentForVma(loads, vmaAt(base + 0x1800, base + 0x2800, 0x1000, "rw-p")), undefined);
  // Two segments with the same flags sharing the page: no guess.
  const same = [seg(0, 0, 0x800, 0x800, 4), seg(0x800, 0x1800, 0x100, 0x100, 4)];
  assert.equal(segmentForVma(same, vmaAt(base + 0x1000, base + 0x2000, 0, "r--p")), undefined);
  // filesz > memsz is malformed.
  assert.equal(segmentForVma([seg(0, 0, 0x800, 0x10, 5)], vmaAt(base, base + 0x1000, 0, "r-xp")), undefined);
});
