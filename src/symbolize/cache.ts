/**
 * A byte-bounded least-recently-used cache of modules' symbol tables,
 * shared by every handle that uses one Symbolizer.
 * @module
 */

/**
 * Entries with their approximate sizes; the oldest go first when the total
 * passes the bound (an entry's `evict`, when it has one, runs as it goes).
 */
export class ByteLru<V> {
  readonly #map = new Map<string, { value: V; bytes: number; evict: (() => void) | undefined }>();
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

  /**
   * Stores an entry (replacing the one under `key`, whose `evict` does not
   * run); one larger than the whole bound is not kept, and its own `evict`
   * runs. `evict` runs when the entry is pushed out or cleared.
   */
  set(key: string, value: V, bytes: number, evict?: () => void): void {
    this.delete(key);
    if (bytes > this.#max) {
      evict?.();
      return;
    }
    this.#map.set(key, { value, bytes, evict });
    this.#bytes += bytes;
    for (const [k, e] of this.#map) {
      if (this.#bytes <= this.#max) break;
      this.#map.delete(k);
      this.#bytes -= e.bytes;
      e.evict?.();
    }
  }

  /**
   * Sets the size of the entry under `key` (it grew or shrank in place, as a
   * module's parsed units do), keeping its `evict`; older entries go as
   * `set` pushes them out, and the entry itself if it alone passes the bound.
   */
  resize(key: string, bytes: number): void {
    const e = this.#map.get(key);
    if (!e || e.bytes === bytes) return;
    this.#bytes += bytes - e.bytes;
    e.bytes = bytes;
    if (bytes > this.#max) {
      this.delete(key);
      e.evict?.();
      return;
    }
    for (const [k, o] of this.#map) {
      if (this.#bytes <= this.#max) break;
      if (k === key) continue;
      this.#map.delete(k);
      this.#bytes -= o.bytes;
      o.evict?.();
    }
  }

  /** Drops the entry under `key` without running its `evict`. */
  delete(key: string): void {
    const old = this.#map.get(key);
    if (old) {
      this.#bytes -= old.bytes;
      this.#map.delete(key);
    }
  }

  /** Drops the entries whose key `drop` accepts (running their `evict`). */
  deleteIf(drop: (key: string) => boolean): void {
    const evicts: (() => void)[] = [];
    for (const [k, e] of this.#map) {
      if (!drop(k)) continue;
      this.#map.delete(k);
      this.#bytes -= e.bytes;
      if (e.evict) evicts.push(e.evict);
    }
    for (const evict of evicts) evict();
  }

  /** Drops everything (running each entry's `evict`). */
  clear(): void {
    const evicts = [...this.#map.values()].map((e) => e.evict);
    this.#map.clear();
    this.#bytes = 0;
    for (const evict of evicts) evict?.();
  }
}
