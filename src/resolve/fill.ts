/**
 * resolve()'s work per VMA and per address, after locate.ts has found each
 * distinct address's VMA: each VMA finished (kind, build ID, ELF headers),
 * then the rows of the result columns filled from numbers kept per VMA in
 * small typed arrays: no bigint and no object per address.
 * @module
 */
import type { Backend } from "../backend.ts";
import type { MappedFiles } from "../elf/file_cache.ts";
import { mappedFileOf } from "../elf/mapped_file.ts";
import { segmentForVma } from "../elf/segments.ts";
import { below52, HI, LO } from "../util/bytes.ts";
import { type Vma, withNameAndBuildId } from "../vma.ts";
import type { Batch } from "./batch.ts";
import { mappingKind } from "./kind.ts";
import { MAPPING_KINDS, type MappingKind, RESOLVE_REASONS, type ResolveReason } from "./types.ts";

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

/** What finishing a VMA reads: the handle's backend (build IDs; ties between segments) and its file cache. */
export interface FinishSources {
  backend: Backend;
  files: MappedFiles;
}

/** Kinds with no file offset, and why. */
const NO_OFFSET: Partial<Record<MappingKind, ResolveReason>> = {
  anonymous: "anonymous",
  jit: "jit",
  special: "kernel",
};

/**
 * What resolve() needs of `vma`: its kind, its build ID (once per file in
 * `buildIds`, asked of the handle's backend so every strategy reports the
 * same), and the PT_LOAD segment it maps.
 */
export function finishVma(
  src: FinishSources,
  o: { buildId: boolean; elfAddr: boolean },
  vma: Vma,
  buildIds: Map<string, string | undefined>,
): Finished {
  const keep = src.backend.kind === "ioctl" ? keptFor(src.files) : undefined;
  const opts = (o.buildId ? 1 : 0) | (o.elfAddr ? 2 : 0);
  const known = keep?.get(vma.start);
  if (known !== undefined && known.opts === opts && sameVma(known.raw, vma)) return known.finished;
  let tied = false;
  let kind = mappingKind(vma);
  // The name cannot tell a deleted file from a live one named "x (deleted)": the file can.
  if (kind === "deleted" && src.files.livesAtPath(vma, () => mappedFileOf(vma))) kind = "file";
  let buildId: string | undefined;
  if (o.buildId && vma.fileBacked) {
    const fileKey = `${vma.devMajor}:${vma.devMinor}:${vma.inode}`;
    if (buildIds.has(fileKey)) buildId = buildIds.get(fileKey);
    else {
      buildId = src.backend.buildIdOf(vma);
      buildIds.set(fileKey, buildId);
    }
  }
  const noOffset = NO_OFFSET[kind];
  let segments: Shifted[] | null = null;
  let why: ResolveReason | undefined = noOffset ?? (o.elfAddr ? undefined : "not-requested");
  if (o.elfAddr && noOffset === undefined) {
    const loads = src.files.loadSegments(vma, buildId, () => mappedFileOf(vma));
    if (loads) {
      // Only through the segment this VMA maps (padding, .bss: see segmentForVma); a tie
      // between segments is settled against the file's other VMAs, asked of the handle's backend.
      const seg = segmentForVma(loads, vma, (a) => {
        tied = true;
        const v = src.backend.query(a, 0);
        return v && v.inode === vma.inode && v.devMajor === vma.devMajor && v.devMinor === vma.devMinor
          ? a - v.start + v.offset
          : undefined;
      });
      segments = seg ? [{ offset: seg.fileStart, end: seg.fileEnd, shift: seg.shift }] : [];
    } else why = "no-elf-headers";
  }
  const finished: Finished = {
    vma: o.buildId ? withNameAndBuildId(vma, vma.name, buildId) : vma,
    kind,
    name: vma.name ?? "",
    buildId,
    delta: noOffset === undefined ? vma.offset - vma.start : undefined,
    segments,
    why,
  };
  // Kept when every part would read the same next time: not a deleted file's (whether it lives is asked per
  // call), no segment tie settled by other VMAs, and headers read under a build ID (else they hold per call).
  if (keep && kind !== "deleted" && !tied && (segments === null || buildId !== undefined)) {
    if (keep.size >= KEEP_FINISHED) keep.clear();
    keep.set(vma.start, { raw: vma, opts, finished });
  }
  return finished;
}

/**
 * Finished VMAs kept between batches, per handle (by its file cache), by
 * start: a profiler resolves batch after batch in the same few VMAs, and
 * finishing one (its kind, build ID, ELF segment: bigint arithmetic, keys
 * and lookups) cost as much as locating a few hundred addresses. Only with
 * the ioctl backend, whose build IDs are kept by VMA too; an entry serves a
 * VMA equal in every field.
 */
const finishedKept = new WeakMap<MappedFiles, Map<bigint, { raw: Vma; opts: number; finished: Finished }>>();
/** Kept finished VMAs per handle at most. */
const KEEP_FINISHED = 4096;

function keptFor(files: MappedFiles): Map<bigint, { raw: Vma; opts: number; finished: Finished }> {
  let m = finishedKept.get(files);
  if (m === undefined) finishedKept.set(files, m = new Map());
  return m;
}

/** Equal VMAs as the kernel reported them (the name included). */
function sameVma(a: Vma, b: Vma): boolean {
  return a.start === b.start && a.end === b.end && a.flags === b.flags && a.offset === b.offset &&
    a.inode === b.inode && a.devMajor === b.devMajor && a.devMinor === b.devMinor && a.pageSize === b.pageSize &&
    a.name === b.name;
}

/** Addresses whose high half is below this are below 2^53: exact as doubles. */
const SAFE_HI = 2 ** 21;
const U64_LIMIT = 1n << 64n;

const KIND_CODE = new Map(MAPPING_KINDS.map((k, i) => [k, i]));
const REASON_CODE = new Map(RESOLVE_REASONS.map((r, i) => [r, i]));
/** The reason code of "outside-load". */
export const OUTSIDE_LOAD: number = REASON_CODE.get("outside-load")!;

/**
 * Whether a VMA's addresses below 2^53 can be resolved with doubles: it has
 * a file offset, and its delta and its segment (none, or exactly one) are
 * below 2^52 in magnitude, so that no sum leaves the exact range.
 */
export function fastRoute(f: Finished): boolean {
  const segs = f.segments;
  if (f.delta === undefined || !below52(f.delta)) return false;
  if (segs === null || segs.length === 0) return true;
  const seg = segs[0];
  return segs.length === 1 && below52(seg.offset) && below52(seg.end) && below52(seg.shift);
}

/** Where {@link RowFill}'s words hold each quantity of a VMA (a word pair each). */
const DELTA = 0, SEG_START = 2, SEG_END = 4, SHIFT = 6, WORDS_PER_VMA = 8;

/** How a VMA's rows are filled: no file offset, a fast route (below), or with bigints. */
const NO_OFFSET_ROUTE = 0, FAST_NO_SEGMENT = 1, FAST_SEGMENT = 2, WIDE = 3;

/** One u64 and its words: storing a bigint wraps it to 64 bits (two's complement), with no bigint made. */
const oneU64 = new BigUint64Array(1);
const oneWords = new Uint32Array(oneU64.buffer);

/** `v` (wrapped to 64 bits) into words[at], words[at + 1] as a native-order word pair. */
function putWords(words: Uint32Array, at: number, v: bigint): void {
  oneU64[0] = v;
  words[at] = oneWords[0];
  words[at + 1] = oneWords[1];
}

/** Per-VMA numbers are kept between batches for up to this many VMAs (about 150 KB); more get their own. */
const KEEP_VMAS = 4096;

/**
 * What the fill needs of each VMA, as numbers, indexed by its entry: typed
 * arrays kept between batches (a batch lands in a handful of VMAs; a typed
 * array made per batch or per VMA cost more than the fill of a few hundred
 * rows in V8).
 */
class VmaNumbers {
  kind = new Uint8Array(16);
  /** The reason code of an address with a file offset and no segment check to make (or no offset). */
  why = new Uint8Array(16);
  route = new Uint8Array(16);
  /**
   * `delta`, the segment's start and end, and its shift as u64 word pairs
   * (two's complement), where the route is fast: every quantity below 2^52 in
   * magnitude, so no sum leaves 64 bits. No segment for the VMA: an empty
   * range [0, 0), every address outside it.
   */
  words = new Uint32Array(16 * WORDS_PER_VMA);

  /** Holds the numbers of `finished`, in its order. */
  fill(finished: readonly Finished[]): this {
    const v = finished.length;
    if (this.kind.length < v) {
      const size = 2 * v;
      this.kind = new Uint8Array(size), this.why = new Uint8Array(size), this.route = new Uint8Array(size);
      this.words = new Uint32Array(size * WORDS_PER_VMA);
    }
    for (let e = 0; e < v; e++) {
      const f = finished[e];
      const segs = f.segments;
      const seg = segs?.[0];
      const fast = fastRoute(f);
      this.kind[e] = KIND_CODE.get(f.kind)!;
      this.why[e] = REASON_CODE.get(f.why)!;
      this.route[e] = f.delta === undefined ? NO_OFFSET_ROUTE : !fast ? WIDE : segs ? FAST_SEGMENT : FAST_NO_SEGMENT;
      const at = WORDS_PER_VMA * e;
      for (let k = 0; k < WORDS_PER_VMA; k++) this.words[at + k] = 0;
      if (fast) {
        putWords(this.words, at + DELTA, f.delta!);
        if (seg) {
          putWords(this.words, at + SEG_START, seg.offset);
          putWords(this.words, at + SEG_END, seg.end);
          putWords(this.words, at + SHIFT, seg.shift);
        }
      }
    }
    return this;
  }
}

const kept = new VmaNumbers();

/**
 * Fills the batch's result columns from `finished` (by `batch.entry`): one
 * tight pass over its rows, which start zeroed; returns the values that do
 * not fit 64 bits (a lying ELF header's segment), by row: [fileOffset,
 * elfAddr]. Sums are made on 32-bit word pairs with a carry (V8 turns a
 * double into 32-bit words several times slower), and the VMAs' numbers are
 * read per row from small typed arrays indexed by the entry (a profile's
 * consecutive rows land in different VMAs about half the time). A separate
 * pass costs less than filling each row inside locate.ts's loop, measured:
 * there the columns and numbers are reloaded at every row.
 */
export function fillRows(batch: Batch, finished: readonly Finished[]): Map<number, [bigint, bigint | undefined]> {
  const wide = new Map<number, [bigint, bigint | undefined]>();
  batch.clearResults();
  const m = finished.length <= KEEP_VMAS ? kept : new VmaNumbers();
  const { kind: kinds, why: whys, route, words: w } = m.fill(finished);
  const { entry, addrWords, offsetWords, elfWords, kind: kindCol, reason: reasonCol } = batch;
  // The word order as locals: an imported binding is read (and checked) at every use in the loop.
  const hi = HI, lo = LO, count = batch.count;
  for (let r = 0; r < count; r++) {
    const e = entry[r];
    if (e < 0) continue; // kind 0, reason 0, offsets 0: the columns start zeroed
    kindCol[r] = kinds[e];
    const how = route[e];
    const ah = addrWords[2 * r + hi];
    // Below 2^53, with quantities below 2^52: the file offset and ELF address are in [0, 2^54), no sum wraps.
    if ((how === FAST_NO_SEGMENT || how === FAST_SEGMENT) && ah < SAFE_HI) {
      const al = addrWords[2 * r + lo];
      const at = WORDS_PER_VMA * e;
      const fl = (al + w[at + DELTA + lo]) >>> 0;
      const fh = (ah + w[at + DELTA + hi] + (fl < al ? 1 : 0)) >>> 0;
      offsetWords[2 * r + lo] = fl;
      offsetWords[2 * r + hi] = fh;
      if (how === FAST_NO_SEGMENT) {
        reasonCol[r] = whys[e];
        continue;
      }
      const sh = w[at + SEG_START + hi], eh = w[at + SEG_END + hi];
      if (
        (fh < sh || (fh === sh && fl < w[at + SEG_START + lo])) ||
        (fh > eh || (fh === eh && fl >= w[at + SEG_END + lo]))
      ) {
        reasonCol[r] = OUTSIDE_LOAD;
        continue;
      }
      const el = (fl + w[at + SHIFT + lo]) >>> 0;
      elfWords[2 * r + lo] = el;
      elfWords[2 * r + hi] = (fh + w[at + SHIFT + hi] + (el < fl ? 1 : 0)) >>> 0;
      continue;
    }
    if (how === NO_OFFSET_ROUTE) reasonCol[r] = whys[e];
    else fillWide(batch, r, finished[e], wide);
  }
  return wide;
}

/** A row the doubles cannot hold: with bigints. */
function fillWide(batch: Batch, r: number, f: Finished, wide: Map<number, [bigint, bigint | undefined]>): void {
  const fileOffset = batch.addrAt(r) + f.delta!;
  let elfAddr: bigint | undefined;
  let reason = f.why;
  const seg = f.segments?.[0];
  if (f.segments) {
    reason = "outside-load";
    if (seg && fileOffset >= seg.offset && fileOffset < seg.end) {
      elfAddr = fileOffset + seg.shift;
      reason = undefined;
    }
  }
  const put = (words: Uint32Array, v: bigint) => {
    words[2 * r + HI] = Number(BigInt.asUintN(32, v >> 32n));
    words[2 * r + LO] = Number(BigInt.asUintN(32, v));
  };
  put(batch.offsetWords, fileOffset);
  if (elfAddr !== undefined) put(batch.elfWords, elfAddr);
  batch.reason[r] = REASON_CODE.get(reason)!;
  if (fileOffset >= U64_LIMIT || (elfAddr !== undefined && elfAddr >= U64_LIMIT)) wide.set(r, [fileOffset, elfAddr]);
}
