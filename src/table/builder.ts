/**
 * Fills a {@link VmaTable}'s columns row by row: from the ioctl's struct
 * (word copies, no bigints), from a parsed maps text, or from a Vma.
 * @module
 */
import { type VmaColumns, VmaTable } from "./vma_table.ts";
import { nameBytesOf, type Vma } from "../vma.ts";
import { HI, hiOf, LO, loOf } from "../util/bytes.ts";

/** Rows of a builder's first allocation. */
const INITIAL_ROWS = 256;

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
  #lastId = 0;

  constructor(withNames: boolean, withBuildIds: boolean, rows = INITIAL_ROWS) {
    rows = Math.max(16, rows);
    this.startWords = new Uint32Array(2 * rows);
    this.endWords = new Uint32Array(2 * rows);
    this.offsetWords = new Uint32Array(2 * rows);
    this.inodeWords = new Uint32Array(2 * rows);
    this.flags = new Uint8Array(rows);
    this.devMajor = new Uint32Array(rows);
    this.devMinor = new Uint32Array(rows);
    this.pageSize = new Float64Array(rows);
    if (withNames) {
      this.names = [];
      this.nameIndex = new Uint32Array(rows);
    }
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
    const rows = this.flags.length * 2;
    const grown = <T extends Uint8Array | Uint32Array | Float64Array>(a: T, n: number): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a);
      return b;
    };
    this.startWords = grown(this.startWords, 2 * rows);
    this.endWords = grown(this.endWords, 2 * rows);
    this.offsetWords = grown(this.offsetWords, 2 * rows);
    this.inodeWords = grown(this.inodeWords, 2 * rows);
    this.flags = grown(this.flags, rows);
    this.devMajor = grown(this.devMajor, rows);
    this.devMinor = grown(this.devMinor, rows);
    this.pageSize = grown(this.pageSize, rows);
    if (this.nameIndex) this.nameIndex = grown(this.nameIndex, rows);
  }

  /**
   * Sets row `i`'s name (de-duplicated: consecutive VMAs of one file share
   * it, so the last one is checked before the map). `raw`: the kernel's
   * bytes, for a name that is not UTF-8.
   */
  setName(i: number, name: string, raw: Uint8Array | undefined): void {
    let id: number;
    if (name === this.#lastName && raw === undefined) id = this.#lastId;
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
