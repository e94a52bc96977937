/**
 * Rust's v0 mangling (`_R...`, RFC 2603): paths, generic arguments, types,
 * constants, back-references, binders and punycode identifiers, printed as
 * `c++filt -i` does (binutils' reading: no crate disambiguators or const
 * types, the instantiating crate and any `.suffix` left out).
 * Back-references are re-read each time, as in binutils; the budget bounds
 * the work that makes possible.
 * @module
 */
import type { Budget } from "./budget.ts";

/** binutils' limit on nesting. */
const MAX_RECURSION = 1024;
const TWO_64 = 1n << 64n;

/** An unsigned 64-bit value: a number below 2^53, else a bigint. */
type U64 = number | bigint;

function u64(v: bigint): U64 {
  const w = ((v % TWO_64) + TWO_64) % TWO_64;
  return w < 2n ** 53n ? Number(w) : w;
}
function add(a: U64, b: number): U64 {
  return typeof a === "number" && a + b < 2 ** 53 ? a + b : u64(BigInt(a) + BigInt(b));
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isLower(c: number): boolean {
  return c >= 97 && c <= 122;
}
function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}

const BASIC: Readonly<Record<string, string>> = {
  b: "bool",
  c: "char",
  e: "str",
  u: "()",
  a: "i8",
  s: "i16",
  l: "i32",
  x: "i64",
  n: "i128",
  i: "isize",
  h: "u8",
  t: "u16",
  m: "u32",
  y: "u64",
  o: "u128",
  j: "usize",
  f: "f32",
  d: "f64",
  z: "!",
  p: "_",
  v: "...",
};

// Not an Error: an Error made at import costs Deno time in proportion to the module's size (for the bundle, all of
// procmap in one module: 10-14 ms of every import; not so in Node.js or Bun). It never escapes demangleRustV0().
class Fail {}
const FAIL = new Fail();

interface Ident {
  ascii: string;
  punycode: string;
}

/** Decodes a v0 punycode identifier (RFC 3492 with `_` as the delimiter already split off). */
function punycode(ascii: string, code: string, budget: Budget): string {
  const out: number[] = [];
  for (let k = 0; k < ascii.length; k++) out.push(ascii.charCodeAt(k));
  const base = 36, tMin = 1, tMax = 26, skew = 38;
  let damp = 700, bias = 72, i = 0, c = 0x80, pos = 0;
  while (pos < code.length) {
    let delta = 0, w = 1, k = 0, d: number, t: number;
    do {
      k += base;
      t = k < bias ? 0 : k - bias;
      if (t < tMin) t = tMin;
      if (t > tMax) t = tMax;
      if (pos >= code.length) return ""; // cut short: binutils prints nothing for this identifier
      const ch = code.charCodeAt(pos++);
      if (isLower(ch)) d = ch - 97;
      else if (isDigit(ch)) d = 26 + ch - 48;
      else throw FAIL;
      delta += d * w;
      w *= base - t;
      if (delta > 0x7fffffff || w > 0x7fffffff) throw FAIL;
    } while (d >= t);
    const len = out.length + 1;
    i += delta;
    c += Math.floor(i / len);
    i %= len;
    if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) throw FAIL; // not a character
    budget.charge(1 + (out.length >> 4)); // the insertion moves what follows
    out.splice(i, 0, c);
    if (pos === code.length) break;
    i++;
    delta = Math.floor(delta / damp);
    damp = 2;
    delta += Math.floor(delta / len);
    k = 0;
    while (delta > ((base - tMin) * tMax) >> 1) {
      delta = Math.floor(delta / (base - tMin));
      k += base;
    }
    bias = k + Math.floor(((base - tMin + 1) * delta) / (delta + skew));
  }
  return String.fromCodePoint(...out);
}

/** One v0 symbol being read and printed. */
class V0 {
  pos = 0;
  out = "";
  skipping = false;
  private recursion = 0;
  private boundLifetimes = 0;

  constructor(private readonly s: string, private readonly end: number, private readonly budget: Budget) {}

  private print(t: string): void {
    if (this.skipping) return;
    this.out += t;
    this.budget.output(this.out.length);
  }
  private peek(): number {
    return this.pos < this.end ? this.s.charCodeAt(this.pos) : 0;
  }
  private eat(c: number): boolean {
    if (this.peek() === c) {
      this.pos++;
      return true;
    }
    return false;
  }
  private next(): number {
    const c = this.peek();
    if (c === 0) throw FAIL;
    this.pos++;
    return c;
  }
  private enter(): void {
    this.budget.enter();
    if (++this.recursion > MAX_RECURSION) throw FAIL;
  }
  private leave(): void {
    this.recursion--;
    this.budget.leave();
  }

  /**
   * A base-62 number ended by `_` (`_` alone is 0), as an unsigned 64-bit
   * value: a number while exact, a bigint past 2^53 (only hostile names).
   */
  private integer62(): U64 {
    if (this.eat(0x5f)) return 0;
    let x = 0;
    let big: bigint | null = null;
    while (!this.eat(0x5f)) {
      const c = this.next();
      let d: number;
      if (isDigit(c)) d = c - 48;
      else if (isLower(c)) d = 10 + c - 97;
      else if (isUpper(c)) d = 36 + c - 65;
      else throw FAIL;
      if (big === null && x < 2 ** 46) x = x * 62 + d;
      else big = ((big ?? BigInt(x)) * 62n + BigInt(d)) % TWO_64;
    }
    return big === null ? x + 1 : u64(big + 1n);
  }
  private optInteger62(tag: number): U64 {
    if (!this.eat(tag)) return 0;
    return add(this.integer62(), 1);
  }
  /** A back-reference: an offset from just after `_R`. */
  private backref(): number {
    const v = add(this.integer62(), 2);
    // Past the end, reading fails at once.
    return typeof v === "bigint" || v > this.end ? this.end : v;
  }

  private ident(): Ident {
    const puny = this.eat(0x75); // u
    const c = this.next();
    if (!isDigit(c)) throw FAIL;
    let len = c - 48;
    if (c !== 0x30) {
      while (isDigit(this.peek())) {
        len = len * 10 + this.next() - 48;
        if (len > this.end) throw FAIL;
      }
    }
    this.eat(0x5f);
    const start = this.pos;
    if (start + len > this.end) throw FAIL;
    this.pos += len;
    const text = this.s.slice(start, start + len);
    if (!puny) return { ascii: text, punycode: "" };
    const sep = text.lastIndexOf("_");
    const code = text.slice(sep + 1);
    if (code.length === 0) throw FAIL;
    return { ascii: sep < 0 ? "" : text.slice(0, sep), punycode: code };
  }

  private printIdent(id: Ident): void {
    if (this.skipping) return;
    this.print(id.punycode === "" ? id.ascii : punycode(id.ascii, id.punycode, this.budget));
  }

  private lifetime(lt: U64): void {
    this.print("'");
    if (lt === 0) {
      this.print("_");
      return;
    }
    // An index past the binders wraps around, as binutils' unsigned arithmetic does.
    const depth = typeof lt === "number" && lt <= this.boundLifetimes
      ? this.boundLifetimes - lt
      : u64(BigInt(this.boundLifetimes) - BigInt(lt));
    if (depth < 26) this.print(String.fromCharCode(97 + Number(depth)));
    else this.print("_" + depth.toString());
  }

  private binder(): void {
    const n = this.optInteger62(0x47); // G
    if (n !== 0) {
      this.print("for<");
      for (let i = 0; i < n; i++) {
        this.budget.step(); // a count such as `Gzzzzzzzzzz_` costs what it prints
        if (i > 0) this.print(", ");
        this.boundLifetimes++;
        this.lifetime(1);
      }
      this.print("> ");
    }
  }

  path(inValue: boolean): void {
    this.enter();
    const tag = this.next();
    switch (tag) {
      case 0x43: { // C: crate root
        this.optInteger62(0x73);
        this.printIdent(this.ident());
        break;
      }
      case 0x4e: { // N: nested
        const ns = this.next();
        if (!isLower(ns) && !isUpper(ns)) throw FAIL;
        this.path(inValue);
        const dis = this.optInteger62(0x73);
        const name = this.ident();
        if (isUpper(ns)) {
          // Closures, shims and other special namespaces.
          this.print("::{");
          this.print(ns === 0x43 ? "closure" : ns === 0x53 ? "shim" : String.fromCharCode(ns));
          if (name.ascii !== "" || name.punycode !== "") {
            this.print(":");
            this.printIdent(name);
          }
          this.print("#" + dis.toString() + "}");
        } else if (name.ascii !== "" || name.punycode !== "") {
          this.print("::");
          this.printIdent(name);
        }
        break;
      }
      case 0x4d: // M: inherent impl
      case 0x58: // X: trait impl
      case 0x59: { // Y: trait definition
        if (tag !== 0x59) {
          // The impl's own path is not printed.
          this.optInteger62(0x73);
          const was = this.skipping;
          this.skipping = true;
          this.path(inValue);
          this.skipping = was;
        }
        this.print("<");
        this.type();
        if (tag !== 0x4d) {
          this.print(" as ");
          this.path(false);
        }
        this.print(">");
        break;
      }
      case 0x49: { // I: generic arguments
        this.path(inValue);
        if (inValue) this.print("::");
        this.print("<");
        for (let i = 0; !this.eat(0x45); i++) {
          if (i > 0) this.print(", ");
          this.genericArg();
        }
        this.print(">");
        break;
      }
      case 0x42: { // B: back-reference
        const at = this.backref();
        if (!this.skipping) {
          const old = this.pos;
          this.pos = at;
          this.path(inValue);
          this.pos = old;
        }
        break;
      }
      default:
        throw FAIL;
    }
    this.leave();
  }

  private genericArg(): void {
    if (this.eat(0x4c)) this.lifetime(this.integer62()); // L
    else if (this.eat(0x4b)) this.constant(); // K
    else this.type();
  }

  type(): void {
    const tag = this.next();
    const basic = BASIC[String.fromCharCode(tag)];
    if (basic !== undefined) {
      this.print(basic);
      return;
    }
    this.enter();
    switch (tag) {
      case 0x52: // R: &
      case 0x51: { // Q: &mut
        this.print("&");
        if (this.eat(0x4c)) {
          const lt = this.integer62();
          if (lt !== 0) {
            this.lifetime(lt);
            this.print(" ");
          }
        }
        if (tag !== 0x52) this.print("mut ");
        this.type();
        break;
      }
      case 0x50: // P: *const
      case 0x4f: // O: *mut
        this.print(tag === 0x50 ? "*const " : "*mut ");
        this.type();
        break;
      case 0x41: // A: array
      case 0x53: // S: slice
        this.print("[");
        this.type();
        if (tag === 0x41) {
          this.print("; ");
          this.constant();
        }
        this.print("]");
        break;
      case 0x54: { // T: tuple
        this.print("(");
        let i = 0;
        for (; !this.eat(0x45); i++) {
          if (i > 0) this.print(", ");
          this.type();
        }
        if (i === 1) this.print(",");
        this.print(")");
        break;
      }
      case 0x46: // F: fn pointer
        this.fnType();
        break;
      case 0x44: { // D: dyn Trait
        this.print("dyn ");
        const old = this.boundLifetimes;
        this.binder();
        for (let i = 0; !this.eat(0x45); i++) {
          if (i > 0) this.print(" + ");
          this.dynTrait();
        }
        this.boundLifetimes = old;
        if (!this.eat(0x4c)) throw FAIL;
        const lt = this.integer62();
        if (lt !== 0) {
          this.print(" + ");
          this.lifetime(lt);
        }
        break;
      }
      case 0x42: { // B: back-reference
        const at = this.backref();
        if (!this.skipping) {
          const old = this.pos;
          this.pos = at;
          this.type();
          this.pos = old;
        }
        break;
      }
      default:
        this.pos--;
        this.path(false);
    }
    this.leave();
  }

  private fnType(): void {
    const old = this.boundLifetimes;
    this.binder();
    if (this.eat(0x55)) this.print("unsafe "); // U
    if (this.eat(0x4b)) { // K: extern ABI
      let abi: string;
      if (this.eat(0x43)) abi = "C";
      else {
        const id = this.ident();
        if (id.ascii === "" || id.punycode !== "") throw FAIL;
        abi = id.ascii;
      }
      // A `-` in an ABI name was mangled as `_`.
      this.print(`extern "${abi.replaceAll("_", "-")}" `);
    }
    this.print("fn(");
    for (let i = 0; !this.eat(0x45); i++) {
      if (i > 0) this.print(", ");
      this.type();
    }
    this.print(")");
    if (!this.eat(0x75)) { // u: returns ()
      this.print(" -> ");
      this.type();
    }
    this.boundLifetimes = old;
  }

  /** A path whose `<...>` stays open for associated-type bindings; true when it is open. */
  private pathMaybeOpenGenerics(): boolean {
    this.enter();
    let open = false;
    if (this.eat(0x42)) { // B
      const at = this.backref();
      if (!this.skipping) {
        const old = this.pos;
        this.pos = at;
        open = this.pathMaybeOpenGenerics();
        this.pos = old;
      }
    } else if (this.eat(0x49)) { // I
      this.path(false);
      this.print("<");
      open = true;
      for (let i = 0; !this.eat(0x45); i++) {
        if (i > 0) this.print(", ");
        this.genericArg();
      }
    } else this.path(false);
    this.leave();
    return open;
  }

  private dynTrait(): void {
    let open = this.pathMaybeOpenGenerics();
    while (this.eat(0x70)) { // p: Assoc = Type
      this.print(open ? ", " : "<");
      open = true;
      this.printIdent(this.ident());
      this.print(" = ");
      this.type();
    }
    if (open) this.print(">");
  }

  private constant(): void {
    this.enter();
    if (this.eat(0x42)) { // B
      const at = this.backref();
      if (!this.skipping) {
        const old = this.pos;
        this.pos = at;
        this.constant();
        this.pos = old;
      }
      this.leave();
      return;
    }
    const tag = String.fromCharCode(this.next());
    switch (tag) {
      case "p":
        this.print("_");
        break;
      case "h":
      case "t":
      case "m":
      case "y":
      case "o":
      case "j":
        this.constUint();
        break;
      case "a":
      case "s":
      case "l":
      case "x":
      case "n":
      case "i":
        if (this.eat(0x6e)) this.print("-");
        this.constUint();
        break;
      case "b": {
        const [len, v] = this.hex();
        if (len !== 1 || v > 1n) throw FAIL;
        this.print(v === 0n ? "false" : "true");
        break;
      }
      case "c":
        this.constChar();
        break;
      default:
        throw FAIL;
    }
    this.leave();
  }

  /** Hex digits ended by `_`: their count and value (mod 2^64). */
  private hex(): [number, bigint] {
    const start = this.pos;
    while (!this.eat(0x5f)) {
      const c = this.next();
      if (!isDigit(c) && !(c >= 97 && c <= 102)) throw FAIL;
    }
    const digits = this.s.slice(start, this.pos - 1);
    const value = digits.length === 0 ? 0n : BigInt("0x" + digits.slice(-16));
    return [digits.length, value];
  }

  private constUint(): void {
    const start = this.pos;
    const [len, v] = this.hex();
    // Beyond 64 bits: verbatim, from one character late (binutils counts from after the `_`).
    if (len > 16) this.print("0x" + this.s.slice(start + 1, start + 1 + len));
    else if (len > 0) this.print(v.toString());
    else throw FAIL;
  }

  private constChar(): void {
    const [len, v] = this.hex();
    if (len === 0 || len > 8) throw FAIL;
    this.print("'");
    if (v === 9n) this.print("\\t");
    else if (v === 13n) this.print("\\r");
    else if (v === 10n) this.print("\\n");
    else if (v > 32n && v < 126n) this.print(String.fromCharCode(Number(v)));
    else this.print("\\u{" + v.toString(16) + "}");
    this.print("'");
  }
}

/**
 * The demangled v0 name, or null when `name` is not one binutils reads
 * (the caller then tries the C++ demangler, which fails on `_R`).
 */
export function demangleRustV0(name: string, budget: Budget): string | null {
  if (!name.startsWith("_R") || !isUpper(name.charCodeAt(2))) return null;
  // Only [_0-9A-Za-z] up to an optional `.suffix`, which is left out.
  let end = 2;
  for (; end < name.length; end++) {
    const c = name.charCodeAt(end);
    if (c === 0x2e) break;
    if (c !== 0x5f && !isDigit(c) && !isLower(c) && !isUpper(c)) return null;
  }
  const v = new V0(name, end, budget);
  v.pos = 2;
  try {
    v.path(true);
    if (v.pos < end) {
      v.skipping = true; // the instantiating crate
      v.path(false);
    }
  } catch (e) {
    if (e instanceof Fail) return null;
    throw e;
  }
  return v.pos === end ? v.out : null;
}
