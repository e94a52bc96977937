/**
 * The JIT symbol sources of one process, kept by its handle: its
 * `perf-<pid>.map` (V8) and the jitdump file it maps (JavaScriptCore),
 * opened on first need and kept open so that each call reads only what was
 * appended. One that does not exist yet is tried again on the next call.
 *
 * Their memory counts against the bound of the Symbolizer a call uses (its
 * `maxCacheBytes`): they read no more than that, and they are an entry of
 * its cache, so other tables make room for them or they for others (an
 * evicted handle's tables are read again, from the start, when next
 * needed). With a bound of 0 nothing is kept across calls: they are read
 * for the call (within the default bound) and dropped after it.
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import { JitDump } from "./jitdump.ts";
import { type JitProcess, PerfMap } from "./perf_map.ts";
import type { SymbolTable } from "./types.ts";

/** What a call's Symbolizer offers the JIT tables: its bound, and an entry in its cache. */
export interface JitBudget {
  /** The cache's bound in bytes. */
  readonly maxCacheBytes: number;
  /** Counts `bytes` under `key` (replacing what was counted there); `evict` runs if the cache drops it. */
  charge(key: string, bytes: number, evict: () => void): void;
  /** Stops counting `key` (without running its `evict`). */
  release(key: string): void;
}

/** Bytes the tables may hold while a call with a zero bound reads them (the default bound). */
const UNCACHED_BYTES = 128 << 20;
let nextKey = 0;

/** A handle's JIT tables. */
export class JitSources {
  readonly #libc: Libc;
  readonly #proc: JitProcess;
  #perfMap: PerfMap | undefined;
  #jitDump: JitDump | undefined;
  readonly #key = `jit:${nextKey++}`;
  /** The budget the tables are counted in, and the bound they were read under. */
  #budget: JitBudget | undefined;
  #bound = -1;

  constructor(libc: Libc, proc: JitProcess) {
    this.#libc = libc;
    this.#proc = proc;
  }

  /**
   * The tables for one call (opening missing ones; each may read what was
   * appended once during the call), and why each missing one is missing.
   * Call {@link end} when the call is done.
   */
  begin(budget: JitBudget): { tables: SymbolTable[]; missing: string[] } {
    const bound = budget.maxCacheBytes > 0 ? budget.maxCacheBytes : UNCACHED_BYTES;
    if (budget !== this.#budget || bound !== this.#bound) {
      // Counted elsewhere, or read under another bound: start over under this one.
      this.#budget?.release(this.#key);
      this.#drop();
      this.#budget = budget;
      this.#bound = bound;
    }
    const missing: string[] = [];
    const limits = { maxTableBytes: bound };
    if (!this.#perfMap) {
      const m = PerfMap.open(this.#libc, this.#proc, limits);
      if (m instanceof PerfMap) this.#perfMap = m;
      else missing.push(m.message);
    }
    if (!this.#jitDump) {
      const d = JitDump.open(this.#libc, this.#proc, limits);
      if (d instanceof JitDump) this.#jitDump = d;
      else missing.push(d.message);
    }
    const tables: SymbolTable[] = [];
    if (this.#perfMap) tables.push(this.#perfMap), this.#perfMap.rearm();
    if (this.#jitDump) tables.push(this.#jitDump), this.#jitDump.rearm();
    return { tables, missing };
  }

  /** After a call: counts what the tables hold now, or (with a zero bound) drops them. */
  end(): void {
    const budget = this.#budget;
    if (!budget) return;
    if (budget.maxCacheBytes === 0) {
      this.#drop();
      return;
    }
    const bytes = (this.#perfMap?.byteSize ?? 0) + (this.#jitDump?.byteSize ?? 0);
    if (bytes > 0) budget.charge(this.#key, bytes, () => this.#drop());
  }

  /** Why lookups stopped reading a table early (a limit), for messages; undefined when none did. */
  limited(): string | undefined {
    const m = this.#perfMap?.limitReached, d = this.#jitDump?.stopped;
    const parts = [m && `perf map: ${m}`, d && `jitdump: ${d}`].filter(Boolean);
    return parts.length ? parts.join("; ") : undefined;
  }

  #drop(): void {
    this.#perfMap?.close();
    this.#jitDump?.close();
    this.#perfMap = undefined;
    this.#jitDump = undefined;
  }

  /** Closes the files and stops counting them. Idempotent. */
  close(): void {
    this.#budget?.release(this.#key);
    this.#budget = undefined;
    this.#drop();
  }
}
