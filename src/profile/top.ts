/**
 * The top functions of a profile: self (the innermost frame of each sample,
 * an inlined function counting for itself) and total (every function on the
 * stack, once per sample), as `perf report --children` and pprof's `top`
 * show them.
 * @module
 */
import { framesOf } from "./frames.ts";
import type { AggregatedSample } from "./types.ts";

/** One function of {@link ProfileBuilder.topFunctions}. */
export interface TopFunction {
  /** The readable name, or `0x<address>` for an address nobody could name. */
  readonly name: string;
  /** The mapping's file (`[kernel.kallsyms]`, `[jit]`, a path), `""` when unmapped. */
  readonly module: string;
  /** The value of the samples whose innermost frame is in it. */
  readonly self: number;
  /** The value of the samples it is anywhere on the stack of. */
  readonly total: number;
}

/** Functions by self value (then total, then name), with the sum of the value over all samples. */
export function topFunctions(samples: readonly AggregatedSample[], index: number): {
  functions: TopFunction[];
  sum: number;
} {
  const rows = new Map<string, { name: string; module: string; self: number; total: number }>();
  const row = (name: string, module: string) => {
    const key = `${name}\0${module}`;
    let r = rows.get(key);
    if (!r) rows.set(key, r = { name, module, self: 0, total: 0 });
    return r;
  };
  let sum = 0;
  for (const s of samples) {
    const v = s.values[index];
    sum += v;
    if (s.locations.length === 0) continue;
    const leaf = framesOf(s.locations[0])[0];
    row(leaf.name, leaf.module).self += v;
    const seen = new Set<object>();
    for (const loc of s.locations) {
      for (const f of framesOf(loc)) {
        const r = row(f.name, f.module);
        if (seen.has(r)) continue;
        seen.add(r);
        r.total += v;
      }
    }
  }
  const functions = [...rows.values()].sort((a, b) =>
    b.self - a.self || b.total - a.total || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  );
  return { functions, sum };
}
