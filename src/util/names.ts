/**
 * Bytes to strings for names and build IDs, shared by both backends so that
 * they produce identical strings for identical bytes.
 * @module
 */

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

/** Slots of a {@link NameCache}; a process maps far fewer distinct files than VMAs. */
const NAME_SLOTS = 128;

/**
 * Remembers recently decoded VMA names, so that a name already seen costs
 * a word-by-word comparison (a few ns) instead of a decode and a new string.
 * Direct-mapped by (hint, length); a hit is always verified byte for byte.
 */
export class NameCache {
  readonly #len = new Int32Array(NAME_SLOTS).fill(-1);
  readonly #bytes: Uint8Array[] = new Array(NAME_SLOTS);
  readonly #words: Int32Array[] = new Array(NAME_SLOTS);
  readonly #strings: string[] = new Array(NAME_SLOTS);
  readonly #lossy = new Uint8Array(NAME_SLOTS);
  /** Whether the last name returned had bytes that are not UTF-8 (its string cannot be encoded back to them). */
  lastLossy = false;

  /**
   * The name in `bytes[0, len)`. `words` views the same (4-byte aligned)
   * memory as `bytes`; `hint` spreads names over slots (the inode number).
   */
  get(bytes: Uint8Array, words: Int32Array, len: number, hint: number): string {
    const slot = ((hint ^ (hint >>> 7) ^ len) >>> 0) % NAME_SLOTS;
    if (this.#len[slot] === len) {
      const w = this.#words[slot];
      const whole = len >> 2;
      let i = 0;
      while (i < whole && words[i] === w[i]) i++;
      if (i === whole) {
        const b = this.#bytes[slot];
        let j = whole << 2;
        while (j < len && bytes[j] === b[j]) j++;
        if (j === len) {
          this.lastLossy = this.#lossy[slot] === 1;
          return this.#strings[slot];
        }
      }
    }
    return this.#fill(slot, bytes, 0, len, decodeName(bytes, 0, len));
  }

  /**
   * The string remembered for `text[start, start + len)` (any alignment: a
   * name in a maps text, compared byte by byte), or undefined; on a miss
   * the caller decodes it and gives it to {@link putAt}.
   */
  getAt(text: Uint8Array, start: number, len: number, hint: number): string | undefined {
    const slot = ((hint ^ (hint >>> 7) ^ len) >>> 0) % NAME_SLOTS;
    if (this.#len[slot] !== len) return undefined;
    const b = this.#bytes[slot];
    let j = 0;
    while (j < len && text[start + j] === b[j]) j++;
    if (j !== len) return undefined;
    this.lastLossy = this.#lossy[slot] === 1;
    return this.#strings[slot];
  }

  /** Remembers `s` as the string for `text[start, start + len)` (after a getAt() miss). */
  putAt(text: Uint8Array, start: number, len: number, hint: number, s: string): string {
    return this.#fill(((hint ^ (hint >>> 7) ^ len) >>> 0) % NAME_SLOTS, text, start, len, s);
  }

  #fill(slot: number, bytes: Uint8Array, start: number, len: number, s: string): string {
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
