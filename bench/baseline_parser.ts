/**
 * BASELINE, not part of procmap: the maps parser JavaScript tools write today
 * when they have no library. Read the file as a string, split it into lines,
 * match a regular expression per line, convert hex with BigInt("0x" + ...).
 * The benchmarks measure procmap against it; tests/bench_baseline_test.ts
 * checks that it is correct on the same inputs, so the comparison is fair.
 *
 * Like most such code it does not undo the kernel's `\012` escape of a
 * newline in a name (the benchmark targets have no such names).
 * @module
 */
import { readFileSync } from "node:fs";

/** One line of the maps, as the baseline returns it. */
export interface BaselineVma {
  start: bigint;
  end: bigint;
  perms: string;
  offset: bigint;
  devMajor: number;
  devMinor: number;
  inode: bigint;
  name: string;
}

// start-end perms offset major:minor inode [padding name]
const LINE = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) ([0-9a-f]+):([0-9a-f]+) (\d+)\s*(.*)$/;

/** Parses the text of a maps file. */
export function parseMapsBaseline(text: string): BaselineVma[] {
  const vmas: BaselineVma[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    const m = LINE.exec(line);
    if (!m) throw new Error(`cannot parse maps line: ${line}`);
    vmas.push({
      start: BigInt("0x" + m[1]),
      end: BigInt("0x" + m[2]),
      perms: m[3],
      offset: BigInt("0x" + m[4]),
      devMajor: parseInt(m[5], 16),
      devMinor: parseInt(m[6], 16),
      inode: BigInt(m[7]),
      name: m[8],
    });
  }
  return vmas;
}

/** Reads and parses `/proc/<pid>/maps`. */
export function readMapsBaseline(pid: number | "self"): BaselineVma[] {
  return parseMapsBaseline(readFileSync(`/proc/${pid}/maps`, "utf8"));
}

/** Index of the row covering `addr` by binary search, or -1 (rows sorted, disjoint): the lookup such code does. */
export function lookup(rows: BaselineVma[], addr: bigint): number {
  let lo = 0, hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rows[mid].end <= addr) lo = mid + 1;
    else hi = mid;
  }
  return lo < rows.length && rows[lo].start <= addr ? lo : -1;
}
