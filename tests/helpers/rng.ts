/**
 * Reproducible randomness for fuzz and stress tests, and the case counts
 * they run (short in CI, long with PROCMAP_STRESS=1).
 *
 * The seed comes from PROCMAP_SEED when set, so a failure printed with its
 * seed can be replayed exactly.
 */
import process from "node:process";

/** True when the long variants should run (`PROCMAP_STRESS=1`). */
export const STRESS = process.env.PROCMAP_STRESS === "1";

/** `ci` normally, `stress` with PROCMAP_STRESS=1. */
export function count(ci: number, stress: number): number {
  return STRESS ? stress : ci;
}

/** The seed to use: PROCMAP_SEED if set, else `fallback` (fixed, so CI is repeatable). */
export function seed(fallback: number): number {
  const s = process.env.PROCMAP_SEED;
  if (s === undefined || s === "") return fallback;
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new Error(`PROCMAP_SEED must be an integer, got ${s}`);
  return n;
}

/** xoshiro128**: small, fast, good enough for test inputs (not for secrets). */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    // splitmix32 spreads the seed over the four words (never all zero).
    let s = ((seed >>> 0) ^ (Math.floor(seed / 4294967296) >>> 0)) >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = next();
    this.#b = next();
    this.#c = next();
    this.#d = next() | 1;
  }

  /** A uniformly random 32-bit unsigned integer. */
  u32(): number {
    const r = Math.imul(rotl(Math.imul(this.#b, 5), 7), 9) >>> 0;
    const t = this.#b << 9;
    this.#c ^= this.#a;
    this.#d ^= this.#b;
    this.#b ^= this.#c;
    this.#a ^= this.#d;
    this.#c ^= t;
    this.#d = rotl(this.#d, 11);
    return r;
  }

  /** An integer in [0, n) (n up to 2^32). */
  int(n: number): number {
    return n <= 1 ? 0 : Math.floor((this.u32() / 4294967296) * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }

  /** A random element. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** A random bigint of up to `bits` bits (uniform over the bit count, then the value). */
  bigint(bits: number): bigint {
    const n = this.range(0, bits);
    let v = 0n;
    for (let i = 0; i < n; i += 32) v = (v << 32n) | BigInt(this.u32());
    return n === 0 ? 0n : v & ((1n << BigInt(n)) - 1n);
  }

  /** A bigint in [0, n) (n below 2^64). */
  below(n: bigint): bigint {
    if (n <= 1n) return 0n;
    return ((BigInt(this.u32()) << 32n) | BigInt(this.u32())) % n;
  }

  /** Shuffles `items` in place and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }

  /** A fresh generator derived from this one (for independent sub-streams). */
  fork(): Rng {
    return new Rng(this.u32() * 65536 + (this.u32() & 0xffff));
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
