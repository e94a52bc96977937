/**
 * `struct procmap_query` as an ArrayBuffer with a DataView codec, plus the
 * name and build-ID buffers the kernel writes into. One per handle, reused
 * by every call, so a query allocates nothing but its result.
 * @module
 */
import { BUILD_ID_CAPACITY, OFF, PATH_MAX, QUERY_SIZE } from "./abi.ts";
import { HI, LO, nativeLittleEndian, TWO_32 } from "../util/bytes.ts";
import { NameCache, toHex } from "../util/names.ts";
import { setRawName, Vma } from "../vma.ts";
import { KERNEL_FLAGS, type Request, WANT_BUILD_ID, WANT_NAME } from "../request.ts";
import type { TableBuilder } from "../table/builder.ts";

/** A VMA's start and end as 32-bit halves. */
export interface Bounds {
  startHi: number;
  startLo: number;
  endHi: number;
  endLo: number;
}

/** The first name buffer; names that do not fit get a PATH_MAX one. */
export const INITIAL_NAME_CAPACITY = 256;

/**
 * A buffer whose address the kernel is given. Built on an explicit
 * ArrayBuffer: small typed arrays created by length may keep their bytes in
 * the garbage-collected heap (JavaScriptCore does), where an address taken
 * once is not guaranteed to stay valid.
 */
function kernelBuffer(size: number): Uint8Array {
  return new Uint8Array(new ArrayBuffer(size));
}

// The kernel writes the struct in the CPU's byte order. 64-bit fields go
// through the DataView (in JavaScriptCore a BigUint64Array element costs
// twice a getBigUint64); 32-bit ones through a Uint32Array (cheapest in
// both engines), indexed here.
const U32 = {
  vmaStartLo: OFF.vmaStart / 4 + LO,
  vmaStartHi: OFF.vmaStart / 4 + HI,
  vmaEndLo: OFF.vmaEnd / 4 + LO,
  vmaEndHi: OFF.vmaEnd / 4 + HI,
  vmaOffsetLo: OFF.vmaOffset / 4 + LO,
  vmaOffsetHi: OFF.vmaOffset / 4 + HI,
  inodeLo: OFF.inode / 4 + LO,
  inodeHi: OFF.inode / 4 + HI,
  queryAddrLo: OFF.queryAddr / 4 + LO,
  queryAddrHi: OFF.queryAddr / 4 + HI,
  vmaFlags: OFF.vmaFlags / 4 + LO,
  vmaPageSizeLo: OFF.vmaPageSize / 4 + LO,
  vmaPageSizeHi: OFF.vmaPageSize / 4 + HI,
  devMajor: OFF.devMajor / 4,
  devMinor: OFF.devMinor / 4,
  vmaNameSize: OFF.vmaNameSize / 4,
  buildIdSize: OFF.buildIdSize / 4,
} as const;

/** The query struct and its buffers. */
export class QueryStruct {
  /** The 104 bytes passed to ioctl. */
  readonly bytes: Uint8Array;
  /** Their address, for Libc.ioctlAt. */
  readonly address: bigint;
  readonly #view: DataView;
  /** The struct as 32-bit words. */
  readonly #u32: Uint32Array;
  #name: Uint8Array;
  /** The name buffer as 32-bit words, for the name cache's comparisons. */
  #nameWords: Int32Array;
  #nameAddr: bigint;
  readonly #names = new NameCache();
  readonly #buildId: Uint8Array;
  readonly #buildIdAddr: bigint;
  readonly #addressOf: (buf: Uint8Array) => bigint;
  /** The request the struct's input fields were last fully written for (-1: none). */
  #written = -1;

  constructor(addressOf: (buf: Uint8Array) => bigint, nameCapacity = INITIAL_NAME_CAPACITY) {
    this.bytes = kernelBuffer(QUERY_SIZE);
    this.address = addressOf(this.bytes);
    this.#view = new DataView(this.bytes.buffer);
    this.#u32 = new Uint32Array(this.bytes.buffer);
    this.#addressOf = addressOf;
    this.#name = kernelBuffer(Math.min(nameCapacity, PATH_MAX));
    this.#nameWords = new Int32Array(this.#name.buffer, 0, this.#name.length >> 2);
    this.#nameAddr = addressOf(this.#name);
    this.#buildId = kernelBuffer(BUILD_ID_CAPACITY);
    this.#buildIdAddr = addressOf(this.#buildId);
    this.#view.setBigUint64(OFF.size, BigInt(QUERY_SIZE), nativeLittleEndian);
  }

  /** Capacity of the name buffer in bytes. */
  get nameCapacity(): number {
    return this.#name.length;
  }

  /**
   * Replaces the name buffer with a PATH_MAX one (the kernel's cap).
   * Returns false when it already is that large.
   */
  growName(): boolean {
    if (this.#name.length >= PATH_MAX) return false;
    this.#name = kernelBuffer(PATH_MAX);
    this.#nameWords = new Int32Array(this.#name.buffer);
    this.#nameAddr = this.#addressOf(this.#name);
    this.#written = -1;
    return true;
  }

  /**
   * Fills in the input fields. Capacities told to the kernel are exactly the
   * buffers' lengths, never more.
   */
  prepare(addr: bigint, request: Request): void {
    this.#view.setBigUint64(OFF.queryAddr, addr, nativeLittleEndian);
    this.#setRequest(request);
  }

  /** As {@link prepare}, with the address as 32-bit halves (no bigint). */
  prepareAt(hi: number, lo: number, request: Request): void {
    const u32 = this.#u32;
    u32[U32.queryAddrLo] = lo;
    u32[U32.queryAddrHi] = hi;
    this.#setRequest(request);
  }

  /**
   * Prepares the next step of a walk: the query address becomes the last
   * VMA's end, copied word by word (no bigint).
   */
  prepareAfterLast(request: Request): void {
    const u32 = this.#u32;
    u32[U32.queryAddrLo] = u32[U32.vmaEndLo];
    u32[U32.queryAddrHi] = u32[U32.vmaEndHi];
    this.#setRequest(request);
  }

  /** Capacities to tell the kernel for the request last written (0: not asked for). */
  #nameSizeIn = 0;
  #buildIdSizeIn = 0;

  // Small on purpose (the engines inline it into every query): the kernel
  // only writes back the sizes, so a repeated request resets just those.
  #setRequest(request: Request): void {
    if (request !== this.#written) this.#writeRequest(request);
    const u32 = this.#u32;
    u32[U32.vmaNameSize] = this.#nameSizeIn;
    u32[U32.buildIdSize] = this.#buildIdSizeIn;
  }

  #writeRequest(request: Request): void {
    this.#written = request;
    const u32 = this.#u32;
    const v = this.#view;
    const le = nativeLittleEndian;
    // Flags fit in 32 bits; the high word is always 0.
    u32[OFF.queryFlags / 4 + LO] = request & KERNEL_FLAGS;
    u32[OFF.queryFlags / 4 + HI] = 0;
    const name = (request & WANT_NAME) !== 0, buildId = (request & WANT_BUILD_ID) !== 0;
    this.#nameSizeIn = name ? this.#name.length : 0;
    v.setBigUint64(OFF.vmaNameAddr, name ? this.#nameAddr : 0n, le);
    this.#buildIdSizeIn = buildId ? this.#buildId.length : 0;
    v.setBigUint64(OFF.buildIdAddr, buildId ? this.#buildIdAddr : 0n, le);
  }

  /** The query address last prepared. */
  queryAddr(): bigint {
    return this.#view.getBigUint64(OFF.queryAddr, nativeLittleEndian);
  }

  /** True when the last successful query's VMA starts at or above the address `hi:lo`. */
  startsAtOrAbove(hi: number, lo: number): boolean {
    const u32 = this.#u32;
    const sh = u32[U32.vmaStartHi];
    return sh > hi || (sh === hi && u32[U32.vmaStartLo] >= lo);
  }

  /** Appends the VMA the kernel just described to `b` as a row (words copied, no bigints). */
  appendTo(b: TableBuilder, request: Request): void {
    const u32 = this.#u32;
    const i = b.row();
    const i2 = 2 * i;
    // Word pairs copied as they are: both sides are in native order.
    let w = b.startWords;
    w[i2] = u32[OFF.vmaStart / 4];
    w[i2 + 1] = u32[OFF.vmaStart / 4 + 1];
    w = b.endWords;
    w[i2] = u32[OFF.vmaEnd / 4];
    w[i2 + 1] = u32[OFF.vmaEnd / 4 + 1];
    w = b.offsetWords;
    w[i2] = u32[OFF.vmaOffset / 4];
    w[i2 + 1] = u32[OFF.vmaOffset / 4 + 1];
    w = b.inodeWords;
    w[i2] = u32[OFF.inode / 4];
    w[i2 + 1] = u32[OFF.inode / 4 + 1];
    b.flags[i] = u32[U32.vmaFlags] & 15;
    b.devMajor[i] = u32[U32.devMajor];
    b.devMinor[i] = u32[U32.devMinor];
    b.pageSize[i] = u32[U32.vmaPageSizeLo] + u32[U32.vmaPageSizeHi] * TWO_32;
    if (request & WANT_NAME) {
      const size = Math.min(u32[U32.vmaNameSize], this.#name.length);
      if (size > 0) {
        const name = this.#names.get(this.#name, this.#nameWords, size - 1, u32[U32.inodeLo]);
        b.setName(i, name, this.#names.lastLossy ? this.#name.slice(0, size - 1) : undefined);
      } else b.setName(i, "", undefined);
    }
  }

  /** `vma_start` of the last successful query. */
  start(): bigint {
    return this.#view.getBigUint64(OFF.vmaStart, nativeLittleEndian);
  }

  /** The last successful query's `vma_start` and `vma_end` as 32-bit halves, into `out` (no bigints). */
  bounds(out: Bounds): void {
    const w = this.#u32;
    out.startHi = w[U32.vmaStartHi];
    out.startLo = w[U32.vmaStartLo];
    out.endHi = w[U32.vmaEndHi];
    out.endLo = w[U32.vmaEndLo];
  }

  /** Builds the Vma the kernel just described. */
  decode(request: Request): Vma {
    // Without a name or build ID, a plain constructor call: the branches and
    // calls for them cost a query without them some 50 ns in V8.
    return request & (WANT_NAME | WANT_BUILD_ID) ? this.#decodeWith(request) : this.#vma(undefined, undefined);
  }

  #decodeWith(request: Request): Vma {
    const name = request & WANT_NAME ? this.#decodeName() : undefined;
    const buildId = request & WANT_BUILD_ID ? this.#decodeBuildId() : undefined;
    const vma = this.#vma(name, buildId);
    if (this.#lossy) this.#keepRawName(vma);
    return vma;
  }

  #vma(name: string | undefined, buildId: string | undefined): Vma {
    const u32 = this.#u32;
    const v = this.#view;
    const le = nativeLittleEndian;
    // Zero offsets and inodes (anonymous memory) without allocating a bigint.
    return new Vma(
      v.getBigUint64(OFF.vmaStart, le),
      v.getBigUint64(OFF.vmaEnd, le),
      u32[U32.vmaFlags],
      (u32[U32.vmaOffsetLo] | u32[U32.vmaOffsetHi]) === 0 ? 0n : v.getBigUint64(OFF.vmaOffset, le),
      u32[U32.devMajor],
      u32[U32.devMinor],
      (u32[U32.inodeLo] | u32[U32.inodeHi]) === 0 ? 0n : v.getBigUint64(OFF.inode, le),
      u32[U32.vmaPageSizeLo] + u32[U32.vmaPageSizeHi] * TWO_32,
      name,
      buildId,
    );
  }

  #keepRawName(vma: Vma): void {
    this.#lossy = false;
    setRawName(vma, this.#name.slice(0, Math.min(this.#u32[U32.vmaNameSize], this.#name.length) - 1));
  }

  /** Set by #decodeName() when the name is not UTF-8 (decode() then keeps its bytes). */
  #lossy = false;

  #decodeName(): string {
    const u32 = this.#u32;
    // The size includes the trailing NUL; 0 means the VMA has no name.
    const size = Math.min(u32[U32.vmaNameSize], this.#name.length);
    if (size === 0) return "";
    const name = this.#names.get(this.#name, this.#nameWords, size - 1, u32[U32.inodeLo]);
    this.#lossy = this.#names.lastLossy;
    return name;
  }

  #decodeBuildId(): string | undefined {
    const size = Math.min(this.#u32[U32.buildIdSize], this.#buildId.length);
    return size > 0 ? toHex(this.#buildId, size) : undefined;
  }
}
