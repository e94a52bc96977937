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
import { mappedFileOf } from "../elf/mapped_file.ts";
import { type LoadSegment, segmentForVma } from "../elf/segments.ts";
import { checkResolveOptions, type Pid } from "../options.ts";
import { type Vma, withNameAndBuildId } from "../vma.ts";
import { type Batch, toBatch } from "./batch.ts";
import { type Found, locate } from "./locate.ts";
import { mappingKind } from "./kind.ts";
import { planBatch, type PlanInputs } from "./planner.ts";
import { knownCosts, observe } from "./costs.ts";
import { type MappingKind, type Resolved, ResolvedResult, type ResolvePlan, type ResolveReason } from "./types.ts";

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

/** A PT_LOAD segment as resolve() uses it: file bytes [offset, end) sit at file offset + shift. */
export interface Shifted {
  offset: bigint;
  end: bigint;
  shift: bigint;
}

/** What resolve() knows about a distinct VMA of the batch. */
export interface Finished {
  vma: Vma;
  kind: MappingKind;
  name: string;
  buildId: string | undefined;
  /** `vma.offset - vma.start`, where a file offset applies. */
  delta: bigint | undefined;
  segments: Shifted[] | null;
  why: ResolveReason | undefined;
}

/** The sentence for each reason. */
export const REASON_TEXT: Record<ResolveReason, string> = {
  "anonymous": "anonymous memory: no file behind it",
  "jit": "anonymous executable memory (JIT-compiled code): no file behind it",
  "kernel": "provided by the kernel, not a file",
  "not-requested": "elfAddr was not asked for",
  "no-elf-headers": "the file's ELF program headers could not be read (not ELF, or not readable here)",
  "outside-load": "the file offset lies outside the file's PT_LOAD segments",
};

/** Kinds with no file offset, and why. */
const NO_OFFSET: Partial<Record<MappingKind, ResolveReason>> = {
  anonymous: "anonymous",
  jit: "jit",
  special: "kernel",
};

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

/** Locates a batch and reads what each VMA it lands in needs (build ID, ELF headers); see ProcMaps.resolve. */
export function locateBatch(src: ResolveSources, addrs: unknown, opts: unknown): LocatedBatch {
  const o = checkResolveOptions(opts);
  const batch = toBatch(addrs);
  const plan = planBatch(planInputs(src), batch, o.strategy);
  // Headers of files without a build ID hold for this call only.
  src.files.newGeneration();
  const found = locateTimed(src, batch, plan);

  // Per distinct VMA an address lands in: build ID (once per file), ELF headers (once per file), kind.
  const buildIds = new Map<string, string | undefined>();
  const finished: Finished[] = [];
  found.entries.forEach((vma, i) => {
    let kind = mappingKind(vma);
    // The name cannot tell a deleted file from a live one named "x (deleted)": the file can.
    if (kind === "deleted" && src.files.livesAtPath(vma, () => mappedFileOf(vma))) kind = "file";
    let buildId: string | undefined;
    if (o.buildId && vma.fileBacked) {
      const fileKey = `${vma.devMajor}:${vma.devMinor}:${vma.inode}`;
      if (buildIds.has(fileKey)) buildId = buildIds.get(fileKey);
      else {
        // The handle's backend answers, so every strategy reports the same build IDs.
        buildId = src.backend.buildIdOf(vma);
        buildIds.set(fileKey, buildId);
      }
    }
    const noOffset = NO_OFFSET[kind];
    let segments: Shifted[] | null = null;
    let why: ResolveReason | undefined = noOffset ?? (o.elfAddr ? undefined : "not-requested");
    if (o.elfAddr && noOffset === undefined) {
      const loads = segmentsOf(src.files, vma, buildId);
      if (loads) {
        // Only through the segment this VMA maps (padding, .bss: see segmentForVma); a tie
        // between segments is settled against the file's other VMAs, asked of the handle's backend.
        const seg = segmentForVma(loads, vma, (a) => {
          const v = src.backend.query(a, 0);
          return v && v.inode === vma.inode && v.devMajor === vma.devMajor && v.devMinor === vma.devMinor
            ? a - v.start + v.offset
            : undefined;
        });
        segments = seg ? [{ offset: seg.fileStart, end: seg.fileEnd, shift: seg.shift }] : [];
      } else why = "no-elf-headers";
    }
    finished[i] = {
      vma: o.buildId ? withNameAndBuildId(vma, vma.name, buildId) : vma,
      kind,
      name: vma.name ?? "",
      buildId,
      delta: noOffset === undefined ? vma.offset - vma.start : undefined,
      segments,
      why,
    };
  });

  return { batch, entryOf: batch.entry, finished, plan };
}

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
  return new ResolvedResult(
    addr,
    f.vma,
    f.kind,
    f.name,
    f.buildId,
    fileOffset,
    elfAddr,
    reason,
    reason && REASON_TEXT[reason],
  );
}

/** PT_LOAD headers of a VMA's file, through the handle's file cache. */
function segmentsOf(files: MappedFiles, vma: Vma, buildId: string | undefined): LoadSegment[] | null {
  return files.loadSegments(vma, buildId, () => mappedFileOf(vma));
}
