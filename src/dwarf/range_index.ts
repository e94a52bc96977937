/**
 * A sorted index of address ranges for binary search, overlaps allowed:
 * units of a file, functions of a unit, inlined calls of a function.
 * @module
 */

/**
 * Ranges sorted by (group, begin) with a payload index; `maxEnd[i]` is the
 * largest end of the ranges of its group up to i, so overlapping ranges
 * are found too. Plain arrays (of doubles and small integers): a unit has
 * one index per function with inlined calls, and typed arrays cost far
 * more to make and collect at that count.
 */
export class RangeIndex {
  readonly begin: number[] = [];
  readonly end: number[] = [];
  readonly maxEnd: number[] = [];
  readonly item: number[] = [];
  /** The ranges of group g are [groupStart[g], groupStart[g + 1]). */
  readonly groupStart: number[] = [0];

  /** `flat` holds begin, end, item per range; `groups` (optional) a small group number per range. */
  constructor(flat: number[], groups?: number[]) {
    const n = flat.length / 3;
    let ngroups = 1;
    if (groups) { for (let i = 0; i < n; i++) ngroups = Math.max(ngroups, groups[i] + 1); }
    const order: number[] = [];
    for (let i = 0; i < n; i++) order.push(i);
    const g = groups ?? [];
    const cmp = (a: number, b: number) =>
      (groups ? g[a] - g[b] : 0) || flat[3 * a] - flat[3 * b] || flat[3 * a + 1] - flat[3 * b + 1];
    // Entries usually come in address order (functions as the compiler wrote them): no sort then.
    let sorted = true;
    for (let i = 1; i < n && sorted; i++) sorted = cmp(i - 1, i) <= 0;
    if (!sorted) order.sort(cmp);
    let max = -Infinity, group = 0;
    for (let i = 0; i < n; i++) {
      const o = order[i];
      const gi = groups ? g[o] : 0;
      while (group < gi) {
        this.groupStart.push(i);
        group++;
        max = -Infinity;
      }
      const s = 3 * o;
      this.begin.push(flat[s]);
      this.end.push(flat[s + 1]);
      this.item.push(flat[s + 2]);
      max = Math.max(max, flat[s + 1]);
      this.maxEnd.push(max);
    }
    while (group < ngroups) {
      this.groupStart.push(n);
      group++;
    }
  }

  /**
   * Set by {@link find}: the first address above its `addr` for which it
   * may answer otherwise (the next range to start, or the end of the one
   * found); every address in between gets the same answer.
   */
  until = 0;

  /** The last-starting range of [lo, hi) holding `addr`, or -1; sets {@link until}. */
  find(addr: number, lo = 0, hi = this.begin.length): number {
    const b = this.begin;
    const l0 = lo, h0 = hi;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (b[mid] <= addr) lo = mid + 1;
      else hi = mid;
    }
    // Up to the next start the same ranges hold it, the last-starting one first, until it ends.
    const next = lo < h0 ? b[lo] : Infinity;
    for (let i = lo - 1; i >= l0 && this.maxEnd[i] > addr; i--) {
      if (this.end[i] > addr) {
        this.until = next < this.end[i] ? next : this.end[i];
        return i;
      }
    }
    this.until = next;
    return -1;
  }

  /**
   * Calls `f` with each range of [lo, hi) holding `addr`, the last-starting
   * first, until it returns true; returns whether one did.
   */
  some(addr: number, f: (i: number) => boolean, lo = 0, hi = this.begin.length): boolean {
    const b = this.begin;
    const l0 = lo;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (b[mid] <= addr) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo - 1; i >= l0 && this.maxEnd[i] > addr; i--) {
      if (this.end[i] > addr && f(i)) return true;
    }
    return false;
  }

  get byteSize(): number {
    return this.begin.length * 32 + this.groupStart.length * 8;
  }
}
