/**
 * Bytes to strings for names and build IDs, shared by both backends so that
 * they produce identical strings for identical bytes.
 * @module
 */

import { nativeLittleEndian } from "./bytes.ts";

const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/**
 * Decodes a VMA name. Non-UTF-8 bytes become U+FFFD (as `TextDecoder` does),
 * the same in both backends.
 */
export function decodeName(bytes: Uint8Array, start: number, end: number): string {
  return end > start ? utf8.decode(bytes.subarray(start, end)) : "";
}

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Lowercase hex of `bytes[0, len)`, the form build IDs are reported in. */
export function toHex(bytes: Uint8Array, len: number): string {
  let s = "";
  for (let i = 0; i < len; i++) s += HEX[bytes[i]];
  return s;
}

/** Sets of a {@link NameCache}: 2^SET_BITS of WAYS slots each (a process maps far fewer distinct files than VMAs). */
const SET_BITS = 7;
const WAYS = 4;
const NAME_SLOTS = WAYS << SET_BITS;

/**
 * The first slot of the set for a name: from the hint, the length and two
 * of the name's bytes (the middle and the last), so that names without an
 * inode and of one length, such as `[heap]`, `[vdso]` and `[vvar]`, spread.
 */
function setOf(hint: number, len: number, mid: number | undefined, last: number | undefined): number {
  // Multiplicative hashing: the top bits of the product depend on every input bit.
  const h = Math.imul(hint ^ Math.imul(len, 0x85ebca6b), 0x9e3779b1) ^
    Math.imul((mid ?? 0) | ((last ?? 0) << 8), 0xc2b2ae35);
  return (Math.imul(h, 0x27d4eb2d) >>> (32 - SET_BITS)) * WAYS;
}

/**
 * Remembers recently decoded VMA names, so that a name already seen costs
 * a word-by-word comparison (a few ns) instead of a decode and a new string.
 * Four-way set-associative (names that share a set, alternating as a
 * process's files do, all stay), replaced round-robin on a miss; a hit is
 * always verified against every byte.
 */
export class NameCache {
  readonly #len = new Int32Array(NAME_SLOTS).fill(-1);
  readonly #bytes: Uint8Array[] = new Array(NAME_SLOTS);
  readonly #words: Int32Array[] = new Array(NAME_SLOTS);
  readonly #strings: string[] = new Array(NAME_SLOTS);
  readonly #lossy = new Uint8Array(NAME_SLOTS);
  /** Per set, the way the next miss replaces (round-robin). */
  readonly #victim = new Uint8Array(NAME_SLOTS / WAYS);
  /** Whether the last name returned had bytes that are not UTF-8 (its string cannot be encoded back to them). */
  lastLossy = false;

  /**
   * The name in `bytes[0, len)`. `words` views the same (4-byte aligned)
   * memory as `bytes`; `hint` spreads names over slots (the inode number).
   */
  get(bytes: Uint8Array, words: Int32Array, len: number, hint: number): string {
    const set = setOf(hint, len, bytes[len >> 1], bytes[len - 1]);
    for (let slot = set; slot < set + WAYS; slot++) {
      if (this.#len[slot] !== len) continue;
      const w = this.#words[slot];
      const whole = len >> 2;
      let i = 0;
      while (i < whole && words[i] === w[i]) i++;
      if (i !== whole) continue;
      const b = this.#bytes[slot];
      let j = whole << 2;
      while (j < len && bytes[j] === b[j]) j++;
      if (j === len) return this.#hit(slot);
    }
    return this.#fill(set, bytes, 0, len, decodeName(bytes, 0, len));
  }

  /**
   * The string remembered for `text[start, start + len)` (any alignment: a
   * name in a maps text, compared a word at a time through `view`, a
   * DataView of `text`'s bytes from its first), or undefined; on a miss the
   * caller decodes it and gives it to {@link putAt}.
   */
  getAt(text: Uint8Array, view: DataView, start: number, len: number, hint: number): string | undefined {
    const set = setOf(hint, len, text[start + (len >> 1)], text[start + len - 1]);
    for (let slot = set; slot < set + WAYS; slot++) {
      if (this.#len[slot] !== len) continue;
      const w = this.#words[slot];
      const whole = len >> 2;
      let i = 0;
      while (i < whole && view.getInt32(start + 4 * i, nativeLittleEndian) === w[i]) i++;
      if (i !== whole) continue;
      const b = this.#bytes[slot];
      let j = whole << 2;
      while (j < len && text[start + j] === b[j]) j++;
      if (j === len) return this.#hit(slot);
    }
    return undefined;
  }

  /** Remembers `s` as the string for `text[start, start + len)` (after a getAt() miss). */
  putAt(text: Uint8Array, start: number, len: number, hint: number, s: string): string {
    return this.#fill(setOf(hint, len, text[start + (len >> 1)], text[start + len - 1]), text, start, len, s);
  }

  #hit(slot: number): string {
    this.lastLossy = this.#lossy[slot] === 1;
    return this.#strings[slot];
  }

  #fill(set: number, bytes: Uint8Array, start: number, len: number, s: string): string {
    const way = this.#victim[set / WAYS];
    this.#victim[set / WAYS] = (way + 1) % WAYS;
    const slot = set + way;
    // U+FFFD may also be a real character; keeping raw bytes for it is harmless.
    const lossy = s.includes("\uFFFD");
    this.#lossy[slot] = lossy ? 1 : 0;
    this.lastLossy = lossy;
    const copy = new Uint8Array(new ArrayBuffer((len + 3) & ~3));
    copy.set(bytes.subarray(start, start + len));
    this.#len[slot] = len;
    this.#bytes[slot] = copy;
    this.#words[slot] = new Int32Array(copy.buffer);
    this.#strings[slot] = s;
    return s;
  }
}
