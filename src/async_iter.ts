/**
 * A synchronous iterator served as an async one, for `for await`. Cheaper
 * than an async generator (one settled promise per item, no generator
 * hops), and it lets the event loop run every few milliseconds so that long
 * walks do not starve timers and abort signals.
 * @module
 */

/** How long an async iteration may run before it lets the event loop in (ms). */
const SLICE_MS = 8;

type Immediate = (fn: () => void) => unknown;
/** setImmediate, looked up on first use: in Deno reading the global loads its Node layer (~20 ms), not at import. */
let immediate: Immediate | null | undefined;

/**
 * Waits for one turn of the event loop, so that timers and I/O run:
 * setImmediate where there is one (Node, Bun, Deno 2), else a message on a
 * fresh channel. Not a zero-delay timer: nested ones are clamped to 4 ms.
 * (Bun runs channel messages before its timers, so they would not do there.)
 */
function nextTask(): Promise<void> {
  if (immediate === undefined) immediate = (globalThis as { setImmediate?: Immediate }).setImmediate ?? null;
  const run = immediate;
  if (run) return new Promise((resolve) => run(resolve));
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    // onmessage as the web defines it (@types/node 20 types Node's port as an EventEmitter only).
    (port1 as unknown as { onmessage: (() => void) | null }).onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** Async iteration over `source`; see the module docs. */
export class AsyncFromSync<T> implements AsyncIterableIterator<T> {
  readonly #source: Iterator<T>;
  readonly #signal: AbortSignal | undefined;
  #done = false;
  #count = 0;
  #sliceStart = performance.now();

  constructor(source: Iterator<T>, signal: AbortSignal | undefined) {
    this.#source = source;
    this.#signal = signal;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#done) return Promise.resolve(DONE);
    if ((++this.#count & 63) === 0 && performance.now() - this.#sliceStart > SLICE_MS) {
      return nextTask().then(() => {
        this.#sliceStart = performance.now();
        return this.#step();
      });
    }
    return this.#step();
  }

  #step(): Promise<IteratorResult<T, undefined>> {
    if (this.#done) return Promise.resolve(DONE);
    try {
      this.#signal?.throwIfAborted();
      const r = this.#source.next();
      if (r.done) {
        this.#done = true;
        this.#signal?.throwIfAborted();
        return Promise.resolve(DONE);
      }
      return Promise.resolve(r);
    } catch (e) {
      this.#finish();
      return Promise.reject(e);
    }
  }

  /** Called by `break`, `return` and `throw` in the loop: stops the source. */
  return(): Promise<IteratorResult<T, undefined>> {
    this.#finish();
    return Promise.resolve(DONE);
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#source.return?.();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
