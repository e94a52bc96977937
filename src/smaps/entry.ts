/**
 * The objects smaps answers are made of: an entry per VMA and the rollup.
 * Like every result, each has a `toJSON()` (src/util/json.ts).
 * @module
 */
import { jsonFields } from "../util/json.ts";
import type { SmapsEntry, SmapsRollup } from "./types.ts";

/**
 * An smaps entry. A class, so that every entry of a text has one shape with
 * its fields in the object itself; fields are assigned only when present
 * (`declare`d, so none exists as `undefined`). Each figure is stored with
 * `this.` in the constructor itself (not by a helper), so that the engines
 * see how many properties an entry gets and reserve room for them in the
 * object: a helper's stores would grow an out-of-object store step by step.
 * Same order as FIELDS (parser.ts).
 */
export class Entry implements SmapsEntry {
  declare readonly vma: SmapsEntry["vma"];
  declare readonly size?: number;
  declare readonly kernelPageSize?: number;
  declare readonly mmuPageSize?: number;
  declare readonly rss?: number;
  declare readonly pss?: number;
  declare readonly pssDirty?: number;
  declare readonly pssAnon?: number;
  declare readonly pssFile?: number;
  declare readonly pssShmem?: number;
  declare readonly sharedClean?: number;
  declare readonly sharedDirty?: number;
  declare readonly privateClean?: number;
  declare readonly privateDirty?: number;
  declare readonly referenced?: number;
  declare readonly anonymous?: number;
  declare readonly ksm?: number;
  declare readonly lazyFree?: number;
  declare readonly anonHugePages?: number;
  declare readonly shmemPmdMapped?: number;
  declare readonly filePmdMapped?: number;
  declare readonly sharedHugetlb?: number;
  declare readonly privateHugetlb?: number;
  declare readonly swap?: number;
  declare readonly swapPss?: number;
  declare readonly locked?: number;
  declare readonly thpEligible?: number;
  declare readonly protectionKey?: number;
  declare readonly vmFlags?: readonly string[];
  declare readonly other?: Readonly<Record<string, number | string>>;
  constructor(
    vma: SmapsEntry["vma"],
    v: Float64Array,
    b: number,
    m: number,
    vmFlags: readonly string[] | undefined,
    other: Record<string, number | string> | undefined,
  ) {
    this.vma = vma;
    if (m & 1) this.size = int(v[b]);
    if (m & 2) this.kernelPageSize = int(v[b + 1]);
    if (m & 4) this.mmuPageSize = int(v[b + 2]);
    if (m & 8) this.rss = int(v[b + 3]);
    if (m & 0x10) this.pss = int(v[b + 4]);
    if (m & 0x20) this.pssDirty = int(v[b + 5]);
    if (m & 0x40) this.pssAnon = int(v[b + 6]);
    if (m & 0x80) this.pssFile = int(v[b + 7]);
    if (m & 0x100) this.pssShmem = int(v[b + 8]);
    if (m & 0x200) this.sharedClean = int(v[b + 9]);
    if (m & 0x400) this.sharedDirty = int(v[b + 10]);
    if (m & 0x800) this.privateClean = int(v[b + 11]);
    if (m & 0x1000) this.privateDirty = int(v[b + 12]);
    if (m & 0x2000) this.referenced = int(v[b + 13]);
    if (m & 0x4000) this.anonymous = int(v[b + 14]);
    if (m & 0x8000) this.ksm = int(v[b + 15]);
    if (m & 0x10000) this.lazyFree = int(v[b + 16]);
    if (m & 0x20000) this.anonHugePages = int(v[b + 17]);
    if (m & 0x40000) this.shmemPmdMapped = int(v[b + 18]);
    if (m & 0x80000) this.filePmdMapped = int(v[b + 19]);
    if (m & 0x100000) this.sharedHugetlb = int(v[b + 20]);
    if (m & 0x200000) this.privateHugetlb = int(v[b + 21]);
    if (m & 0x400000) this.swap = int(v[b + 22]);
    if (m & 0x800000) this.swapPss = int(v[b + 23]);
    if (m & 0x1000000) this.locked = int(v[b + 24]);
    if (m & 0x2000000) this.thpEligible = int(v[b + 25]);
    if (m & 0x4000000) this.protectionKey = int(v[b + 26]);
    if (vmFlags !== undefined) this.vmFlags = vmFlags;
    if (other !== undefined) this.other = other;
  }

  /** JSON form: `vma` as its own JSON, the figures as they are (numbers). */
  toJSON(): Record<string, unknown> {
    return jsonFields(this);
  }
}

/** The smaps_rollup figures (see Entry). */
export class Rollup implements SmapsRollup {
  declare readonly start: bigint;
  declare readonly end: bigint;
  declare readonly other?: Readonly<Record<string, number | string>>;
  constructor(
    start: bigint,
    end: bigint,
    v: Float64Array,
    m: number,
    other: Record<string, number | string> | undefined,
  ) {
    const e = this as Figures;
    e.start = start;
    e.end = end;
    assignFigures(e, v, 0, m);
    if (other !== undefined) e.other = other;
  }

  /** JSON form: `start` and `end` as `"0x"` hex strings, the figures as they are. */
  toJSON(): Record<string, unknown> {
    return jsonFields(this);
  }
}

/** The rollup of a process with no memory (a kernel thread): no figures, an empty range. */
export function emptyRollup(): SmapsRollup {
  return Object.freeze(new Rollup(0n, 0n, new Float64Array(0), 0, undefined));
}

type Figures = { -readonly [K in keyof SmapsRollup]?: SmapsRollup[K] };

/**
 * A figure as a small integer where it is one: engines then store it in the
 * object as is, where a double would need a heap box per field.
 */
function int(x: number): number {
  return (x | 0) === x ? x | 0 : x;
}

/**
 * Copies the present figures onto `e`, one property at a time in the
 * kernel's order: every entry of one text gets the same shape, and each
 * store site sees one property (no keyed stores).
 */
function assignFigures(e: Figures, v: Float64Array, b: number, m: number): void {
  if (m & 1) e.size = int(v[b]);
  if (m & 2) e.kernelPageSize = int(v[b + 1]);
  if (m & 4) e.mmuPageSize = int(v[b + 2]);
  if (m & 8) e.rss = int(v[b + 3]);
  if (m & 0x10) e.pss = int(v[b + 4]);
  if (m & 0x20) e.pssDirty = int(v[b + 5]);
  if (m & 0x40) e.pssAnon = int(v[b + 6]);
  if (m & 0x80) e.pssFile = int(v[b + 7]);
  if (m & 0x100) e.pssShmem = int(v[b + 8]);
  if (m & 0x200) e.sharedClean = int(v[b + 9]);
  if (m & 0x400) e.sharedDirty = int(v[b + 10]);
  if (m & 0x800) e.privateClean = int(v[b + 11]);
  if (m & 0x1000) e.privateDirty = int(v[b + 12]);
  if (m & 0x2000) e.referenced = int(v[b + 13]);
  if (m & 0x4000) e.anonymous = int(v[b + 14]);
  if (m & 0x8000) e.ksm = int(v[b + 15]);
  if (m & 0x10000) e.lazyFree = int(v[b + 16]);
  if (m & 0x20000) e.anonHugePages = int(v[b + 17]);
  if (m & 0x40000) e.shmemPmdMapped = int(v[b + 18]);
  if (m & 0x80000) e.filePmdMapped = int(v[b + 19]);
  if (m & 0x100000) e.sharedHugetlb = int(v[b + 20]);
  if (m & 0x200000) e.privateHugetlb = int(v[b + 21]);
  if (m & 0x400000) e.swap = int(v[b + 22]);
  if (m & 0x800000) e.swapPss = int(v[b + 23]);
  if (m & 0x1000000) e.locked = int(v[b + 24]);
  if (m & 0x2000000) e.thpEligible = int(v[b + 25]);
  if (m & 0x4000000) e.protectionKey = int(v[b + 26]);
}
