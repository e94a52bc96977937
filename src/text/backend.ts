/**
 * The text backend: answers from a parsed snapshot of `/proc/<pid>/maps`.
 *
 * Snapshot rules: `query()` answers from the snapshot taken by the first
 * query (or the last walk) until `refresh()`; each walk (`vmas()`) reads the
 * text afresh and keeps that as the new snapshot. Reading the whole text is
 * the cost of any text lookup, so re-reading per query would make each one
 * as slow as a full scan; callers who need fresh answers call `refresh()`.
 *
 * Build IDs are read from the files themselves, so they are read in the
 * same moment as the text they go with: a walk asking for them reads every
 * file's right after its snapshot; a query asking for the build ID of a
 * file not yet read for the current snapshot takes a new snapshot first
 * (by then the snapshot's VMA may map another file with the same inode, or
 * the pid may name another process). Each read is followed by a check that
 * the process outlived it.
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import type { Backend, Cursor, Seeker, VmaIndex } from "../backend.ts";
import { FLAG, KERNEL_FLAGS, type Request, WANT_BUILD_ID, WANT_NAME } from "../request.ts";
import type { Pid } from "../options.ts";
import { readMaps, requireOutlived } from "../procfs/read.ts";
import type { ProcessRef } from "../procfs/process.ts";
import { parseMaps } from "./parser.ts";
import { FILTER_FLAGS, type MapsTable } from "./table.ts";
import { NameCache } from "../util/names.ts";
import { type MappedFile, mappedFileOf } from "../elf/mapped_file.ts";
import type { MappedFiles } from "../elf/file_cache.ts";
import { fillHugePageSizes } from "./huge_pages.ts";
import type { Vma } from "../vma.ts";
import { hiOf, loOf } from "../util/bytes.ts";
import { TableBuilder } from "../table/builder.ts";
import type { VmaTable } from "../table/vma_table.ts";

/** How often to re-read a text whose lines overlap (it changed between reads). */
const CONSISTENT_READ_ATTEMPTS = 4;

/** Maps text backend; see the module docs. */
export class TextBackend implements Backend {
  readonly kind = "text" as const;
  readonly #libc: Libc;
  readonly #fd: number;
  readonly #pid: Pid;
  readonly #proc: ProcessRef;
  readonly #path: string;
  readonly #pageSize: number;
  readonly #files: MappedFiles;
  #table: MapsTable | undefined;
  /** Page size per pseudo device, learned once per handle (see huge_pages.ts). */
  readonly #pageSizes = new Map<number, number>();
  #lastLength = 0;
  /** Names decoded so far, kept across snapshots: a walk of a process seen before decodes none. */
  readonly #names = new NameCache();
  constructor(
    libc: Libc,
    fd: number,
    proc: ProcessRef,
    path: string,
    pageSize: number,
    files: MappedFiles,
  ) {
    this.#libc = libc;
    this.#fd = fd;
    this.#pid = proc.pid;
    this.#proc = proc;
    this.#path = path;
    this.#pageSize = pageSize;
    this.#files = files;
  }

  /**
   * Where the next snapshot is read and parsed: the table (text and
   * columns) of the one before the current one, once nothing reads it any
   * more (a fresh buffer is zeroed, and a large one page-faulted in, at a
   * cost of the order of the parse; fresh columns cost a small text about
   * a quarter of its parse).
   */
  #spare: MapsTable | undefined;

  /** Reads and parses the whole text; re-reads when it changed mid-read. */
  snapshot(): MapsTable {
    const prev = this.#table;
    let spare = this.#spare;
    this.#spare = undefined;
    let table: MapsTable | undefined;
    let ordered = false;
    for (let attempt = 0; attempt < CONSISTENT_READ_ATTEMPTS && !ordered; attempt++) {
      const r = readMaps(this.#libc, this.#fd, this.#proc, this.#path, this.#lastLength, spare?.text);
      this.#lastLength = r.length;
      // A retry reads and parses into the attempt before it (nothing has seen that yet).
      spare = table = parseMaps(r.bytes, r.length, this.#pageSize, this.#pid, this.#names, spare);
      ordered = table.ordered;
    }
    if (!ordered) dropOverlapped(table!);
    const helpers = fillHugePageSizes(table!, this.#libc, this.#proc.dirfd, this.#pageSize, this.#pageSizes);
    // A text ending with the gate area is whole (the check costs a system call
    // and a line's printing: a few percent of a small walk); after helper
    // reads, the check is still made, so that what they said is about this process.
    if (helpers || !table!.endsWithGate()) requireOutlived(this.#libc, this.#fd, this.#proc, this.#path);
    // Build IDs read from now on belong to this moment's files.
    this.#files.newGeneration();
    this.#table = table!;
    if (prev !== undefined) this.#recycle(prev);
    return table!;
  }

  /** Keeps a replaced snapshot as the spare, unless a walk or seeker still reads it. */
  #recycle(old: MapsTable): void {
    if (old.readers === 0 && old.text !== this.#table?.text) this.#spare = old;
  }

  lastIndex(): VmaIndex | undefined {
    return this.#table;
  }

  /** Build ID of a row's file: the ELF note read from user space (cached until the next snapshot). */
  #buildIdOfRow(table: MapsTable, row: number): string | undefined {
    if (!(table.flags[row] & FLAG.fileBacked)) return undefined;
    return this.#files.buildId(
      { devMajor: table.devMajor[row], devMinor: table.devMinor[row], inode: table.inode.big[row] },
      () => fileOfRow(table, row),
    );
  }

  buildIdOf(vma: Vma): string | undefined {
    if (!vma.fileBacked) return undefined;
    // The row of the current snapshot has the name's raw bytes; a VMA of an
    // older snapshot has only its decoded name.
    const table = this.#table;
    if (table) {
      const row = table.firstEndingAbove(hiOf(vma.start), loOf(vma.start));
      if (
        row < table.count && table.start.big[row] === vma.start && table.end.big[row] === vma.end &&
        table.inode.big[row] === vma.inode
      ) {
        return this.#buildIdOfRow(table, row);
      }
    }
    return this.#files.buildId(vma, () => mappedFileOf(vma));
  }

  #vma(table: MapsTable, row: number, request: Request): Vma {
    const buildId = request & WANT_BUILD_ID ? this.#buildIdOfRow(table, row) : undefined;
    return table.vma(row, (request & WANT_NAME) !== 0, buildId);
  }

  seeker(): Seeker {
    const table = this.snapshot();
    // Read until the seeker is closed (resolve() closes it when its batch is located).
    table.readers++;
    return new TextSeeker(table);
  }

  query(addr: bigint, request: Request): Vma | null {
    const kept = this.#table;
    let table = kept ?? this.snapshot();
    let row = table.find(addr, request & KERNEL_FLAGS);
    if (
      row >= 0 && kept !== undefined && request & WANT_BUILD_ID && table.flags[row] & FLAG.fileBacked &&
      !this.#files.hasBuildId({
        devMajor: table.devMajor[row],
        devMinor: table.devMinor[row],
        inode: table.inode.big[row],
      })
    ) {
      // Read the file in the same moment as the VMA it is reported with.
      table = this.snapshot();
      row = table.find(addr, request & KERNEL_FLAGS);
    }
    return row < 0 ? null : this.#vma(table, row, request);
  }

  cursor(from: bigint, request: Request): Cursor {
    const table = this.snapshot();
    let row = table.firstEndingAbove(hiOf(from), loOf(from));
    const flags = request & KERNEL_FLAGS;
    if (request & WANT_BUILD_ID) {
      // Every file's build ID now, next to the snapshot (once per file), not
      // whenever the loop gets there.
      for (let r = row; r < table.count; r++) {
        if (table.matches(r, flags)) this.#buildIdOfRow(table, r);
      }
    }
    // Names are decoded from the text as the walk gets to them: it stays
    // read (not recycled) until the walk ends or is closed.
    table.readers++;
    let open = true;
    const close = () => {
      if (open) open = false, table.readers--;
    };
    return {
      next: () => {
        while (row < table.count) {
          const r = row++;
          if (table.matches(r, flags)) return this.#vma(table, r, request);
        }
        close();
        return null;
      },
      close,
    };
  }

  /** A fresh snapshot's rows (as a walk reads one) copied into columns. */
  table(from: bigint, to: bigint | undefined, request: Request, signal: AbortSignal | undefined): VmaTable {
    signal?.throwIfAborted();
    const table = this.snapshot();
    const flags = request & KERNEL_FLAGS;
    const withNames = (request & WANT_NAME) !== 0, withIds = (request & WANT_BUILD_ID) !== 0;
    let row = table.firstEndingAbove(hiOf(from), loOf(from));
    let last = table.count;
    if (to !== undefined) {
      // Rows starting below `to`: the first row ending above `to - 1` may still start below it.
      const toHi = hiOf(to), toLo = loOf(to);
      last = row;
      while (last < table.count && !table.startsAtOrAbove(last, toHi, toLo)) last++;
    }
    const b = new TableBuilder(withNames, withIds, last - row);
    const filtered = (flags & FILTER_FLAGS) !== 0;
    if (!filtered) table.copyRows(row, last, b); // whole column ranges at once (native copies)
    for (; row < last; row++) {
      let i: number;
      if (!filtered) i = b.length - (last - row);
      else if (table.matches(row, flags)) i = b.row(), table.copyRow(row, b, i);
      else continue;
      if (withNames) table.copyName(row, b, i);
      if (withIds) b.setBuildId(i, this.#buildIdOfRow(table, row));
    }
    return b.finish();
  }

  refresh(): void {
    const old = this.#table;
    this.#table = undefined;
    if (old !== undefined) this.#recycle(old);
  }

  dispose(): void {
    this.#table = undefined;
    this.#spare = undefined;
  }
}

/** Addresses over one snapshot, in any order: a binary search each. */
class TextSeeker implements Seeker {
  readonly #table: MapsTable;
  #row = 0;
  startHi = 0;
  startLo = 0;
  endHi = 0;
  endLo = 0;

  #open = true;

  constructor(table: MapsTable) {
    this.#table = table;
  }

  close(): void {
    if (this.#open) this.#open = false, this.#table.readers--;
  }

  seek(hi: number, lo: number): boolean {
    const t = this.#table;
    const row = this.#row = t.firstEndingAbove(hi, lo);
    if (row >= t.count) return false;
    this.startHi = t.start.hi(row);
    this.startLo = t.start.lo(row);
    this.endHi = t.end.hi(row);
    this.endLo = t.end.lo(row);
    return true;
  }

  current(): Vma {
    return this.#table.vma(this.#row, true, undefined);
  }
}

/** What identifies row `row`'s file, for opening it. */
function fileOfRow(table: MapsTable, row: number): MappedFile {
  return {
    start: table.start.big[row],
    end: table.end.big[row],
    devMajor: table.devMajor[row],
    devMinor: table.devMinor[row],
    inode: table.inode.big[row],
    path: table.nameBytes(row),
  };
}

/**
 * Keeps a text that kept changing usable: a row that overlaps a later one
 * was read earlier and is stale, so it is dropped (never clipped into a VMA
 * that did not exist).
 */
function dropOverlapped(t: MapsTable): MapsTable {
  const keep: number[] = [];
  for (let i = 0; i < t.count; i++) {
    while (keep.length > 0) {
      const j = keep[keep.length - 1];
      const ph = t.end.hi(j), sh = t.start.hi(i);
      if (sh < ph || (sh === ph && t.start.lo(i) < t.end.lo(j))) keep.pop();
      else break;
    }
    keep.push(i);
  }
  t.compact(keep);
  t.ordered = true;
  return t;
}
