/**
 * The iterator behind `vmasSync()` (and, wrapped, `vmas()`): a plain object
 * stepping a backend cursor, without generator frames on the hot path.
 * @module
 */
import type { Backend, Cursor } from "./backend.ts";
import type { Request } from "./request.ts";
import type { Vma } from "./vma.ts";

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** Iterates VMAs from `from` up to (not including those starting at or above) `to`. */
export class VmaIterator implements IterableIterator<Vma> {
  readonly #backend: () => Backend;
  readonly #from: bigint;
  readonly #to: bigint | undefined;
  readonly #request: Request;
  readonly #signal: AbortSignal | undefined;
  #cursor: Cursor | undefined;
  #done = false;

  /** `backend` returns the handle's backend, or throws when the handle is closed. */
  constructor(
    backend: () => Backend,
    from: bigint,
    to: bigint | undefined,
    request: Request,
    signal: AbortSignal | undefined,
  ) {
    this.#backend = backend;
    this.#signal = signal;
    this.#from = from;
    this.#to = to;
    this.#request = request;
  }

  next(): IteratorResult<Vma, undefined> {
    if (this.#done) return DONE;
    try {
      this.#signal?.throwIfAborted();
      const backend = this.#backend();
      // Started on the first step, like a generator: a text snapshot is read then.
      const cursor = this.#cursor ??= backend.cursor(this.#from, this.#request);
      const vma = cursor.next();
      if (vma !== null && (this.#to === undefined || vma.start < this.#to)) return { done: false, value: vma };
    } catch (e) {
      this.return();
      throw e;
    }
    return this.return();
  }

  /** Stops the iteration (`break` calls it), letting the cursor go. */
  return(): IteratorResult<Vma, undefined> {
    this.#done = true;
    this.#cursor?.close?.();
    this.#cursor = undefined;
    return DONE;
  }

  [Symbol.iterator](): IterableIterator<Vma> {
    return this;
  }
}

// Where the runtime has iterator helpers (Iterator.prototype.map, .filter,
// .toArray: Deno, Bun, Node 22+), give them to VmaIterator as generators have them.
const IteratorCtor = (globalThis as { Iterator?: { prototype: object } }).Iterator;
if (IteratorCtor) Object.setPrototypeOf(VmaIterator.prototype, IteratorCtor.prototype);
