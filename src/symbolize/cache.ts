/**
 * A byte-bounded least-recently-used cache of modules' symbol tables,
 * shared by every handle that uses one Symbolizer.
 * @module
 */

/** Entries with their approximate sizes; the oldest go first when the total passes the bound. */
export class ByteLru<V> {
  readonly #map = new Map<string, { value: V; bytes: number }>();
  #bytes = 0;
  #max: number;

  constructor(maxBytes: number) {
    this.#max = maxBytes;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The bound. */
  get maxBytes(): number {
    return this.#max;
  }

  /** The entry (now the most recently used), or undefined. */
  get(key: string): V | undefined {
    const e = this.#map.get(key);
    if (!e) return undefined;
    this.#map.delete(key);
    this.#map.set(key, e);
    return e.value;
  }

  /** Stores an entry; one larger than the whole bound is not kept. */
  set(key: string, value: V, bytes: number): void {
    const old = this.#map.get(key);
    if (old) {
      this.#bytes -= old.bytes;
      this.#map.delete(key);
    }
    if (bytes > this.#max) return;
    this.#map.set(key, { value, bytes });
    this.#bytes += bytes;
    for (const [k, e] of this.#map) {
      if (this.#bytes <= this.#max) break;
      this.#map.delete(k);
      this.#bytes -= e.bytes;
    }
  }

  /** Drops everything. */
  clear(): void {
    this.#map.clear();
    this.#bytes = 0;
  }
}
