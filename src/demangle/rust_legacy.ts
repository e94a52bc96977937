/**
 * Rust's legacy mangling: `_ZN` + length-prefixed path segments + a
 * `17h<16 hex digits>` hash segment + `E`, segments escaped with `$LT$`,
 * `$u20$`, `..` and the like. Printed as `c++filt -i` does: segments joined
 * with `::`, the hash left out, a `.suffix` after the `E` dropped.
 * @module
 */
import type { Budget } from "./budget.ts";

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isAlnum(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
function hexNibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** The legacy hash: `h` and 16 lower-case hex digits, at least 5 of them distinct. */
function isHash(s: string, start: number, len: number): boolean {
  if (len !== 17 || s.charCodeAt(start) !== 0x68) return false;
  let seen = 0;
  for (let i = 1; i <= 16; i++) {
    const n = hexNibble(s.charCodeAt(start + i));
    if (n < 0) return false;
    seen |= 1 << n;
  }
  let count = 0;
  for (; seen; seen >>= 1) count += seen & 1;
  return count >= 5;
}

const ESCAPES: Readonly<Record<string, string>> = {
  SP: "@",
  BP: "*",
  RF: "&",
  LT: "<",
  GT: ">",
  LP: "(",
  RP: ")",
};

/** The character a `$...$` escape at `e` stands for, and its length; null when it is not one. */
function escapeAt(s: string, e: number, end: number): [string, number] | null {
  const len = end - e;
  if (len < 3 || s[e] !== "$") return null;
  let c: string | null = null;
  let escLen = 0;
  const rest = len - 1;
  if (s[e + 1] === "C") {
    escLen = 1;
    c = ",";
  } else if (rest > 2) {
    escLen = 2;
    const two = s.slice(e + 1, e + 3);
    if (two in ESCAPES) c = ESCAPES[two];
    else if (s[e + 1] === "u" && rest > 3) {
      escLen = 3;
      const hi = hexNibble(s.charCodeAt(e + 2));
      const lo = hexNibble(s.charCodeAt(e + 3));
      if (hi < 0 || lo < 0 || hi > 7) return null;
      const code = (hi << 4) | lo;
      if (code < 0x20) return null;
      c = String.fromCharCode(code);
    }
  }
  if (c === null || rest <= escLen || s[e + 1 + escLen] !== "$") return null;
  return [c, 2 + escLen];
}

/** One segment, unescaped. */
function printSegment(s: string, start: number, end: number): string {
  // The mangler puts `_` before an escape so that the segment starts with an identifier character.
  if (end - start >= 2 && s[start] === "_" && s[start + 1] === "$") start++;
  let out = "";
  while (start < end) {
    const ch = s[start];
    if (ch === "$") {
      const esc = escapeAt(s, start, end);
      if (esc === null) return out + s.slice(start, end); // the rest verbatim
      out += esc[0];
      start += esc[1];
    } else if (ch === ".") {
      if (start + 1 < end && s[start + 1] === ".") {
        out += "::";
        start += 2;
      } else {
        out += ".";
        start++;
      }
    } else {
      let j = start;
      while (j < end && s[j] !== "$" && s[j] !== ".") j++;
      out += s.slice(start, j);
      start = j;
    }
  }
  return out;
}

/**
 * The demangled legacy Rust name, or null when `name` is not one (the caller
 * then tries the C++ demangler, as binutils does).
 */
export function demangleRustLegacy(name: string, budget: Budget): string | null {
  if (!name.startsWith("_ZN")) return null;
  const base = 3;
  // The path ends at an `E` that ends the name or is followed by a `.suffix`
  // (such as `.llvm.123`): the last such `E`. Checked first, as most `_ZN`
  // names are C++ and fail here at once.
  const end = name.charCodeAt(name.length - 1) === 0x45 ? name.length - 1 : name.lastIndexOf("E.");
  if (end < base) return null;
  if (!(end - base > 19 && name.startsWith("17h", end - 19))) return null;
  for (let i = base; i < name.length; i++) {
    const c = name.charCodeAt(i);
    // `$ . :` appear in escapes and suffixes, `@` in a suffix.
    if (c !== 0x5f && !isAlnum(c) && c !== 0x24 && c !== 0x2e && c !== 0x3a && c !== 0x40) return null;
  }
  const segments: number[] = [];
  let pos = base;
  do {
    budget.step();
    const c = name.charCodeAt(pos);
    if (!isDigit(c)) return null;
    let len = c - 48;
    pos++;
    if (c !== 0x30) {
      while (pos < end && isDigit(name.charCodeAt(pos))) {
        len = len * 10 + name.charCodeAt(pos) - 48;
        pos++;
        if (len > end) return null;
      }
    }
    if (len === 0 || pos + len > end) return null;
    segments.push(pos, pos + len);
    pos += len;
  } while (pos < end);
  const n = segments.length;
  if (!isHash(name, segments[n - 2], segments[n - 1] - segments[n - 2])) return null;
  let out = "";
  // The hash segment is left out (c++filt -i is not verbose), unless it is all there is.
  const last = n > 2 ? n - 2 : n;
  for (let i = 0; i < last; i += 2) {
    if (i > 0) out += "::";
    out += printSegment(name, segments[i], segments[i + 1]);
    budget.output(out.length);
  }
  return out;
}
