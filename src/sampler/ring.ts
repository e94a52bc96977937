/**
 * A perf event's ring buffer, read in place: the metadata page's
 * `data_head` loaded (Atomics: one 64-bit load the engine does not move)
 * before any record is read, every record between our tail and that head
 * handed over (one that wraps past the end of the data area is copied into
 * a scratch buffer first), then `data_tail` stored after the last one
 * (Atomics again), which lets the kernel reuse the space. On x86_64 this is
 * the kernel's contract (load head, read barrier, read records, full
 * barrier, store tail): x86 never reorders loads with loads nor stores with
 * earlier loads, and the engine keeps Atomics operations in program order.
 * @module
 */
import type { PerfCalls } from "../../ffi/mod.ts";

/** `PROT_READ | PROT_WRITE`, `MAP_SHARED`. */
const PROT_RW = 3;
const MAP_SHARED = 1;
/** Byte offsets in `struct perf_event_mmap_page`. */
const DATA_HEAD = 1024;
const DATA_TAIL = 1032;
const DATA_OFFSET = 1040;
const DATA_SIZE = 1048;
/** The largest record the kernel writes (its size field is a u16). */
const MAX_RECORD = 65535;

/** Called for each record with a view holding it at `offset` (header included). */
export type RecordHandler = (type: number, misc: number, view: DataView, offset: number, size: number) => void;

/** The ring buffer of one event. */
export class Ring {
  readonly #perf: PerfCalls;
  readonly #address: bigint;
  readonly #length: number;
  readonly #meta: BigUint64Array;
  readonly #data: DataView;
  readonly #dataBytes: Uint8Array;
  readonly #size: number;
  readonly #scratch = new Uint8Array(MAX_RECORD + 8);
  readonly #scratchView = new DataView(this.#scratch.buffer);
  #tail: number;
  #closed = false;

  private constructor(perf: PerfCalls, address: bigint, length: number) {
    this.#perf = perf;
    this.#address = address;
    this.#length = length;
    const memory = perf.memory(address, length);
    this.#meta = new BigUint64Array(memory, 0, 4096 / 8);
    const header = new DataView(memory, 0, 4096);
    // Linux 4.1+ fills data_offset/data_size; before, data starts at the second page.
    const offset = Number(header.getBigUint64(DATA_OFFSET, true)) || 4096;
    const size = Number(header.getBigUint64(DATA_SIZE, true)) || length - 4096;
    this.#data = new DataView(memory, offset, size);
    this.#dataBytes = new Uint8Array(memory, offset, size);
    this.#size = size;
    this.#tail = Number(Atomics.load(this.#meta, DATA_TAIL / 8));
  }

  /**
   * Maps the ring of event `fd`: 1 + `pages` pages (`pages` a power of two).
   * Returns the ring, or -errno (EPERM when the locked-memory allowance,
   * `perf_event_mlock_kb`, is used up).
   */
  static map(perf: PerfCalls, fd: number, pages: number): Ring | number {
    const length = (pages + 1) * 4096;
    const address = perf.mmap(length, PROT_RW, MAP_SHARED, fd, 0);
    if (address < 0n) return Number(address);
    return new Ring(perf, address, length);
  }

  /** Bytes of the data area. */
  get size(): number {
    return this.#size;
  }

  /** Hands every record written since the last call to `handle`, then frees their space. Returns how many. */
  read(handle: RecordHandler): number {
    if (this.#closed) return 0;
    const head = Number(Atomics.load(this.#meta, DATA_HEAD / 8));
    let tail = this.#tail;
    let n = 0;
    const size = this.#size;
    while (tail < head) {
      const pos = tail % size;
      // Records are 8-byte aligned and the data area a multiple of 8: a header never wraps.
      const type = this.#data.getUint32(pos, true);
      const misc = this.#data.getUint16(pos + 4, true);
      const len = this.#data.getUint16(pos + 6, true);
      if (len < 8 || tail + len > head) {
        // A record the kernel cannot have written: drop the rest rather than loop.
        tail = head;
        break;
      }
      if (pos + len <= size) handle(type, misc, this.#data, pos, len);
      else {
        const first = size - pos;
        this.#scratch.set(this.#dataBytes.subarray(pos, size), 0);
        this.#scratch.set(this.#dataBytes.subarray(0, len - first), first);
        handle(type, misc, this.#scratchView, 0, len);
      }
      tail += len;
      n++;
    }
    this.#tail = tail;
    Atomics.store(this.#meta, DATA_TAIL / 8, BigInt(tail));
    return n;
  }

  /** Unmaps the ring. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#perf.munmap(this.#address, this.#length);
  }
}
