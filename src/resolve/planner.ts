/**
 * The planner: per batch, ioctl queries or one text snapshot, by what a
 * query and a text read cost on this machine (measured: costs.ts) and the
 * batch's shape against the last snapshot.
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import type { Backend, VmaIndex } from "../backend.ts";
import { ProcMapsError } from "../errors.ts";
import { HI, LO } from "../util/bytes.ts";
import type { Pid, ResolveStrategy } from "../options.ts";
import type { Batch } from "./batch.ts";
import { type ResolveCosts, resolveCosts } from "./costs.ts";
import { Plan, type ResolvePlan } from "./types.ts";

/**
 * With no snapshot to count against, the ioctl runs for at most as many
 * queries as reading a text of this many VMAs costs, then the rest of the
 * batch is read from text: never much worse than either alone.
 */
const BLIND_VMAS = 10_000;
/** Share of the cheaper strategy's cost the planner may spend counting queries against the snapshot. */
const COUNTING_SHARE = 0.02;
/** Counting one address against the snapshot (a binary search), in ns: a generous figure. */
const COUNT_NS = 30;

/** What the planner looks at. */
export interface PlanInputs {
  pid: Pid;
  /** The handle's own backend. */
  backend: Backend;
  /** The last text snapshot's index on this handle, if any. */
  index: VmaIndex | undefined;
  /** The binding, whose costs are measured. */
  libc: Libc;
}

const us = (ns: number) => `${(ns / 1000).toFixed(ns < 10_000 ? 1 : 0)} us`;

/** What the costs say, for the plan's reason. */
function costsText(c: ResolveCosts): string {
  const how = c.source === "measured"
    ? `measured here on a ${c.measuredVmas}-VMA map`
    : "defaults: nothing could be measured";
  return `a query ${us(c.queryNs)}, text ${(c.textPerVmaNs / 1000).toFixed(3)} us per VMA and ` +
    `${us(c.textFixedNs)} per read (${how})`;
}

/**
 * Distinct rows of `index` the first `m` distinct addresses land in (the
 * queries they take: one per "VMA at or after the address"), stopping once
 * there are more than `stop`.
 */
function countQueries(batch: Batch, index: VmaIndex, m: number, stop: number): number {
  const words = batch.addrWords;
  const seen = new Uint8Array(index.count + 1);
  let queries = 0;
  for (let i = 0; i < m && queries <= stop; i++) {
    const row = index.firstEndingAbove(words[2 * i + HI], words[2 * i + LO]);
    if (seen[row] === 0) {
      seen[row] = 1;
      queries++;
    }
  }
  return queries;
}

/** Picks the strategy for a batch. */
export function planBatch(src: PlanInputs, batch: Batch, strategy: ResolveStrategy): ResolvePlan {
  const u = batch.count;
  const base = { uniqueAddresses: u, knownVmas: undefined, estimatedQueries: undefined, costs: undefined };
  if (strategy === "text") {
    return new Plan({ ...base, strategy: "text", queryBudget: 0 }, "strategy text was asked for");
  }
  if (src.backend.kind !== "ioctl") {
    if (strategy === "ioctl") {
      throw new ProcMapsError("ENOTTY", {
        pid: src.pid,
        syscall: "resolve",
        message: `strategy "ioctl" needs a handle on the ioctl backend (this one reads the text: opened with ` +
          `backend "text", or PROCMAP_QUERY is missing here); use strategy "auto" or "text"`,
      });
    }
    return new Plan({ ...base, strategy: "text", queryBudget: 0 }, "this handle reads the text (no PROCMAP_QUERY)");
  }
  if (strategy === "ioctl") {
    return new Plan({ ...base, strategy: "ioctl", queryBudget: Infinity }, "strategy ioctl was asked for");
  }
  const index = src.index;
  if (!index) {
    // A budget only matters to a batch that could exceed it: a small one needs no costs.
    if (u <= 64) {
      return new Plan({ ...base, strategy: "ioctl", queryBudget: Infinity }, `${u} addresses: ${u} queries at most`);
    }
    const costs = resolveCosts(src.libc);
    const budget = Math.max(64, Math.ceil((BLIND_VMAS * costs.textPerVmaNs + costs.textFixedNs) / costs.queryNs));
    return new Plan(
      { ...base, costs, strategy: "ioctl", queryBudget: budget },
      () =>
        `the process's size is not known yet: ioctl for up to ${budget} queries (the cost of reading ` +
        `${BLIND_VMAS} VMAs of text), then text; ${costsText(costs)}`,
    );
  }
  const costs = resolveCosts(src.libc);
  const q = costs.queryNs;
  const textNs = index.count * costs.textPerVmaNs + costs.textFixedNs;
  const known = { ...base, costs, knownVmas: index.count };
  const enough = Math.floor(textNs / q); // queries that cost as much as the text
  if (u <= enough) {
    return new Plan(
      { ...known, strategy: "ioctl", queryBudget: Infinity },
      () =>
        `even a query per address (${u}, ${us(u * q)}) costs less than reading ${index.count} VMAs of text ` +
        `(${us(textNs)}); ${costsText(costs)}`,
    );
  }
  // Count the queries against the snapshot, spending a small share of the text's cost on it.
  const m = Math.min(u, Math.max(16, Math.floor((COUNTING_SHARE * textNs) / COUNT_NS)));
  const queries = countQueries(batch, index, m, enough);
  if (queries > enough) {
    return new Plan(
      { ...known, strategy: "text", queryBudget: 0, estimatedQueries: queries },
      () =>
        `${m === u ? "" : `the first ${m} of `}${u} addresses already take more than ${enough} queries ` +
        `(${us(queries * q)}): reading ${index.count} VMAs of text costs less (${us(textNs)}); ${costsText(costs)}`,
    );
  }
  // The snapshot may be stale, and the rest of the batch uncounted: past this many queries the text is cheaper.
  const budget = Math.max(enough, 2 * queries, 64);
  return new Plan(
    { ...known, strategy: "ioctl", estimatedQueries: m === u ? queries : undefined, queryBudget: budget },
    () => {
      const counted = m === u
        ? `about ${queries} queries (${us(queries * q)})`
        : `${queries} queries for the first ${m} of ${u} addresses`;
      return `${counted} cost less than reading ${index.count} VMAs of text (${us(textNs)}); ioctl for up to ` +
        `${budget} queries, then text; ${costsText(costs)}`;
    },
  );
}
