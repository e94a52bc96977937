/**
 * The reading state of the Itanium parser (position, substitution table,
 * the flags binutils keeps) with its primitives, and the {@link Grammar} the
 * productions call each other through: the productions live in several
 * modules (itanium_parser, itanium_types, itanium_special, itanium_expr)
 * that see one another only through it.
 * @module
 */
import type { Budget } from "./budget.ts";
import { type Builtin, K, Node } from "./itanium_nodes.ts";

/** Thrown when binutils' component array would be full: the name is not demangled (not an Error: see PRINT_FAIL). */
export const PARSE_FAIL: { readonly message: string } = Object.freeze({ message: "too many components" });

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
export function isLower(c: number): boolean {
  return c >= 97 && c <= 122;
}
export function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}

/** The state of one name being read, and the primitives every production uses. */
export class Reader {
  pos = 0;
  readonly subs: Node[] = [];
  lastName: Node | null = null;
  isExpression = false;
  isConversion = false;
  /** 1: try the new unresolved-name grammar; -1: tried; 0: old grammar only. */
  unresolvedNameState = 1;
  fnNesting = 0;
  nodes = 0;
  readonly maxNodes: number;
  readonly maxSubs: number;

  constructor(readonly s: string, readonly budget: Budget) {
    // binutils sizes its arrays so: 2 components and 1 substitution per character.
    this.maxNodes = 2 * s.length;
    this.maxSubs = s.length;
  }

  // ---- characters

  peek(): number {
    return this.pos < this.s.length ? this.s.charCodeAt(this.pos) : 0;
  }
  peekNext(): number {
    return this.pos + 1 < this.s.length ? this.s.charCodeAt(this.pos + 1) : 0;
  }
  next(): number {
    if (this.pos >= this.s.length) return 0;
    return this.s.charCodeAt(this.pos++);
  }
  check(c: string): boolean {
    if (this.pos < this.s.length && this.s[this.pos] === c) {
      this.pos++;
      return true;
    }
    return false;
  }
  /** True when the whole name was read. */
  atEnd(): boolean {
    return this.pos >= this.s.length;
  }

  // ---- nodes

  make(kind: K, left: Node | null = null, right: Node | null = null): Node {
    this.budget.step();
    if (++this.nodes > this.maxNodes) throw PARSE_FAIL;
    return new Node(kind, left, right);
  }

  /** A two-child node that needs both children, or null (binutils' d_make_comp checks). */
  comp2(kind: K, left: Node | null, right: Node | null): Node | null {
    if (left === null || right === null) return null;
    return this.make(kind, left, right);
  }
  comp1(kind: K, left: Node | null, right: Node | null = null): Node | null {
    if (left === null) return null;
    return this.make(kind, left, right);
  }
  name(str: string): Node | null {
    if (str.length === 0) return null;
    const n = this.make(K.Name);
    n.str = str;
    return n;
  }
  builtin(b: Builtin): Node {
    const n = this.make(K.BuiltinType);
    n.builtin = b;
    return n;
  }
  addSub(n: Node | null): boolean {
    if (n === null || this.subs.length >= this.maxSubs) return false;
    this.subs.push(n);
    return true;
  }

  /** `[n] <digits>`; -1 on overflow of a 32-bit int, as binutils. */
  number(): number {
    let negative = false;
    if (this.peek() === 0x6e) {
      negative = true;
      this.pos++;
    }
    let ret = 0;
    for (;;) {
      const c = this.peek();
      if (!isDigit(c)) return negative ? -ret : ret;
      if (ret > Math.floor((0x7fffffff - (c - 48)) / 10)) return -1;
      ret = ret * 10 + (c - 48);
      this.pos++;
    }
  }

  /** `_` is 0, `<n>_` is n + 1; -1 when malformed. */
  compactNumber(): number {
    let num: number;
    const c = this.peek();
    if (c === 0x5f) num = 0;
    else if (c === 0x6e) return -1;
    else num = this.number() + 1;
    if (num < 0 || !this.check("_")) return -1;
    return num;
  }

  checkpoint(): [number, number, number] {
    return [this.pos, this.subs.length, this.nodes];
  }
  backtrack(c: [number, number, number]): void {
    this.pos = c[0];
    this.subs.length = c[1];
    this.nodes = c[2];
  }
}

/** A chain of qualifier nodes being read, outermost first, to wrap around a type. */
export class Quals {
  outermost: Node | null = null;
  innermost: Node | null = null;
  push(q: Node): void {
    if (this.innermost === null) this.outermost = q;
    else this.innermost.left = q;
    this.innermost = q;
  }
  /** The chain around `inner` (or `inner` itself when there are none). */
  attach(inner: Node): Node {
    if (this.innermost === null) return inner;
    this.innermost.left = inner;
    return this.outermost!;
  }
}

/** The productions, as the parser class provides them. */
export interface Grammar extends Reader {
  mangledName(topLevel: boolean): Node | null;
  encoding(topLevel: boolean): Node | null;
  parseName(substable: boolean): Node | null;
  prefix(substable: boolean): Node | null;
  maybeModuleName(module: Node | null): Node | null | false;
  unqualifiedName(scope: Node | null, module: Node | null): Node | null;
  abiTags(dc: Node | null): Node | null;
  sourceName(): Node | null;
  operatorName(): Node | null;
  substitution(prefix: boolean): Node | null;
  templateParam(): Node | null;
  templateArgs(): Node | null;
  templateArgsRest(): Node | null;
  templateArg(): Node | null;
  expression(): Node | null;
  exprPrimary(): Node | null;
  type(): Node | null;
  cvQualifiers(memberFn: boolean): Quals | null;
  refQualifier(sub: Node | null): Node | null;
  functionType(): Node | null;
  parmList(): Node | null;
  bareFunctionType(hasReturn: boolean): Node | null;
  specialName(): Node | null;
  ctorDtorName(): Node | null;
  localName(): Node | null;
  discriminator(): boolean;
  lambda(): Node | null;
  unnamedType(): Node | null;
}
