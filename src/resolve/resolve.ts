/**
 * Batch address resolution for profilers and symbolizers: each address to
 * its VMA, file offset, ELF virtual address, path and build ID, in input
 * order. One loop walks the sorted addresses against a {@link Seeker}: the
 * ioctl (live queries with covering-or-next) or a text snapshot (a forward
 * scan), as the planner chose; an ioctl run that exceeds its budget hands
 * the rest of the batch to the text.
 * @module
 */
import type { Backend, Seeker } from "../backend.ts";
import type { MappedFiles } from "../elf/file_cache.ts";
import { mappedFileOf } from "../elf/mapped_file.ts";
import { type LoadSegment, segmentForVma } from "../elf/segments.ts";
import { checkResolveOptions, type Pid } from "../options.ts";
import { type Vma, withNameAndBuildId } from "../vma.ts";
import { type Batch, toBatch } from "./batch.ts";
import { mappingKind } from "./kind.ts";
import { planBatch } from "./planner.ts";
import type { MappingKind, Resolved, ResolvePlan, ResolveReason } from "./types.ts";

/** What resolve() needs from the handle. */
export interface ResolveSources {
  pid: Pid;
  /** The handle's own backend: its build IDs are the ones every strategy reports. */
  backend: Backend;
  /** The text backend on the same descriptor (the handle's own, or one made on demand). */
  text(): Backend;
  /** The handle's cache of mapped files' headers. */
  files: MappedFiles;
}

/** Resolution of distinct addresses: entry index per address (-1: unmapped), and the VMAs found. */
interface Found {
  entryOf: Int32Array;
  entries: Vma[];
}

/**
 * The resolution loop: one seek answers every following address inside the
 * VMA it returns, and every address in the gap before it.
 */
function locate(batch: Batch, first: Seeker, budget: number, then: () => Seeker): Found {
  const opened = [first];
  try {
    return locateWith(batch, first, budget, () => {
      const s = then();
      opened.push(s);
      return s;
    });
  } finally {
    // The VMAs found carry their names: nothing reads the seekers' snapshots after this.
    for (const s of opened) s.close?.();
  }
}

function locateWith(batch: Batch, first: Seeker, budget: number, then: () => Seeker): Found {
  const { unique, hi, lo } = batch;
  const found: Found = { entryOf: new Int32Array(unique.length), entries: [] };
  let s = first;
  let left = budget; // seeks before the rest of the batch goes to `then` (the text)
  let sought = false;
  let curEntry = -1; // the current VMA's entry, made when the first address lands in it
  for (let i = 0; i < unique.length; i++) {
    const h = hi[i], l = lo[i];
    if (!sought || h > s.endHi || (h === s.endHi && l >= s.endLo)) {
      sought = true;
      curEntry = -1;
      if (left-- === 0) s = then();
      if (!s.seek(unique[i], h, l)) {
        found.entryOf.fill(-1, i);
        break;
      }
    }
    if (h > s.startHi || (h === s.startHi && l >= s.startLo)) {
      if (curEntry < 0) curEntry = found.entries.push(s.current()) - 1;
      found.entryOf[i] = curEntry;
    } else {
      found.entryOf[i] = -1;
    }
  }
  return found;
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
  const text = () => src.text().seeker();
  if (plan.strategy === "text") return [text(), Infinity, text];
  return [src.backend.seeker(), plan.queryBudget, text];
}

/** Which strategy resolve() would use for `addrs`, and why. */
export function planFor(src: ResolveSources, addrs: unknown, opts: unknown): ResolvePlan {
  const o = checkResolveOptions(opts);
  return planBatch({ pid: src.pid, backend: src.backend, index: src.text().lastIndex() }, toBatch(addrs), o.strategy);
}

/**
 * A batch located, before any result object is made: {@link resolveBatch}
 * makes Resolved objects of it, symbolize() its own (with all of their
 * fields at once, and the symbol found from the same numbers).
 */
export interface LocatedBatch {
  batch: Batch;
  /** Per distinct address (`batch.unique`), its entry in `finished`, or -1 (nothing mapped). */
  entryOf: Int32Array;
  finished: Finished[];
}

/** Locates a batch and reads what each VMA it lands in needs (build ID, ELF headers); see ProcMaps.resolve. */
export function locateBatch(src: ResolveSources, addrs: unknown, opts: unknown): LocatedBatch {
  const o = checkResolveOptions(opts);
  const batch = toBatch(addrs);
  const plan = planBatch({ pid: src.pid, backend: src.backend, index: src.text().lastIndex() }, batch, o.strategy);
  // Headers of files without a build ID hold for this call only.
  src.files.newGeneration();
  const found = locate(batch, ...seekersFor(src, plan));

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

  return { batch, entryOf: found.entryOf, finished };
}

/** Resolves a batch; see ProcMaps.resolve. */
export function resolveBatch(src: ResolveSources, addrs: unknown, opts: unknown): (Resolved | null)[] {
  const { batch, entryOf, finished } = locateBatch(src, addrs, opts);
  const unique = batch.unique;
  // Arrays filled in order from empty (JavaScriptCore makes \`new Array(n)\` sparse from n = 100,000).
  const perUnique: (Resolved | null)[] = [];
  for (let i = 0; i < unique.length; i++) {
    const e = entryOf[i];
    perUnique.push(e < 0 ? null : resolvedAt(finished[e], unique[i]));
  }
  const out: (Resolved | null)[] = [];
  for (let i = 0; i < batch.slot.length; i++) out.push(perUnique[batch.slot[i]]);
  return out;
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
  return {
    addr,
    vma: f.vma,
    kind: f.kind,
    name: f.name,
    buildId: f.buildId,
    fileOffset,
    elfAddr,
    reason,
    reasonText: reason && REASON_TEXT[reason],
  };
}

/** PT_LOAD headers of a VMA's file, through the handle's file cache. */
function segmentsOf(files: MappedFiles, vma: Vma, buildId: string | undefined): LoadSegment[] | null {
  return files.loadSegments(vma, buildId, () => mappedFileOf(vma));
}
