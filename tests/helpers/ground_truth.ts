/**
 * Ground truth for tests: the kernel's own text of /proc/<pid>/maps, parsed
 * here with a deliberately simple, independent parser (a regular expression
 * per line), and the kernel's PROCMAP_QUERY matching rules restated over it.
 */
import { readFileSync } from "node:fs";

export interface Row {
  start: bigint;
  end: bigint;
  perms: string;
  offset: bigint;
  devMajor: number;
  devMinor: number;
  inode: bigint;
  name: string;
}

const LINE = /^([0-9a-f]+)-([0-9a-f]+) ([r-][w-][x-][ps]) ([0-9a-f]+) ([0-9a-f]+):([0-9a-f]+) (\d+) ?(.*)$/;

/** Parses maps text the way a careful script would. */
export function parseText(text: string): Row[] {
  const rows: Row[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const m = LINE.exec(line);
    if (!m) throw new Error(`ground truth: unparsable maps line ${JSON.stringify(line)}`);
    rows.push({
      start: BigInt("0x" + m[1]),
      end: BigInt("0x" + m[2]),
      perms: m[3],
      offset: BigInt("0x" + m[4]),
      devMajor: parseInt(m[5], 16),
      devMinor: parseInt(m[6], 16),
      inode: BigInt(m[7]),
      // Padding precedes the name; only a newline is escaped (as \012).
      name: m[8].replace(/^ +/, "").replaceAll("\\012", "\n"),
    });
  }
  return rows;
}

/** The maps text of `pid` as raw bytes decoded as UTF-8 with replacement. */
export function readText(pid: number | "self"): string {
  return readFileSync(`/proc/${pid}/maps`, "utf8");
}

/** Parsed maps of `pid`. */
export function readRows(pid: number | "self"): Row[] {
  return parseText(readText(pid));
}

export interface Filters {
  coveringOrNext?: boolean;
  readable?: boolean;
  writable?: boolean;
  executable?: boolean;
  shared?: boolean;
  fileBacked?: boolean;
}

/** Filter combinations the walk and table tests check against the text (the mapper child has VMAs of each). */
export const FILTER_SETS: readonly Filters[] = [
  { readable: true },
  { writable: true },
  { executable: true },
  { shared: true },
  { fileBacked: true },
  { readable: true, writable: true },
  { fileBacked: true, executable: true },
  { shared: true, fileBacked: true, writable: true },
];

function passes(r: Row, f: Filters): boolean {
  if (f.readable && r.perms[0] !== "r") return false;
  if (f.writable && r.perms[1] !== "w") return false;
  if (f.executable && r.perms[2] !== "x") return false;
  if (f.shared && r.perms[3] !== "s") return false;
  if (f.fileBacked && r.inode === 0n && r.devMajor === 0 && r.devMinor === 0) return false;
  return true;
}

/**
 * What PROCMAP_QUERY answers for `addr` (include/uapi/linux/fs.h,
 * query_matching_vma): the first VMA ending above addr; a filtered-out or
 * non-covering one ends the search unless covering-or-next is set.
 */
export function expectedQuery(rows: Row[], addr: bigint, f: Filters = {}): Row | null {
  for (const r of rows) {
    if (r.end <= addr) continue;
    if (passes(r, f)) return f.coveringOrNext || r.start <= addr ? r : null;
    if (!f.coveringOrNext) return null;
  }
  return null;
}

/** All rows passing the filters, as an iteration should return them. */
export function expectedWalk(rows: Row[], f: Filters = {}): Row[] {
  return rows.filter((r) => passes(r, f));
}

/** The comparable fields of a Vma (or Row). */
export function fields(
  v: Row | {
    start: bigint;
    end: bigint;
    perms: string;
    offset: bigint;
    devMajor: number;
    devMinor: number;
    inode: bigint;
    name?: string;
  },
): Row {
  return {
    start: v.start,
    end: v.end,
    perms: v.perms,
    offset: v.offset,
    devMajor: v.devMajor,
    devMinor: v.devMinor,
    inode: v.inode,
    name: v.name ?? "<no name>",
  };
}

/**
 * Runs `read` between two reads of the text until the text did not change
 * meanwhile, and returns both; for comparing a live process against itself.
 */
export function atSameMoment<T>(pid: number | "self", read: () => T, attempts = 50): { rows: Row[]; result: T } {
  for (let i = 0; i < attempts; i++) {
    const before = readText(pid);
    const result = read();
    const after = readText(pid);
    if (before === after) return { rows: parseText(before), result };
  }
  throw new Error(`the maps of ${pid} kept changing during ${attempts} attempts`);
}

/** True when pid 2 is a kernel thread (PF_KTHREAD in its stat flags): not so in a container's own pid namespace. */
export function pid2IsKernelThread(): boolean {
  try {
    const stat = readFileSync("/proc/2/stat", "utf8");
    return (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[6]) & 0x00200000) !== 0;
  } catch {
    return false;
  }
}
