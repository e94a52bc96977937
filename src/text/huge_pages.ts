/**
 * Page sizes for the text backend. The text maps do not show them, but
 * PROCMAP_QUERY reports the huge page size for hugetlb memory. Such memory
 * is always a file on a hugetlbfs superblock, which is a pseudo device
 * (major 0); so only file-backed rows with major 0 need a closer look:
 * - the device of a mounted filesystem: its type and `pagesize=` option from
 *   `/proc/<pid>/mountinfo` say whether and how large;
 * - a device that is not mounted: the kernel's internal hugetlbfs mounts
 *   behind MAP_HUGETLB, SHM_HUGETLB and MFD_HUGETLB name their files
 *   `/anon_hugepage`, `/SYSV...` and `/memfd:...`; for such a row
 *   `/proc/<pid>/smaps` reports `KernelPageSize`. Other unmounted devices
 *   (AIO rings, io_uring, perf and BPF buffers, dma-buf) have base pages.
 * A device's page size never changes, so each is looked up once per handle:
 * smaps, which costs a page-table walk of the whole process, is read at most
 * once per new hugetlb device. Device 0:1 is the kernel's shared-memory
 * mount (memfd, /dev/zero, SysV shm without SHM_HUGETLB): base pages.
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import { FLAG } from "../request.ts";
import { readFileText } from "../procfs/read.ts";
import { parseMountinfo } from "../procfs/mountinfo.ts";
import type { MapsTable } from "./table.ts";

const UNITS: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/**
 * Page size per mounted device ("major:minor" in hex, as the maps print it):
 * the huge page size for hugetlbfs mounts, `base` for any other filesystem.
 */
export function mountedPageSizes(mountinfo: string, base: number): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const m of parseMountinfo(mountinfo)) {
    let size = base;
    if (m.fsType === "hugetlbfs") {
      const p = /(?:^|,)pagesize=(\d+)([KMG]?)/.exec(m.superOptions);
      size = p ? Number(p[1]) * (UNITS[p[2]] ?? 1) : base;
    }
    sizes.set(`${m.devMajor.toString(16)}:${m.devMinor.toString(16)}`, size);
  }
  return sizes;
}

/** KernelPageSize of each VMA in smaps text, by start address (hex, as printed). */
export function smapsPageSizes(smaps: string): Map<string, number> {
  const sizes = new Map<string, number>();
  let start = "";
  for (const line of smaps.split("\n")) {
    const dash = line.indexOf("-");
    if (dash > 0 && /^[0-9a-f]+$/.test(line.slice(0, dash))) start = line.slice(0, dash);
    else if (line.startsWith("KernelPageSize:")) sizes.set(start, Number(/(\d+)/.exec(line)![1]) * 1024);
  }
  return sizes;
}

/** Names the kernel's internal hugetlbfs mounts give their files. */
const HUGETLB_NAMES = ["/anon_hugepage", "/SYSV", "/memfd:"];

function looksHugetlb(table: MapsTable, i: number): boolean {
  const text = table.text;
  const s = table.nameStart[i], e = table.nameEnd[i];
  return HUGETLB_NAMES.some((prefix) => {
    if (e - s < prefix.length) return false;
    for (let k = 0; k < prefix.length; k++) if (text[s + k] !== prefix.charCodeAt(k)) return false;
    return true;
  });
}

/** In a handle's device map: a device not mounted, whose rows are decided by name (see below). */
const UNMOUNTED = 0;

/**
 * Fills in the huge page size of hugetlb rows; other rows keep `base`.
 * `known` maps the minor numbers of devices with major 0 (the only ones
 * looked at) to page sizes, or to UNMOUNTED, for the handle's life (a
 * device's filesystem never changes; one not mounted when first seen is the
 * kernel's own, or from another mount namespace, and stays decided by its
 * rows' names), so mountinfo is read once per new device. `mountinfo` and
 * `smaps` are read relative to `procDir`, the handle's `/proc/<pid>`
 * descriptor. Returns whether it read either (the caller then checks the
 * process outlived the reads).
 */
export function fillHugePageSizes(
  table: MapsTable,
  libc: Libc,
  procDir: number,
  base: number,
  known: Map<number, number>,
): boolean {
  /** null: mountinfo could not be read. */
  let mounts: Map<string, number> | null | undefined;
  let smaps: Map<string, number> | undefined;
  let read = false;
  for (let i = 0; i < table.count; i++) {
    if (!(table.flags[i] & FLAG.fileBacked) || table.devMajor[i] !== 0 || table.devMinor[i] === 1) continue;
    const minor = table.devMinor[i];
    let size = known.get(minor);
    if (size === undefined) {
      read = true;
      if (mounts === undefined) {
        const text = readFileText(libc, "mountinfo", procDir);
        mounts = text === undefined ? null : mountedPageSizes(text, base);
      }
      size = mounts?.get(`0:${minor.toString(16)}`) ?? UNMOUNTED;
      // Only what mountinfo said is remembered, not a failure to read it.
      if (mounts !== null) known.set(minor, size);
    }
    if (size === UNMOUNTED) {
      // The kernel's internal hugetlbfs mounts, told by their files' names;
      // other unmounted devices (AIO rings, io_uring, perf and BPF buffers) have base pages.
      if (!looksHugetlb(table, i)) continue;
      read = true;
      smaps ??= smapsPageSizes(readFileText(libc, "smaps", procDir) ?? "");
      const found = smaps.get(table.start.big[i].toString(16).padStart(8, "0"));
      if (found === undefined) continue;
      // An internal hugetlbfs mount has one page size: its device is known from now on.
      known.set(minor, size = found);
    }
    if (size !== base) table.hugePageSizes.set(i, size);
  }
  return read;
}
