/**
 * What a PROCMAP_QUERY and a maps text read cost on this machine, through
 * this process's binding: measured at first use (a few calls against this
 * process's own map), kept per binding for the life of the process, and
 * measured again when real batches drift away from them. The planner
 * compares batches with these, not with constants from another host (the
 * same query cost 0.17 us on one VM this project ran on and 1.3-1.5 us on
 * another).
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import { requestFor } from "../ioctl/abi.ts";
import { QueryStruct } from "../ioctl/query_struct.ts";
import { readWhole } from "../procfs/read.ts";
import { FLAG, WANT_NAME } from "../request.ts";
import { parseMaps } from "../text/parser.ts";
import type { MapsTable } from "../text/table.ts";
import { NameCache } from "../util/names.ts";

/** Costs the planner weighs a batch with, in nanoseconds. */
export interface ResolveCosts {
  /** One PROCMAP_QUERY (covering-or-next, with the name) and the VMA made of it. */
  queryNs: number;
  /** Reading and parsing the maps text, per VMA. */
  textPerVmaNs: number;
  /**
   * A text read's fixed part: about two more reads of the file than its
   * text takes (the one at its end, and a one-byte read saying the process
   * outlived it), timed as one-byte reads.
   */
  textFixedNs: number;
  /**
   * Where the figures come from: `"measured"` (timed in this process, on
   * its own map), or `"default"` (no measurement possible: the clock or the
   * ioctl is not there).
   */
  source: "measured" | "default";
  /** VMAs of the text the per-VMA cost was measured on. */
  measuredVmas: number;
  /** How many times this process has measured them. */
  measurements: number;
}

/** Used when nothing can be measured: a 2025 x86_64 VM's figures (bench/RESULTS.md). */
const DEFAULTS = { queryNs: 1300, textPerVmaNs: 200, textFixedNs: 2000 } as const;

/** Queries a measurement round makes, and rounds (the fastest counts: interference only adds time). */
const QUERIES = 8;
const ROUNDS = 3;
const MAX_TEXT_ROUNDS = 12;

/** A batch's own cost this far from the model (either way), this many batches running, calls for a new measurement. */
const DRIFT_FACTOR = 2;
const DRIFT_BATCHES = 3;
/** Measurements are this far apart at least. */
const MIN_INTERVAL_MS = 1000;

interface Model {
  costs: ResolveCosts;
  /** When (performance.now()) they were measured. */
  measuredAt: number;
  /** Recent observations that disagreed with the model, per figure. */
  queryDrift: number[];
  textDrift: number[];
}

const models = new WeakMap<Libc, Model>();

/** The costs for `libc`'s binding, measured on first use. */
export function resolveCosts(libc: Libc): ResolveCosts {
  let m = models.get(libc);
  if (!m) {
    m = { costs: measure(libc, 1), measuredAt: performance.now(), queryDrift: [], textDrift: [] };
    models.set(libc, m);
  }
  return m.costs;
}

/** The costs if measured already (observing needs them; it never measures by itself). */
export function knownCosts(libc: Libc): ResolveCosts | undefined {
  return models.get(libc)?.costs;
}

/**
 * What a real batch cost per unit (`"query"`: per ioctl query; `"text"`:
 * per VMA of a text read). Batches a few in a row far from the model (the
 * machine got busier or quieter, the CPU's frequency changed) measure
 * again, at most once a second. (The batches' own figures are not taken as
 * they are: a batch also pays its cold code and its allocations.)
 */
export function observe(libc: Libc, what: "query" | "text", ns: number): void {
  const m = models.get(libc);
  if (!m || !(ns > 0)) return;
  const model = what === "query" ? m.costs.queryNs : m.costs.textPerVmaNs;
  const drift = what === "query" ? m.queryDrift : m.textDrift;
  if (ns < model * DRIFT_FACTOR && ns > model / DRIFT_FACTOR) {
    drift.length = 0;
    return;
  }
  drift.push(ns);
  if (drift.length < DRIFT_BATCHES || performance.now() - m.measuredAt < MIN_INTERVAL_MS) return;
  m.queryDrift = [];
  m.textDrift = [];
  m.costs = measure(libc, m.costs.measurements + 1);
  m.measuredAt = performance.now();
}

/** Times a query and a text read of this process's own map, a few of each; the fastest round counts. */
function measure(libc: Libc, measurements: number): ResolveCosts {
  const request = requestFor(libc.arch);
  const fd = libc.canIoctl && request !== undefined ? libc.openRead("/proc/self/maps") : -1;
  if (fd < 0) return { ...DEFAULTS, source: "default", measuredVmas: 0, measurements };
  try {
    const q = new QueryStruct((b) => libc.addressOf(b));
    const req = FLAG.coveringOrNext | WANT_NAME;
    let query = Infinity;
    for (let round = 0; round < ROUNDS; round++) {
      let addr = 0n;
      let done = 0;
      const t0 = performance.now();
      for (; done < QUERIES; done++) {
        q.prepare(addr, req);
        if (libc.ioctlAt(fd, request!, q.address) < 0) break;
        addr = q.decode(req).end;
      }
      const t = performance.now() - t0;
      if (done === 0) return { ...DEFAULTS, source: "default", measuredVmas: 0, measurements };
      query = Math.min(query, (t * 1e6) / done);
    }
    let fixed = Infinity;
    const one = new Uint8Array(1);
    for (let round = 0; round < ROUNDS; round++) {
      const t0 = performance.now();
      libc.pread(fd, one, 0);
      fixed = Math.min(fixed, 2 * (performance.now() - t0) * 1e6);
    }
    let text = Infinity;
    let vmas = 0;
    try {
      const whole = measureText(libc, fd, (n) => vmas = n);
      text = Math.max(1, whole - fixed / Math.max(vmas, 1));
    } catch {
      // A text that changed mid-read and does not parse: no measurement.
    }
    // A clock too coarse to time a round reads 0: no measurement.
    if (!(query > 0 && query < Infinity && text > 0 && text < Infinity && fixed < Infinity)) {
      return { ...DEFAULTS, source: "default", measuredVmas: 0, measurements };
    }
    return {
      queryNs: query,
      textPerVmaNs: text,
      textFixedNs: fixed,
      source: "measured",
      measuredVmas: vmas,
      measurements,
    };
  } finally {
    libc.close(fd);
  }
}

/**
 * The fastest of a few reads and parses of the text behind `fd`, per VMA
 * (ns): at least ROUNDS, then until two in a row agree within a quarter (the
 * first parses run cold code, several times slower than a warm parse), at
 * most MAX_TEXT_ROUNDS.
 */
function measureText(libc: Libc, fd: number, count: (vmas: number) => void): number {
  let best = Infinity;
  let last = Infinity;
  let spare: MapsTable | undefined;
  const names = new NameCache();
  let hint = 0;
  for (let round = 0; round < MAX_TEXT_ROUNDS; round++) {
    const t0 = performance.now();
    const r = readWhole(libc, fd, hint);
    if (typeof r === "number") break;
    // The backend's way: the previous table's columns and a name cache kept between reads.
    const table: MapsTable = parseMaps(r.bytes, r.length, 4096, "self", names, spare);
    const t = ((performance.now() - t0) * 1e6) / Math.max(table.count, 1);
    hint = r.length;
    spare = table;
    count(table.count);
    best = Math.min(best, t);
    if (round >= ROUNDS - 1 && t < last * 1.25 && last < t * 1.25) break;
    last = t;
  }
  return best;
}
