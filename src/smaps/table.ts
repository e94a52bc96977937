/**
 * A parsed smaps text as procmap keeps it (one row per VMA, figures in
 * columns, VMAs from a maps table) and the entries made from it; the
 * kernel's field names, in its order.
 * @module
 */
import type { MapsTable } from "../text/table.ts";
import type { MemoryFigures, SmapsEntry, SmapsRollup } from "./types.ts";
import { Entry, Rollup } from "./entry.ts";

/** Kernel field names in the kernel's order, with their property names. Bit k of a row's mask: field k. */
export const FIELDS: readonly (readonly [string, keyof MemoryFigures])[] = [
  ["Size", "size"],
  ["KernelPageSize", "kernelPageSize"],
  ["MMUPageSize", "mmuPageSize"],
  ["Rss", "rss"],
  ["Pss", "pss"],
  ["Pss_Dirty", "pssDirty"],
  ["Pss_Anon", "pssAnon"],
  ["Pss_File", "pssFile"],
  ["Pss_Shmem", "pssShmem"],
  ["Shared_Clean", "sharedClean"],
  ["Shared_Dirty", "sharedDirty"],
  ["Private_Clean", "privateClean"],
  ["Private_Dirty", "privateDirty"],
  ["Referenced", "referenced"],
  ["Anonymous", "anonymous"],
  ["KSM", "ksm"],
  ["LazyFree", "lazyFree"],
  ["AnonHugePages", "anonHugePages"],
  ["ShmemPmdMapped", "shmemPmdMapped"],
  ["FilePmdMapped", "filePmdMapped"],
  ["Shared_Hugetlb", "sharedHugetlb"],
  ["Private_Hugetlb", "privateHugetlb"],
  ["Swap", "swap"],
  ["SwapPss", "swapPss"],
  ["Locked", "locked"],
  ["THPeligible", "thpEligible"],
  ["ProtectionKey", "protectionKey"],
];
export const NFIELDS = FIELDS.length;
/**
 * The smaps fields procmap knows: each kernel name (`Pss_Dirty`) with the
 * {@link MemoryFigures} property that holds it (`pssDirty`), in the
 * kernel's order. Fields the kernel prints and this map lacks are kept in
 * an entry's `other`, under the kernel's name.
 */
export const FIELD_NAMES: ReadonlyMap<string, keyof MemoryFigures> = new Map(FIELDS);

/** A parsed smaps text: one row per VMA, figures in columns, VMAs from a maps table. */
export class SmapsTable {
  /** The maps lines of the text, parsed. */
  readonly maps: MapsTable;
  /** Rows. */
  readonly count: number;
  /** Figures: row i, field k at `values[i * NFIELDS + k]`. */
  readonly values: Float64Array;
  /** Bit k set when row i has field k. */
  readonly present: Int32Array;
  /** Each row's VmFlags as an index in `flagLists` (-1: none). */
  readonly flagsOf: Int32Array;
  /** The distinct VmFlags lists of the text (frozen). */
  readonly flagLists: readonly (readonly string[])[];
  /** Unknown fields, by row. */
  readonly other: Map<number, Record<string, number | string>>;
  readonly text: Uint8Array;

  constructor(
    text: Uint8Array,
    maps: MapsTable,
    values: Float64Array,
    present: Int32Array,
    flagsOf: Int32Array,
    flagLists: readonly (readonly string[])[],
    other: Map<number, Record<string, number | string>>,
  ) {
    this.text = text;
    this.maps = maps;
    this.count = maps.count;
    this.values = values;
    this.present = present;
    this.flagsOf = flagsOf;
    this.flagLists = flagLists;
    this.other = other;
  }

  /** Row `i` as an entry: a Vma with its figures. */
  entry(i: number): SmapsEntry {
    // Nothing here reads the text: by now it has left the CPU caches (a large one), and the
    // parse resolved everything while it was there.
    const f = this.flagsOf[i];
    return new Entry(
      this.maps.vma(i, true, undefined),
      this.values,
      i * NFIELDS,
      this.present[i],
      f >= 0 ? this.flagLists[f] : undefined,
      this.other.size === 0 ? undefined : this.other.get(i),
    );
  }

  /** Row 0 as the rollup of the whole process. */
  rollup(): SmapsRollup {
    return new Rollup(this.maps.start.big[0], this.maps.end.big[0], this.values, this.present[0], this.other.get(0));
  }
}
