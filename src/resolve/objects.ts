/**
 * resolve()'s objects, made straight from a located batch in one pass over
 * its distinct addresses: no result columns filled first (fill.ts) and read
 * back (a {@link ResolvedTable}'s rows), which cost the object form a
 * second and a third pass. Each object is the one {@link resolvedAt} makes
 * (the same fields and values): the file offset and ELF address as doubles
 * where every quantity is below 2^52, else with bigints.
 * @module
 */
import { HI, LO, toBigint, TWO_32, u64 } from "../util/bytes.ts";
import type { Batch } from "./batch.ts";
import { fastRoute, type Finished, OUTSIDE_LOAD } from "./fill.ts";
import { resolvedAt, resultOf } from "./resolve.ts";
import { RESOLVE_REASONS, type Resolved } from "./types.ts";

/** Addresses whose high word is below this are below 2^52: a file offset within 2^52 of one is an exact double. */
const FAST_HI = 2 ** 20;

/** A VMA's numbers for the double route (`fast`), or the reason the bigint route must answer. */
interface Route {
  f: Finished;
  fast: boolean;
  /** The reason code of an address with no segment check to make (or no file offset). */
  why: number;
  delta: number;
  /** 0: no segment check (segments null); 1: no segment (every address outside); 2: one segment. */
  check: number;
  segStart: number;
  segEnd: number;
  shift: number;
  shiftZero: boolean;
}

function routeOf(f: Finished): Route {
  const segs = f.segments;
  const seg = segs?.length === 1 ? segs[0] : undefined;
  const fast = fastRoute(f);
  return {
    f,
    fast,
    why: RESOLVE_REASONS.indexOf(f.why),
    delta: fast ? Number(f.delta) : 0,
    check: segs === null ? 0 : seg === undefined ? 1 : 2,
    segStart: fast && seg ? Number(seg.offset) : 0,
    segEnd: fast && seg ? Number(seg.end) : 0,
    shift: fast && seg ? Number(seg.shift) : 0,
    shiftZero: seg?.shift === 0n,
  };
}

/**
 * The batch's results in input order, as {@link ProcMaps.resolve} returns
 * them (null where nothing is mapped; equal addresses share one object).
 */
export function resolvedObjects(batch: Batch, finished: readonly Finished[]): (Resolved | null)[] {
  const routes = finished.map(routeOf);
  const { addrWords: words, entry, list, first, count, slot } = batch;
  const hi = HI, lo = LO;
  // Filled in order from empty (JavaScriptCore makes `new Array(n)` sparse from n = 100,000).
  const rows: (Resolved | null)[] = [];
  for (let r = 0; r < count; r++) {
    const e = entry[r];
    if (e < 0) {
      rows.push(null);
      continue;
    }
    const h = words[2 * r + hi], l = words[2 * r + lo];
    // The caller's own bigint where it gave one (results hold the caller's values).
    const v = list?.[first[r]];
    const addr = typeof v === "bigint" ? v : u64(h, l);
    const route = routes[e];
    const f = route.f;
    if (f.delta === undefined) rows.push(resultOf(f, addr, undefined, undefined, route.why));
    else if (!route.fast || h >= FAST_HI) rows.push(resolvedAt(f, addr));
    else {
      const fo = h * TWO_32 + l + route.delta;
      const fileOffset = toBigint(fo);
      if (route.check === 0) rows.push(resultOf(f, addr, fileOffset, undefined, route.why));
      else if (route.check === 2 && fo >= route.segStart && fo < route.segEnd) {
        // Libraries map their code at file offset = ELF address: one bigint serves both.
        const elfAddr = route.shiftZero ? fileOffset : toBigint(fo + route.shift);
        rows.push(resultOf(f, addr, fileOffset, elfAddr, 0));
      } else rows.push(resultOf(f, addr, fileOffset, undefined, OUTSIDE_LOAD));
    }
  }
  // All distinct: input i is row i (rows are in order of first appearance).
  if (count === slot.length) return rows;
  const out: (Resolved | null)[] = [];
  for (let i = 0; i < slot.length; i++) out.push(rows[slot[i]]);
  return out;
}
