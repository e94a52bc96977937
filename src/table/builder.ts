/**
 * Fills a {@link VmaTable}'s columns row by row: from the ioctl's struct
 * (word copies, no bigints), from a parsed maps text, or from a Vma.
 * @module
 */
import { type VmaColumns, VmaTable } from "./vma_table.ts";
import { nameBytesOf, type Vma } from "../vma.ts";
import { HI, hiOf, LO, loOf } from "../util/bytes.ts";
import { Columns } from "../util/columns.ts";

/** Rows of a builder's first allocation. */
const INITIAL_ROWS = 256;

/** Room for a table's columns, in the order the builder takes them. */
function columns(rows: number, withNames: boolean): Columns {
  return new Columns(rows, 4, 1, withNames ? 3 : 2, 1);
}

/** A table being filled; `row()` reserves the next row, the setters fill it. */
export class TableBuilder implements VmaColumns {
  length = 0;
  startWords: Uint32Array;
  endWords: Uint32Array;
  offsetWords: Uint32Array;
  inodeWords: Uint32Array;
  flags: Uint8Array;
  devMajor: Uint32Array;
  devMinor: Uint32Array;
  pageSize: Float64Array;
  names: string[] | undefined;
  nameIndex: Uint32Array | undefined;
  readonly rawNames = new Map<number, Uint8Array>();
  buildIds: (string | undefined)[] | undefined;
  readonly #ids = new Map<string, number>();
  #lastName: string | undefined;
  #emptyId = -1;
  #lastId = 0;

  constructor(withNames: boolean, withBuildIds: boolean, rows = INITIAL_ROWS) {
    const c = columns(Math.max(16, rows), withNames);
    this.startWords = c.u64();
    this.endWords = c.u64();
    this.offsetWords = c.u64();
    this.inodeWords = c.u64();
    this.pageSize = c.f64();
    this.devMajor = c.u32();
    this.devMinor = c.u32();
    if (withNames) {
      this.names = [];
      this.nameIndex = c.u32();
    }
    this.flags = c.u8();
    if (withBuildIds) this.buildIds = [];
  }

  /** Reserves the next row (growing the columns when full) and returns its index. */
  row(): number {
    const i = this.length;
    if (i === this.flags.length) this.#grow();
    this.length = i + 1;
    return i;
  }

  #grow(): void {
    const c = columns(this.flags.length * 2, this.nameIndex !== undefined);
    const moved = <T extends Uint8Array | Uint32Array | Float64Array>(from: T, to: T): T => (to.set(from), to);
    this.startWords = moved(this.startWords, c.u64());
    this.endWords = moved(this.endWords, c.u64());
    this.offsetWords = moved(this.offsetWords, c.u64());
    this.inodeWords = moved(this.inodeWords, c.u64());
    this.pageSize = moved(this.pageSize, c.f64());
    this.devMajor = moved(this.devMajor, c.u32());
    this.devMinor = moved(this.devMinor, c.u32());
    if (this.nameIndex) this.nameIndex = moved(this.nameIndex, c.u32());
    this.flags = moved(this.flags, c.u8());
  }

  /**
   * Sets row `i`'s name (de-duplicated: consecutive VMAs of one file share
   * it, so the last one is checked before the map). `raw`: the kernel's
   * bytes, for a name that is not UTF-8.
   */
  setName(i: number, name: string, raw: Uint8Array | undefined): void {
    let id: number;
    if (name === "") {
      // Most VMAs have no name, between the files': one id kept aside, no lookup.
      id = this.#emptyId;
      if (id < 0) id = this.#emptyId = this.names!.push("") - 1;
    } else if (name === this.#lastName && raw === undefined) id = this.#lastId;
    else {
      const known = this.#ids.get(name);
      // Two different byte strings can decode to the same lossy name: keep them apart.
      if (known !== undefined && raw === undefined && !this.rawNames.has(known)) id = known;
      else {
        id = this.names!.length;
        this.names!.push(name);
        if (raw === undefined) this.#ids.set(name, id);
        else this.rawNames.set(id, raw);
      }
      this.#lastName = raw === undefined ? name : undefined;
      this.#lastId = id;
    }
    this.nameIndex![i] = id;
  }

  /** Sets row `i`'s build ID. */
  setBuildId(i: number, id: string | undefined): void {
    this.buildIds![i] = id;
  }

  /** Appends `vma` as a row (the rare rows no fast path fills: the gate area, names longer than PATH_MAX). */
  appendVma(vma: Vma): void {
    const i = this.row();
    setWords(this.startWords, i, vma.start);
    setWords(this.endWords, i, vma.end);
    setWords(this.offsetWords, i, vma.offset);
    setWords(this.inodeWords, i, vma.inode);
    this.flags[i] = vma.flags;
    this.devMajor[i] = vma.devMajor;
    this.devMinor[i] = vma.devMinor;
    this.pageSize[i] = vma.pageSize;
    if (this.names) {
      const name = vma.name ?? "";
      this.setName(i, name, name.includes("\uFFFD") ? nameBytesOf(vma) : undefined);
    }
    if (this.buildIds) this.buildIds[i] = vma.buildId;
  }

  /** The finished table. */
  finish(): VmaTable {
    return new VmaTable(this);
  }
}

function setWords(words: Uint32Array, i: number, v: bigint): void {
  words[2 * i + HI] = hiOf(v);
  words[2 * i + LO] = loOf(v);
}
