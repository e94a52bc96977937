/**
 * The process handles a profile builder names addresses through: one per
 * process, opened on its first batch and kept (bounded, least recently used
 * closed first) so that a JIT process's perf map is read incrementally; a
 * process that is gone is remembered as gone.
 * @module
 */
import { ProcMaps } from "../procmaps.ts";
import { ProcMapsError } from "../errors.ts";

/** Why a process cannot be read any more. */
export interface Gone {
  /** The ProcMapsError code (`ESRCH`, `EACCES`, ...). */
  code: string;
  message: string;
}

/** Open handles by pid, at most `max` of them. */
export class ProcessHandles implements Disposable {
  readonly #open = new Map<number, ProcMaps>();
  readonly #gone = new Map<number, Gone>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** Why `pid` cannot be read, or undefined while it can (as far as is known). */
  gone(pid: number): Gone | undefined {
    return this.#gone.get(pid);
  }

  /**
   * Runs `use` with the handle of `pid` (opened if needed; after `exec`,
   * reopened once on the new program). Returns undefined, and remembers
   * why, when the process is gone or may not be read.
   */
  with<T>(pid: number, use: (maps: ProcMaps) => T): T | undefined {
    if (this.#gone.has(pid)) return undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      let maps = this.#open.get(pid);
      try {
        if (maps) {
          this.#open.delete(pid); // re-inserted below: most recently used last
        } else {
          maps = ProcMaps.open(pid);
        }
        this.#open.set(pid, maps);
        this.#evict();
        return use(maps);
      } catch (e) {
        if (!(e instanceof ProcMapsError)) throw e;
        this.#drop(pid);
        if (e.code === "ESRCH" && e.reason === "exec" && attempt === 0) continue;
        if (e.code === "EMFILE" || e.code === "ENFILE" || e.code === "ENOMEM") throw e;
        this.#gone.set(pid, { code: e.code, message: e.message });
        return undefined;
      }
    }
    return undefined;
  }

  #drop(pid: number): void {
    this.#open.get(pid)?.close();
    this.#open.delete(pid);
  }

  #evict(): void {
    while (this.#open.size > this.#max) {
      const [pid] = this.#open.keys();
      this.#drop(pid);
    }
  }

  /** Closes every handle. Idempotent. */
  close(): void {
    for (const maps of this.#open.values()) maps.close();
    this.#open.clear();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
