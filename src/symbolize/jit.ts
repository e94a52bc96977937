/**
 * The JIT symbol sources of one process, kept by its handle: its
 * `perf-<pid>.map` (V8) and the jitdump file it maps (JavaScriptCore),
 * opened on first need and kept open so that each call reads only what was
 * appended. One that does not exist yet is tried again on the next call.
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import type { Pid } from "../options.ts";
import { JitDump } from "./jitdump.ts";
import { PerfMap } from "./perf_map.ts";
import type { SymbolTable } from "./types.ts";

/** A handle's JIT tables. */
export class JitSources {
  readonly #libc: Libc;
  readonly #pid: Pid;
  #perfMap: PerfMap | undefined;
  #jitDump: JitDump | undefined;

  constructor(libc: Libc, pid: Pid) {
    this.#libc = libc;
    this.#pid = pid;
  }

  /** The tables open now (trying to open missing ones), and why each missing one is missing. */
  tables(): { tables: SymbolTable[]; missing: string[] } {
    const missing: string[] = [];
    if (!this.#perfMap) {
      const m = PerfMap.open(this.#libc, this.#pid);
      if (m instanceof PerfMap) this.#perfMap = m;
      else missing.push(m.message);
    }
    if (!this.#jitDump) {
      const d = JitDump.open(this.#libc, this.#pid);
      if (d instanceof JitDump) this.#jitDump = d;
      else missing.push(d.message);
    }
    const tables: SymbolTable[] = [];
    if (this.#perfMap) tables.push(this.#perfMap);
    if (this.#jitDump) tables.push(this.#jitDump);
    return { tables, missing };
  }

  /** Closes the files. Idempotent. */
  close(): void {
    this.#perfMap?.close();
    this.#jitDump?.close();
    this.#perfMap = undefined;
    this.#jitDump = undefined;
  }
}
