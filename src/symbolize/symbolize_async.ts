/**
 * `ProcMaps.symbolizeAsync()`: `symbolize()` after fetching, from
 * debuginfod, the debug files of the batch's modules that have none
 * locally. The batch is symbolized once (which says which build IDs want a
 * debug file), the missing files are fetched in parallel, and the batch is
 * symbolized again when any arrived: the answers are the synchronous
 * form's, with the files at hand.
 * @module
 */
import type { Symbolized } from "./result.ts";
import { symbolizeBatch, type SymbolizeOptions, type SymbolizeSources } from "./symbolize.ts";
import { Symbolizer } from "./symbolizer.ts";
import {
  type DebuginfodReport,
  fetchAll,
  type FetchOptions,
  reportOf,
  splitFetchOptions,
  withReport,
} from "./fetching.ts";

/** Options for {@link ProcMaps.symbolizeAsync}: those of `symbolize()`, a signal and a progress callback. */
export interface SymbolizeAsyncOptions extends SymbolizeOptions, FetchOptions {}

/** One address of {@link ProcMaps.symbolizeAsync}: what `symbolize()` gives, and what debuginfod did for its module. */
export interface SymbolizedAsync extends Symbolized {
  /**
   * What was done to get the module's debug file from debuginfod; undefined
   * when nothing was asked (the module had its symbols or a local debug
   * file, it has no build ID, or no server is configured).
   */
  readonly debuginfod: DebuginfodReport | undefined;
}

/** Symbolizes a batch, fetching missing debug files first; see ProcMaps.symbolizeAsync. */
export async function symbolizeBatchAsync(
  src: SymbolizeSources,
  addrs: unknown,
  opts: unknown,
): Promise<(SymbolizedAsync | null)[]> {
  const { fetch, rest } = splitFetchOptions(opts, "symbolizeAsync");
  fetch.signal?.throwIfAborted();
  // An iterator can be read once: kept, for the second pass.
  const list =
    addrs !== null && typeof addrs === "object" && !Array.isArray(addrs) && !(addrs instanceof BigUint64Array) &&
      typeof (addrs as Iterable<unknown>)[Symbol.iterator] === "function"
      ? [...(addrs as Iterable<unknown>)]
      : addrs;
  const given = (rest as { symbolizer?: unknown } | undefined)?.symbolizer;
  const symbolizer = given instanceof Symbolizer ? given : src.symbolizer();
  const wanted = new Set<string>();
  const fetching = (symbolizer.debuginfodConfig()?.urls.length ?? 0) > 0;
  let results = symbolizeBatch(src, list, rest, fetching ? wanted : undefined);
  const outcomes = await fetchAll(symbolizer, wanted, "debuginfo", fetch);
  if ([...outcomes.values()].some((o) => o.status === "downloaded")) results = symbolizeBatch(src, list, rest);
  // Equal addresses share one result object: so do their completed results.
  const done = new Map<Symbolized, SymbolizedAsync>();
  return results.map((r) => {
    if (r === null) return null;
    let a = done.get(r);
    if (!a) {
      a = withReport(r, r.buildId ? reportOf(outcomes.get(r.buildId)) : undefined);
      done.set(r, a);
    }
    return a;
  });
}

export type { DebuginfodReport };
