/**
 * Bytes to strings for names and build IDs, shared by both backends so that
 * they produce identical strings for identical bytes.
 * @module
 */

const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/**
 * Decodes a VMA name. Non-UTF-8 bytes become U+FFFD (as `TextDecoder` does),
 * the same in both backends. ASCII names, nearly all of them, skip the
 * decoder.
 */
export function decodeName(bytes: Uint8Array, start: number, end: number): string {
  const len = end - start;
  if (len <= 0) return "";
  if (len <= 128) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (bytes[i] >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
    }
  }
  return utf8.decode(bytes.subarray(start, end));
}

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Lowercase hex of `bytes[0, len)`, the form build IDs are reported in. */
export function toHex(bytes: Uint8Array, len: number): string {
  let s = "";
  for (let i = 0; i < len; i++) s += HEX[bytes[i]];
  return s;
}
