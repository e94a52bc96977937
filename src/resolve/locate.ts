/**
 * resolve()'s loop: which VMA each distinct address of a batch lands in.
 * Addresses come in any order; what the seekers said is remembered as
 * ranges (a VMA, or a gap known to be unmapped), and a page cache answers
 * most addresses from a range already known, so a batch costs a seek (an
 * ioctl query, or a search of a text snapshot) per VMA or gap it touches
 * plus a few nanoseconds per address.
 * @module
 */
import type { Seeker } from "../backend.ts";
import type { Vma } from "../vma.ts";
import type { Batch } from "./batch.ts";
import { HI, LO } from "../util/bytes.ts";

/** The VMAs a batch's distinct addresses land in; `batch.entry` holds each one's entry here (-1: unmapped). */
export interface Found {
  entries: Vma[];
  /** Seeks made (queries, or searches of the text). */
  seeks: number;
  /** Seeks made by the first seeker, before the batch went to the next one. */
  firstSeeks: number;
}

/** One past the largest u64, as an end's high half. */
const END_OF_SPACE = 2 ** 32;
/** Page-cache granularity: 4 KiB, the smallest page of any Linux; a VMA and a gap both begin and end on one. */
const PAGE_SHIFT = 12;

/**
 * What the seekers said, as disjoint ranges by id (kept sorted by start in
 * `order`): a VMA with its entry (made when an address first lands in it),
 * or a gap with none.
 */
class Ranges {
  startHi: number[] = [];
  startLo: number[] = [];
  endHi: number[] = [];
  endLo: number[] = [];
  vma: (Vma | null)[] = [];
  entry: number[] = [];
  /** Range ids in address order. */
  order: number[] = [];
  /** Bumped whenever a range is dropped (the map changed between seeks): cached ids are then stale. */
  epoch = 0;

  /** Position in `order` of the last range starting at or below `hi:lo` (-1: none). */
  #below(hi: number, lo: number): number {
    const order = this.order;
    let l = 0, h = order.length;
    while (l < h) {
      const mid = (l + h) >>> 1;
      const id = order[mid];
      const sh = this.startHi[id];
      if (sh < hi || (sh === hi && this.startLo[id] <= lo)) l = mid + 1;
      else h = mid;
    }
    return l - 1;
  }

  /** The range holding `hi:lo`, or -1. */
  find(hi: number, lo: number): number {
    const k = this.#below(hi, lo);
    if (k < 0) return -1;
    const id = this.order[k];
    const eh = this.endHi[id];
    return eh > hi || (eh === hi && this.endLo[id] > lo) ? id : -1;
  }

  /**
   * Adds what a seek said; returns its id. A VMA already known by the same
   * range keeps its id; a gap next to or over known gaps joins them. Anything
   * else that overlaps known ranges replaces them (the map changed between
   * two seeks: the later answer stands).
   */
  add(sh: number, sl: number, eh: number, el: number, vma: Vma | null): number {
    const order = this.order;
    const k = this.#below(sh, sl);
    // Overlapping ranges: from k (if it ends above the new start) up to the last one starting below the new end.
    let from = k + 1;
    if (k >= 0) {
      const id = order[k];
      const e1 = this.endHi[id];
      if (e1 > sh || (e1 === sh && this.endLo[id] > sl)) from = k;
    }
    let to = from;
    while (to < order.length) {
      const id = order[to];
      const s1 = this.startHi[id];
      if (s1 < eh || (s1 === eh && this.startLo[id] < el)) to++;
      else break;
    }
    if (to - from === 1 && vma !== null) {
      const id = order[from];
      if (
        this.vma[id] !== null && this.startHi[id] === sh && this.startLo[id] === sl && this.endHi[id] === eh &&
        this.endLo[id] === el
      ) {
        return id;
      }
    }
    if (vma === null) {
      let allGaps = true;
      for (let j = from; j < to; j++) if (this.vma[order[j]] !== null) allGaps = false;
      if (allGaps && to > from) {
        // Widen the first gap over the others and the new one (ids cached for it stay right).
        const id = order[from];
        const last = order[to - 1];
        if (sh < this.startHi[id] || (sh === this.startHi[id] && sl < this.startLo[id])) {
          this.startHi[id] = sh;
          this.startLo[id] = sl;
        }
        const lh = this.endHi[last], ll = this.endLo[last];
        if (eh > lh || (eh === lh && el > ll)) this.endHi[id] = eh, this.endLo[id] = el;
        else this.endHi[id] = lh, this.endLo[id] = ll;
        if (to - from > 1) {
          order.splice(from + 1, to - from - 1);
          this.epoch++;
        }
        return id;
      }
    }
    if (to > from) this.epoch++;
    const id = this.vma.length;
    this.startHi.push(sh);
    this.startLo.push(sl);
    this.endHi.push(eh);
    this.endLo.push(el);
    this.vma.push(vma);
    this.entry.push(-1);
    order.splice(from, to - from, id);
    return id;
  }
}

/**
 * The page cache: direct-mapped slots of four words (stamp, page high and
 * low words, range id), so a lookup reads one cache line. Sized to the batch
 * (256 to 16,384 slots, 256 KB at most, kept between batches): a small batch
 * uses a small, cache-resident part.
 */
const MAX_SLOTS = 1 << 14;
let slots: Int32Array | undefined;
let stampNow = 0;

/** A fresh stamp: it empties the cache without clearing it. */
function nextStamp(): number {
  if (++stampNow === 0x7fffffff) {
    slots!.fill(0);
    stampNow = 1;
  }
  return stampNow;
}

/**
 * Locates every distinct address of `batch` into `batch.entry`, seeking with
 * `first` for up to `budget` seeks and then with `then()` (the text); closes
 * the seekers it used.
 */
export function locate(batch: Batch, first: Seeker, budget: number, then: () => Seeker): Found {
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
  const { addrWords: words, count, entry } = batch;
  const found: Found = { entries: [], seeks: 0, firstSeeks: 0 };
  const ranges = new Ranges();
  const cache = slots ??= new Int32Array(4 * MAX_SLOTS);
  const bits = Math.min(14, Math.max(8, 32 - Math.clz32(count)));
  const shift = 32 - bits;
  let stamp = nextStamp();
  let epoch = 0;
  let s = first;
  let left = budget;
  // The last address's range, checked before the page cache: a profile's addresses mostly fall in a few VMAs (a
  // program's text), so the next one is often in the same range. Bounds as word pairs; empty until set.
  let lastSh = 1, lastSl = 0, lastEh = 0, lastEl = 0, lastE = -1, lastEpoch = -1;
  // The word order as locals: an imported binding is read (and checked) at every use in the loop.
  const hi = HI, lo = LO;
  for (let i = 0; i < count; i++) {
    const h = words[2 * i + hi], l = words[2 * i + lo];
    if (
      (h > lastSh || (h === lastSh && l >= lastSl)) && (h < lastEh || (h === lastEh && l < lastEl)) &&
      lastEpoch === epoch
    ) {
      entry[i] = lastE;
      continue;
    }
    const page = l >>> PAGE_SHIFT;
    const p = 4 * (Math.imul(page ^ Math.imul(h, 0x9e3779b1), 0x85ebca6b) >>> shift);
    let id: number;
    if (cache[p] === stamp && cache[p + 2] === page && cache[p + 1] === (h | 0)) id = cache[p + 3];
    else {
      id = ranges.find(h, l);
      if (id < 0) {
        if (left-- === 0) {
          s = then();
          found.firstSeeks = found.seeks;
        }
        found.seeks++;
        // The page is unmapped up to the VMA the seek returns (VMAs begin on a page), or to the end of space.
        const pl = (page << PAGE_SHIFT) >>> 0;
        if (!s.seek(h, l)) id = ranges.add(h, pl, END_OF_SPACE, 0, null);
        else if (s.startHi < h || (s.startHi === h && s.startLo <= l)) {
          id = ranges.add(s.startHi, s.startLo, s.endHi, s.endLo, s.current());
        } else id = ranges.add(h, pl, s.startHi, s.startLo, null);
        if (ranges.epoch !== epoch) {
          // A range was dropped: ids cached before are stale.
          epoch = ranges.epoch;
          stamp = nextStamp();
        }
      }
      cache[p] = stamp;
      cache[p + 1] = h;
      cache[p + 2] = page;
      cache[p + 3] = id;
    }
    let e = ranges.entry[id];
    if (e < 0 && ranges.vma[id] !== null) e = ranges.entry[id] = found.entries.push(ranges.vma[id]!) - 1;
    entry[i] = e;
    lastSh = ranges.startHi[id], lastSl = ranges.startLo[id], lastEh = ranges.endHi[id], lastEl = ranges.endLo[id];
    lastE = e;
    lastEpoch = epoch;
  }
  if (s === first) found.firstSeeks = found.seeks;
  return found;
}
