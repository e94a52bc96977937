/**
 * Batch address resolution for profilers and symbolizers: each address to
 * its VMA, file offset, ELF virtual address, path and build ID, in input
 * order. One loop (locate.ts) takes the distinct addresses against a
 * {@link Seeker}: the ioctl (live queries with covering-or-next) or a text
 * snapshot, as the planner chose; an ioctl run that exceeds its budget
 * hands the rest of the batch to the text.
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import type { Backend, Seeker } from "../backend.ts";
import type { MappedFiles } from "../elf/file_cache.ts";
import { checkResolveOptions, type Pid } from "../options.ts";
import { type Batch, toBatch } from "./batch.ts";
import { type Finished, finishVma } from "./fill.ts";
import { type Found, locate } from "./locate.ts";
import { planBatch, type PlanInputs } from "./planner.ts";
import { knownCosts, observe } from "./costs.ts";
import { RESOLVE_REASONS, type Resolved, ResolvedResult, type ResolvePlan, type ResolveReason } from "./types.ts";

/** What resolve() needs from the handle. */
export interface ResolveSources {
  pid: Pid;
  /** The handle's binding (the planner's costs are measured through it). */
  libc: Libc;
  /** The handle's own backend: its build IDs are the ones every strategy reports. */
  backend: Backend;
  /** The text backend on the same descriptor (the handle's own, or one made on demand). */
  text(): Backend;
  /** The handle's cache of mapped files' headers. */
  files: MappedFiles;
}

export type { Finished, Shifted } from "./fill.ts";

/** The sentence for each reason. */
export const REASON_TEXT: Record<ResolveReason, string> = {
  "anonymous": "anonymous memory: no file behind it",
  "jit": "anonymous executable memory (JIT-compiled code): no file behind it",
  "kernel": "provided by the kernel, not a file",
  "not-requested": "elfAddr was not asked for",
  "no-elf-headers": "the file's ELF program headers could not be read (not ELF, or not readable here)",
  "outside-load": "the file offset lies outside the file's PT_LOAD segments",
};

/** The sentence for each reason code (`RESOLVE_REASONS`' order; code 0: none). */
const REASON_TEXTS: readonly (string | undefined)[] = RESOLVE_REASONS.map((r) => r && REASON_TEXT[r]);

/** The seekers a plan calls for: the first, how many seeks it gets, and the one after. */
function seekersFor(src: ResolveSources, plan: ResolvePlan): [Seeker, number, () => Seeker] {
  const text = () => {
    // Each text read tells the planner what a VMA of text costs now (costs.ts re-measures on drift).
    const t0 = performance.now();
    const seeker = src.text().seeker();
    const ns = (performance.now() - t0) * 1e6;
    const vmas = src.text().lastIndex()?.count ?? 0;
    // A small text's cost is mostly its fixed part (see ResolveCosts).
    const costs = knownCosts(src.libc);
    if (costs && vmas >= MIN_OBSERVED_TEXT) observe(src.libc, "text", (ns - costs.textFixedNs) / vmas);
    return seeker;
  };
  if (plan.strategy === "text") return [text(), Infinity, text];
  return [src.backend.seeker(), plan.queryBudget, text];
}

/** Batches with fewer seeks than this, or texts of fewer VMAs, say too little about their cost. */
const MIN_OBSERVED = 8;
const MIN_OBSERVED_TEXT = 64;
/** ...and ioctl batches with more addresses than this per query, whose cost is not mostly the queries. */
const MAX_ADDRESSES_PER_SEEK = 50;

/** Every this many ioctl batches, one is timed (a clock read costs up to a microsecond in Deno). */
const TIME_EVERY = 4;
let untimed = 0;

/**
 * Locates a batch with the planned seekers; now and then an ioctl batch
 * that made enough queries (and no text read) tells the planner what a
 * query costs now.
 */
function locateTimed(src: ResolveSources, batch: Batch, plan: ResolvePlan): Found {
  const [first, budget, then] = seekersFor(src, plan);
  if (plan.strategy !== "ioctl" || batch.count < MIN_OBSERVED || ++untimed < TIME_EVERY) {
    return locate(batch, first, budget, then);
  }
  untimed = 0;
  const t0 = performance.now();
  const found = locate(batch, first, budget, then);
  const seeks = found.firstSeeks;
  if (seeks === found.seeks && seeks >= MIN_OBSERVED && batch.count <= MAX_ADDRESSES_PER_SEEK * seeks) {
    observe(src.libc, "query", ((performance.now() - t0) * 1e6) / seeks);
  }
  return found;
}

function planInputs(src: ResolveSources): PlanInputs {
  return { pid: src.pid, backend: src.backend, index: src.text().lastIndex(), libc: src.libc };
}

/** Which strategy resolve() would use for `addrs`, and why. */
export function planFor(src: ResolveSources, addrs: unknown, opts: unknown): ResolvePlan {
  const o = checkResolveOptions(opts);
  return planBatch(planInputs(src), toBatch(addrs), o.strategy);
}

/**
 * A batch located, before any result object is made: {@link resolveBatch}
 * makes Resolved objects of it, symbolize() its own (with all of their
 * fields at once, and the symbol found from the same numbers).
 */
export interface LocatedBatch {
  batch: Batch;
  /** Per distinct address (`batch.unique`), its entry in `finished`, or -1 (nothing mapped): `batch.entry`. */
  entryOf: Int32Array;
  finished: Finished[];
  /** The plan the batch was located by. */
  plan: ResolvePlan;
}

/**
 * Locates a batch and reads what each VMA it lands in needs (build ID, ELF
 * headers); see ProcMaps.resolve. `temporary`: see {@link Batch}'s
 * constructor (the caller gives the batch back with releaseBatch()).
 */
export function locateBatch(src: ResolveSources, addrs: unknown, opts: unknown, temporary = false): LocatedBatch {
  const o = checkResolveOptions(opts);
  const batch = toBatch(addrs, temporary);
  const plan = planBatch(planInputs(src), batch, o.strategy);
  // Headers of files without a build ID hold for this call only.
  src.files.newGeneration();
  const found = locateTimed(src, batch, plan);
  // Build IDs once per file.
  const buildIds = new Map<string, string | undefined>();
  const finished = found.entries.map((vma) => finishVma(src, o, vma, buildIds));
  return { batch, entryOf: batch.entry, finished, plan };
}

/**
 * The result for `addr` in the VMA of `f`, with its file offset, ELF
 * address and reason code (`RESOLVE_REASONS`' order): the one place a
 * {@link ResolvedResult} is made from a batch.
 */
export function resultOf(
  f: Finished,
  addr: bigint,
  fileOffset: bigint | undefined,
  elfAddr: bigint | undefined,
  code: number,
): Resolved {
  return new ResolvedResult(
    addr,
    f.vma,
    f.kind,
    f.name,
    f.buildId,
    fileOffset,
    elfAddr,
    RESOLVE_REASONS[code],
    REASON_TEXTS[code],
  );
}

const REASON_CODE = new Map(RESOLVE_REASONS.map((r, i) => [r, i]));

/** The result for `addr` in the VMA of `f`: two bigint additions at most. */
export function resolvedAt(f: Finished, addr: bigint): Resolved {
  let fileOffset: bigint | undefined;
  let elfAddr: bigint | undefined;
  let reason = f.why;
  if (f.delta !== undefined) {
    fileOffset = addr + f.delta;
    if (f.segments) {
      reason = "outside-load";
      for (const seg of f.segments) {
        if (fileOffset >= seg.offset && fileOffset < seg.end) {
          elfAddr = fileOffset + seg.shift;
          reason = undefined;
          break;
        }
      }
    }
  }
  return resultOf(f, addr, fileOffset, elfAddr, REASON_CODE.get(reason)!);
}
