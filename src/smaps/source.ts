/**
 * What a ProcMaps handle uses to answer smaps calls: reads through
 * read.ts, parses with parser.ts, and iterates.
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import { ProcMapsError } from "../errors.ts";
import type { Pid } from "../options.ts";
import { parseSmaps, SmapsParser, type SmapsTable, type SpareBuffers } from "./parser.ts";
import { emptyRollup } from "./entry.ts";
import { readSmapsText, smapsLineAt, streamSmaps } from "./read.ts";
import type { ProcessRef } from "../procfs/process.ts";
import type { SmapsEntry, SmapsRollup } from "./types.ts";

/** The rollup of a kernel thread. */
const KERNEL_THREAD_ROLLUP: SmapsRollup = emptyRollup();

/** Most a handle keeps in spare buffers between reads (bytes). */
const MAX_SPARE = 64 << 20;

/** smaps for one handle; `check` throws when the handle is closed (EBADF). */
export class SmapsSource {
  readonly #libc: Libc;
  readonly #pid: Pid;
  readonly #proc: ProcessRef;
  readonly #pageSize: number;
  /**
   * Buffers of the last smaps read that no iterator uses any more (entries
   * copy what they need): reused by the next read, so walking a large
   * process again allocates nothing large. Bounded by MAX_SPARE.
   */
  #spare: (SpareBuffers & { text: Uint8Array }) | undefined;
  /** Length of the last smaps text read, and of its maps lines. */
  #lastLength = 0;
  #lastHeadersLength = 0;

  constructor(libc: Libc, proc: ProcessRef, pageSize: number) {
    this.#libc = libc;
    this.#pid = proc.pid;
    this.#proc = proc;
    this.#pageSize = pageSize;
  }

  /** The whole smaps text, read now and parsed; give it back with {@link release} when done. */
  table(): SmapsTable {
    // A kernel thread has no user memory: its smaps is empty (the kernel's read says ESRCH), which is
    // not the thread having exited.
    if (this.#proc.kernelThread) return parseSmaps(new Uint8Array(0), 0, this.#pageSize, this.#pid);
    const spare = this.#spare;
    this.#spare = undefined;
    // Columns sized from the last text's length; the text itself is read and parsed a piece at a time.
    const libc = this.#libc, proc = this.#proc;
    const parser = new SmapsParser(
      this.#pageSize,
      this.#pid,
      (at) => smapsLineAt(libc, proc, at),
      spare,
      this.#lastLength,
      this.#lastHeadersLength,
    );
    const { buffer, length } = streamSmaps(libc, proc, parser, spare?.text);
    this.#lastLength = length;
    this.#lastHeadersLength = parser.headersLength;
    return parser.finish(buffer);
  }

  /** Takes back a table's buffers once nothing will read them again. */
  release(t: SmapsTable): void {
    const size = t.text.length + t.maps.text.length + t.values.byteLength;
    if (size <= MAX_SPARE) this.#spare = { text: t.text, headers: t.maps.text, values: t.values };
  }

  /** smaps_rollup, read now. */
  rollup(): SmapsRollup {
    // Nothing mapped, nothing summed: no figures (the kernel prints none), an empty range.
    if (this.#proc.kernelThread) return KERNEL_THREAD_ROLLUP;
    const r = readSmapsText(this.#libc, this.#proc, "smaps_rollup");
    const t = parseSmaps(r.bytes, r.length, this.#pageSize, this.#pid);
    if (t.count !== 1) {
      throw new ProcMapsError("EBADMSG", {
        pid: this.#pid,
        syscall: "parse",
        errno: 0,
        message: `smaps_rollup of ${this.#pid === "self" ? "this process" : `process ${this.#pid}`} has ` +
          `${t.count} header lines, not 1`,
      });
    }
    return t.rollup();
  }

  /** Entries in address order; the text is read at the first step. */
  entries(check: () => void, signal: AbortSignal | undefined): IterableIterator<SmapsEntry> {
    return new SmapsIterator(this, check, signal);
  }
}

class SmapsIterator implements IterableIterator<SmapsEntry> {
  readonly #source: SmapsSource;
  readonly #check: () => void;
  readonly #signal: AbortSignal | undefined;
  #table: SmapsTable | undefined;
  #row = 0;
  #done = false;

  constructor(source: SmapsSource, check: () => void, signal: AbortSignal | undefined) {
    this.#source = source;
    this.#check = check;
    this.#signal = signal;
  }

  next(): IteratorResult<SmapsEntry, undefined> {
    if (this.#done) return { done: true, value: undefined };
    try {
      this.#signal?.throwIfAborted();
      // A closed handle stops the walk, as the maps walks do.
      this.#check();
      const t = this.#table ??= this.#source.table();
      if (this.#row >= t.count) {
        this.#finish();
        return { done: true, value: undefined };
      }
      return { done: false, value: t.entry(this.#row++) };
    } catch (e) {
      this.#finish();
      throw e;
    }
  }

  return(): IteratorResult<SmapsEntry, undefined> {
    this.#finish();
    return { done: true, value: undefined };
  }

  #finish(): void {
    this.#done = true;
    const t = this.#table;
    this.#table = undefined;
    if (t !== undefined) this.#source.release(t);
  }

  [Symbol.iterator](): this {
    return this;
  }
}
