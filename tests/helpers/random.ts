/** A small seeded generator (xorshift32), so random tests repeat exactly. */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0 || 1;
  }
  /** Next 32-bit value. */
  next(): number {
    let x = this.#s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    return (this.#s = x >>> 0);
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.next() / 4294967296) * n);
  }
  /** Bigint in [0, n). */
  bigint(n: bigint): bigint {
    if (n <= 0n) return 0n;
    const r = (BigInt(this.next()) << 32n) | BigInt(this.next());
    return r % n;
  }
  /** Shuffles in place and returns the array. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }
}
