/**
 * The planner: per batch, ioctl queries or one text snapshot, by measured
 * costs (bench/RESULTS.md) and the batch's shape against the last snapshot.
 * @module
 */
import type { Backend, VmaIndex } from "../backend.ts";
import { ProcMapsError } from "../errors.ts";
import type { Pid, ResolveStrategy } from "../options.ts";
import type { Batch } from "./batch.ts";
import type { ResolvePlan } from "./types.ts";

/**
 * Costs measured on the reference machine (bench/RESULTS.md cases 1-4;
 * 2-core AMD EPYC VM, Linux 6.18, Deno 2.9 and Bun 1.4 alike), in
 * microseconds. Only their ratios matter: with them, the ioctl wins while a
 * batch needs fewer queries than about 3/4 of the process's VMAs.
 */
export const RESOLVE_COSTS = {
  /** One PROCMAP_QUERY with the name, from JS, with its Vma (case 1: 0.69-0.73). */
  ioctlQuery: 0.7,
  /** Reading one line of maps text (the kernel's part, case 2 C: 0.30) and parsing it (case 3: 0.065). */
  textPerVma: 0.37,
  /** Making the Vma of a text row the batch touches. */
  textPerTouchedVma: 0.2,
  /** Placing one sorted address in a text snapshot. */
  textPerAddress: 0.02,
  /**
   * With no snapshot to count against, the ioctl runs for at most this many
   * queries (about the cost of reading a 10,000-VMA text) before the rest of
   * the batch is read from text: never much worse than either alone.
   */
  blindQueryBudget: 4096,
} as const;

/** What the planner looks at. */
export interface PlanInputs {
  pid: Pid;
  /** The handle's own backend. */
  backend: Backend;
  /** The last text snapshot's index on this handle, if any. */
  index: VmaIndex | undefined;
}

/**
 * How many ioctl queries the batch would take against `index`: one per
 * distinct "VMA at or after the address", as the resolution loop seeks.
 * Binary search for few addresses, one merged pass for many.
 */
function countQueries(batch: Batch, index: VmaIndex): number {
  const { hi, lo } = batch;
  const n = hi.length;
  const binary = n * Math.log2(index.count + 1) < n + index.count;
  let queries = 0;
  let last = -1;
  let row = 0;
  for (let i = 0; i < n; i++) {
    row = binary ? index.firstEndingAbove(hi[i], lo[i]) : index.advancePast(row, hi[i], lo[i]);
    if (row !== last) {
      queries++;
      last = row;
    }
  }
  return queries;
}

/** Picks the strategy for a batch. */
export function planBatch(src: PlanInputs, batch: Batch, strategy: ResolveStrategy): ResolvePlan {
  const unique = batch.unique;
  const base = { uniqueAddresses: unique.length, knownVmas: undefined, estimatedQueries: undefined };
  if (strategy === "text") return { ...base, strategy: "text", queryBudget: 0, reason: "strategy text was asked for" };
  if (src.backend.kind !== "ioctl") {
    if (strategy === "ioctl") {
      throw new ProcMapsError("ENOTTY", {
        pid: src.pid,
        syscall: "resolve",
        message: `strategy "ioctl" needs a handle on the ioctl backend (this one reads the text: opened with ` +
          `backend "text", or PROCMAP_QUERY is missing here); use strategy "auto" or "text"`,
      });
    }
    return { ...base, strategy: "text", queryBudget: 0, reason: "this handle reads the text (no PROCMAP_QUERY)" };
  }
  if (strategy === "ioctl") {
    return { ...base, strategy: "ioctl", queryBudget: Infinity, reason: "strategy ioctl was asked for" };
  }
  const index = src.index;
  if (!index) {
    return {
      ...base,
      strategy: "ioctl",
      queryBudget: RESOLVE_COSTS.blindQueryBudget,
      reason:
        `the process's size is not known yet: ioctl for up to ${RESOLVE_COSTS.blindQueryBudget} queries, then text`,
    };
  }
  const queries = countQueries(batch, index);
  // A query touches one VMA, so the text strategy makes about as many Vmas.
  const ioctlCost = queries * RESOLVE_COSTS.ioctlQuery;
  const textCost = index.count * RESOLVE_COSTS.textPerVma + queries * RESOLVE_COSTS.textPerTouchedVma +
    unique.length * RESOLVE_COSTS.textPerAddress;
  const known = { ...base, knownVmas: index.count, estimatedQueries: queries };
  return ioctlCost <= textCost
    ? {
      ...known,
      strategy: "ioctl",
      // The snapshot may be stale: if the batch needs far more queries than counted, text is cheaper.
      queryBudget: Math.max(2 * queries, 64),
      reason: `about ${queries} queries (${ioctlCost.toFixed(0)} us) cost less than reading ${index.count} VMAs ` +
        `of text (${textCost.toFixed(0)} us)`,
    }
    : {
      ...known,
      strategy: "text",
      queryBudget: 0,
      reason: `reading ${index.count} VMAs of text (${textCost.toFixed(0)} us) costs less than about ${queries} ` +
        `queries (${ioctlCost.toFixed(0)} us)`,
    };
}
