/**
 * `struct procmap_query` as an ArrayBuffer with a DataView codec, plus the
 * name and build-ID buffers the kernel writes into. One per handle, reused
 * by every call, so a query allocates nothing but its result.
 * @module
 */
import { BUILD_ID_CAPACITY, OFF, PATH_MAX, QUERY_SIZE } from "./abi.ts";
import { TWO_32 } from "../util/bytes.ts";
import { NameCache, toHex } from "../util/names.ts";
import { setRawName, Vma } from "../vma.ts";
import { KERNEL_FLAGS, type Request, WANT_BUILD_ID, WANT_NAME } from "../backend.ts";

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

/** The query struct and its buffers. */
export class QueryStruct {
  /** The 104 bytes passed to ioctl. */
  readonly bytes: Uint8Array;
  /** Their address, for Libc.ioctlAt. */
  readonly address: bigint;
  readonly #view: DataView;
  readonly #le: boolean;
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

  constructor(addressOf: (buf: Uint8Array) => bigint, littleEndian: boolean, nameCapacity = INITIAL_NAME_CAPACITY) {
    this.bytes = kernelBuffer(QUERY_SIZE);
    this.address = addressOf(this.bytes);
    this.#view = new DataView(this.bytes.buffer);
    this.#le = littleEndian;
    this.#addressOf = addressOf;
    this.#name = kernelBuffer(Math.min(nameCapacity, PATH_MAX));
    this.#nameWords = new Int32Array(this.#name.buffer, 0, this.#name.length >> 2);
    this.#nameAddr = addressOf(this.#name);
    this.#buildId = kernelBuffer(BUILD_ID_CAPACITY);
    this.#buildIdAddr = addressOf(this.#buildId);
    this.#view.setBigUint64(OFF.size, BigInt(QUERY_SIZE), littleEndian);
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
    const v = this.#view;
    const le = this.#le;
    v.setBigUint64(OFF.queryAddr, addr, le);
    if (request === this.#written) {
      // Same request as before: the kernel only wrote back the sizes (output
      // fields), so only those need resetting.
      if (request & WANT_NAME) v.setUint32(OFF.vmaNameSize, this.#name.length, le);
      if (request & WANT_BUILD_ID) v.setUint32(OFF.buildIdSize, this.#buildId.length, le);
      return;
    }
    this.#written = request;
    // Flags fit in 32 bits; the high word is always 0.
    v.setUint32(le ? OFF.queryFlags : OFF.queryFlags + 4, request & KERNEL_FLAGS, le);
    v.setUint32(le ? OFF.queryFlags + 4 : OFF.queryFlags, 0, le);
    if (request & WANT_NAME) {
      v.setUint32(OFF.vmaNameSize, this.#name.length, le);
      v.setBigUint64(OFF.vmaNameAddr, this.#nameAddr, le);
    } else {
      v.setUint32(OFF.vmaNameSize, 0, le);
      v.setBigUint64(OFF.vmaNameAddr, 0n, le);
    }
    if (request & WANT_BUILD_ID) {
      v.setUint32(OFF.buildIdSize, this.#buildId.length, le);
      v.setBigUint64(OFF.buildIdAddr, this.#buildIdAddr, le);
    } else {
      v.setUint32(OFF.buildIdSize, 0, le);
      v.setBigUint64(OFF.buildIdAddr, 0n, le);
    }
  }

  #u64Number(off: number): number {
    const v = this.#view;
    return this.#le
      ? v.getUint32(off, true) + v.getUint32(off + 4, true) * TWO_32
      : v.getUint32(off + 4, false) + v.getUint32(off, false) * TWO_32;
  }

  /** A u64 field as bigint; zero (anonymous offset and inode) without allocating one. */
  #u64(off: number): bigint {
    const v = this.#view;
    if (v.getUint32(off, true) === 0 && v.getUint32(off + 4, true) === 0) return 0n;
    return v.getBigUint64(off, this.#le);
  }

  /** `vma_start` of the last successful query. */
  start(): bigint {
    return this.#view.getBigUint64(OFF.vmaStart, this.#le);
  }

  /** The last successful query's `vma_start` and `vma_end` as 32-bit halves, into `out` (no bigints). */
  bounds(out: Bounds): void {
    const v = this.#view;
    const le = this.#le;
    const lo = le ? 0 : 4, hi = le ? 4 : 0;
    out.startHi = v.getUint32(OFF.vmaStart + hi, le);
    out.startLo = v.getUint32(OFF.vmaStart + lo, le);
    out.endHi = v.getUint32(OFF.vmaEnd + hi, le);
    out.endLo = v.getUint32(OFF.vmaEnd + lo, le);
  }

  /** Builds the Vma the kernel just described. */
  decode(request: Request): Vma {
    const v = this.#view;
    const le = this.#le;
    let name: string | undefined;
    let lossy = false;
    let size = 0;
    if (request & WANT_NAME) {
      // The size includes the trailing NUL; 0 means the VMA has no name.
      size = Math.min(v.getUint32(OFF.vmaNameSize, le), this.#name.length);
      const inodeLow = v.getUint32(le ? OFF.inode : OFF.inode + 4, le);
      if (size > 0) {
        name = this.#names.get(this.#name, this.#nameWords, size - 1, inodeLow);
        lossy = this.#names.lastLossy;
      } else name = "";
    }
    let buildId: string | undefined;
    if (request & WANT_BUILD_ID) {
      const size = Math.min(v.getUint32(OFF.buildIdSize, le), this.#buildId.length);
      if (size > 0) buildId = toHex(this.#buildId, size);
    }
    const vma = new Vma(
      v.getBigUint64(OFF.vmaStart, le),
      v.getBigUint64(OFF.vmaEnd, le),
      this.#u64Number(OFF.vmaFlags),
      this.#u64(OFF.vmaOffset),
      v.getUint32(OFF.devMajor, le),
      v.getUint32(OFF.devMinor, le),
      this.#u64(OFF.inode),
      this.#u64Number(OFF.vmaPageSize),
      name,
      buildId,
    );
    if (lossy) setRawName(vma, this.#name.slice(0, size - 1));
    return vma;
  }
}
