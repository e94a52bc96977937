/**
 * Page sizes of hugetlb memory: the ioctl reports the huge page size, and
 * the text backend (whose text does not show it) must report the same.
 * Needs root to reserve huge pages and mount hugetlbfs; restores both.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProcMaps } from "../mod.ts";
import { compileC, startChild, type Started } from "./helpers/child.ts";
import { isRoot } from "./helpers/runtime.ts";
import { BACKENDS } from "./helpers/backends.ts";

const NR = "/proc/sys/vm/nr_hugepages";
let savedNr: string | undefined;
let mountDir: string | undefined;
let mounted = false;
let child: Started<{ anon: string | null; memfd: string | null; file: string | null }> | undefined;

const skip = isRoot ? false : "needs root to reserve huge pages";

before(async () => {
  if (!isRoot) return;
  savedNr = readFileSync(NR, "utf8").trim();
  if (Number(savedNr) < 4) writeFileSync(NR, "4");
  mountDir = mkdtempSync(join(tmpdir(), "procmap-hugetlbfs-"));
  mounted = spawnSync("mount", ["-t", "hugetlbfs", "-o", "pagesize=2M", "none", mountDir]).status === 0;
  child = await startChild(compileC("hugetlb"), mounted ? [join(mountDir, "huge.bin")] : []);
});

after(async () => {
  await child?.stop();
  if (mounted) spawnSync("umount", [mountDir!]);
  if (mountDir) rmSync(mountDir, { recursive: true, force: true });
  if (savedNr !== undefined) writeFileSync(NR, savedNr);
});

/** KernelPageSize of the VMA at `start`, from the kernel's smaps. */
function smapsPageSize(pid: number, start: bigint): number {
  const text = readFileSync(`/proc/${pid}/smaps`, "utf8");
  const at = text.indexOf(start.toString(16) + "-");
  const m = /KernelPageSize:\s+(\d+) kB/.exec(text.slice(at));
  return Number(m![1]) * 1024;
}

test("hugetlb VMAs report the huge page size in every backend, as smaps does", { skip }, () => {
  const regions = Object.entries(child!.info).filter(([, a]) => a !== null) as [string, string][];
  // With three huge pages reserved, every mapping must have worked.
  if (Number(readFileSync(NR, "utf8")) >= 3) assert.equal(regions.length, mounted ? 3 : 2, JSON.stringify(child!.info));
  if (regions.length === 0) {
    console.log("note: the kernel could not reserve huge pages; nothing to compare");
    return;
  }
  for (const backend of BACKENDS) {
    using maps = ProcMaps.open(child!.pid, { backend });
    for (const [what, addr] of regions) {
      const vma = maps.query(BigInt(addr))!;
      assert.equal(vma.pageSize, smapsPageSize(child!.pid, vma.start), `${backend}: ${what} (${vma.name})`);
      assert.equal(vma.pageSize, 2 << 20, `${backend}: ${what}`);
    }
    // Everything else has the base page size.
    for (const v of maps.vmasSync()) {
      if (!regions.some(([, a]) => BigInt(a) === v.start)) assert.equal(v.pageSize, 4096, v.toString());
    }
    // A table's pageSize column says the same, unfiltered and filtered.
    for (const opts of [{}, { writable: true }]) {
      const t = maps.table(opts);
      assert.deepEqual([...t.pageSize], [...maps.vmasSync(opts)].map((v) => v.pageSize), backend);
    }
  }
});
