/**
 * Types: builtins, qualifiers (cv, `noexcept`, `throw()`, ref-qualifiers),
 * pointers and references, function, array, vector and pointer-to-member
 * types, template parameters, `decltype`, pack expansions.
 * @module
 */
import { BFLOAT16, BUILTINS, D_BUILTINS, FLOAT_N, K, type Node, PrintAs } from "./itanium_nodes.ts";
import { type Grammar, isDigit, isLower, Quals } from "./itanium_reader.ts";

/** binutils' limit on nested function types while parsing. */
const MAX_FUNCTION_NESTING = 2048;

export function nextIsTypeQual(p: Grammar): boolean {
  const c = p.peek();
  if (c === 0x72 || c === 0x56 || c === 0x4b) return true; // r V K
  if (c === 0x44) {
    const n = p.peekNext();
    return n === 0x78 || n === 0x6f || n === 0x4f || n === 0x77; // Dx Do DO Dw
  }
  return false;
}

/** `<type>`: the heart of the grammar. */
export function type(p: Grammar): Node | null {
  if (nextIsTypeQual(p)) {
    const quals = p.cvQualifiers(false);
    if (quals === null) return null;
    const inner = p.peek() === 0x46 ? p.functionType() : p.type();
    if (inner === null) return null;
    let ret = quals.attach(inner);
    if (inner.kind === K.RvalueReferenceThis || inner.kind === K.ReferenceThis) {
      // The ref-qualifier goes outside the cv-qualifiers, to print in order.
      quals.innermost!.left = inner.left;
      inner.left = ret;
      ret = inner;
    }
    if (!p.addSub(ret)) return null;
    return ret;
  }
  let canSubst = true;
  const c = p.peek();
  let ret: Node | null;
  if (isLower(c) && BUILTINS[c - 97] !== null && c !== 0x75) { // not u
    ret = p.builtin(BUILTINS[c - 97]!);
    p.pos++;
    canSubst = false;
  } else {
    switch (c) {
      case 0x75: // u: vendor type
        p.pos++;
        ret = p.comp1(K.VendorType, p.sourceName());
        break;
      case 0x46: // F
        ret = p.functionType();
        break;
      case 0x41: // A
        ret = arrayType(p);
        break;
      case 0x4d: // M
        ret = pointerToMemberType(p);
        break;
      case 0x54: // T
        ret = p.templateParam();
        if (p.peek() === 0x49) {
          if (!p.isConversion) {
            if (!p.addSub(ret)) return null;
            ret = p.comp2(K.Template, ret, p.templateArgs());
          } else {
            // In a conversion operator's type, template args here may belong to the enclosing name.
            const save = p.checkpoint();
            const args = p.templateArgs();
            if (p.peek() === 0x49) {
              if (!p.addSub(ret)) return null;
              ret = p.comp2(K.Template, ret, args);
            } else p.backtrack(save);
          }
        }
        break;
      case 0x4f: // O
        p.pos++;
        ret = p.comp1(K.RvalueReference, p.type());
        break;
      case 0x50: // P
        p.pos++;
        ret = p.comp1(K.Pointer, p.type());
        break;
      case 0x52: // R
        p.pos++;
        ret = p.comp1(K.Reference, p.type());
        break;
      case 0x43: // C
        p.pos++;
        ret = p.comp1(K.Complex, p.type());
        break;
      case 0x47: // G
        p.pos++;
        ret = p.comp1(K.Imaginary, p.type());
        break;
      case 0x55: { // U: vendor qualifier
        p.pos++;
        let q = p.sourceName();
        if (p.peek() === 0x49) q = p.comp2(K.Template, q, p.templateArgs());
        ret = p.comp2(K.VendorTypeQual, p.type(), q);
        break;
      }
      case 0x44: { // D
        canSubst = false;
        p.pos++;
        const d = String.fromCharCode(p.next());
        switch (d) {
          case "T":
          case "t": {
            ret = p.comp1(K.Decltype, p.expression());
            if (ret !== null && p.next() !== 0x45) ret = null;
            canSubst = true;
            break;
          }
          case "p":
            ret = p.comp1(K.PackExpansion, p.type());
            canSubst = true;
            break;
          case "a":
            ret = p.name("auto");
            break;
          case "c":
            ret = p.name("decltype(auto)");
            break;
          case "F": {
            const arg = p.number();
            if (p.peek() === 0x62) { // b
              if (arg !== 16) return null;
              p.pos++;
              ret = p.builtin(BFLOAT16);
              break;
            }
            const x = p.peek() === 0x78;
            if (!x && p.peek() !== 0x5f) return null;
            ret = p.make(K.ExtendedBuiltinType);
            ret.builtin = FLOAT_N;
            ret.num = arg;
            ret.str = x ? "x" : "";
            p.pos++;
            break;
          }
          case "v":
            ret = vectorType(p);
            canSubst = true;
            break;
          default: {
            const b = D_BUILTINS[d];
            if (b === undefined || d.length === 0) return null;
            ret = p.builtin(b);
          }
        }
        break;
      }
      default:
        return p.parseName(true);
    }
  }
  if (canSubst && !p.addSub(ret)) return null;
  return ret;
}

/** CV-qualifiers as a chain to wrap around what follows; null on a bad qualifier. */
export function cvQualifiers(p: Grammar, memberFn: boolean): Quals | null {
  const quals = new Quals();
  while (nextIsTypeQual(p)) {
    const c = p.next();
    let kind: K;
    let right: Node | null = null;
    if (c === 0x72) kind = memberFn ? K.RestrictThis : K.Restrict;
    else if (c === 0x56) kind = memberFn ? K.VolatileThis : K.Volatile;
    else if (c === 0x4b) kind = memberFn ? K.ConstThis : K.Const;
    else {
      const d = p.next();
      if (d === 0x78) kind = K.TransactionSafe;
      else if (d === 0x6f || d === 0x4f) {
        kind = K.Noexcept;
        if (d === 0x4f) {
          right = p.expression();
          if (right === null || !p.check("E")) return null;
        }
      } else if (d === 0x77) {
        kind = K.ThrowSpec;
        right = p.parmList();
        if (right === null || !p.check("E")) return null;
      } else return null;
    }
    quals.push(p.make(kind, null, right));
  }
  // Before a function type, plain cv-qualifiers apply to `this`.
  if (!memberFn && p.peek() === 0x46) {
    for (let q = quals.outermost; q !== null; q = q === quals.innermost ? null : q.left) {
      if (q.kind === K.Restrict) q.kind = K.RestrictThis;
      else if (q.kind === K.Volatile) q.kind = K.VolatileThis;
      else if (q.kind === K.Const) q.kind = K.ConstThis;
    }
  }
  return quals;
}

export function refQualifier(p: Grammar, sub: Node | null): Node | null {
  const c = p.peek();
  if (c === 0x52 || c === 0x4f) {
    p.pos++;
    return p.make(c === 0x52 ? K.ReferenceThis : K.RvalueReferenceThis, sub);
  }
  return sub;
}

export function functionType(p: Grammar): Node | null {
  if (p.fnNesting > MAX_FUNCTION_NESTING) return null;
  p.fnNesting++;
  p.budget.enter();
  let ret: Node | null = null;
  if (p.check("F")) {
    if (p.peek() === 0x59) p.pos++; // Y: extern "C", not printed
    ret = p.bareFunctionType(true);
    ret = p.refQualifier(ret);
    if (!p.check("E")) ret = null;
  }
  p.budget.leave();
  p.fnNesting--;
  return ret;
}

export function parmList(p: Grammar): Node | null {
  let head: Node | null = null;
  let tail: Node | null = null;
  for (;;) {
    const c = p.peek();
    if (c === 0 || c === 0x45 || c === 0x2e) break; // end, E, .
    if ((c === 0x52 || c === 0x4f) && p.peekNext() === 0x45) break; // a ref-qualifier
    const type = p.type();
    if (type === null) return null;
    const cell = p.make(K.ArgList, type);
    if (tail === null) head = cell;
    else tail.right = cell;
    tail = cell;
  }
  if (head === null) return null;
  // A single `void` parameter means none.
  if (head.right === null && head.left!.kind === K.BuiltinType && head.left!.builtin!.print === PrintAs.Void) {
    head.left = null;
  }
  return head;
}

export function bareFunctionType(p: Grammar, hasReturn: boolean): Node | null {
  if (p.peek() === 0x4a) { // J: the first type is the return type
    p.pos++;
    hasReturn = true;
  }
  let ret: Node | null = null;
  if (hasReturn) {
    ret = p.type();
    if (ret === null) return null;
  }
  const tl = p.parmList();
  if (tl === null) return null;
  return p.make(K.FunctionType, ret, tl);
}

export function arrayType(p: Grammar): Node | null {
  if (!p.check("A")) return null;
  const c = p.peek();
  let dim: Node | null = null;
  if (c === 0x5f) dim = null;
  else if (isDigit(c)) {
    const start = p.pos;
    while (isDigit(p.peek())) p.pos++;
    dim = p.name(p.s.slice(start, p.pos));
    if (dim === null) return null;
  } else {
    dim = p.expression();
    if (dim === null) return null;
  }
  if (!p.check("_")) return null;
  const elem = p.type();
  if (elem === null) return null;
  return p.make(K.ArrayType, dim, elem);
}

export function vectorType(p: Grammar): Node | null {
  let dim: Node | null;
  if (p.peek() === 0x5f) {
    p.pos++;
    dim = p.expression();
  } else {
    dim = p.make(K.Number);
    dim.num = p.number();
  }
  if (dim === null || !p.check("_")) return null;
  return p.comp2(K.VectorType, dim, p.type());
}

export function pointerToMemberType(p: Grammar): Node | null {
  if (!p.check("M")) return null;
  const cl = p.type();
  if (cl === null) return null;
  const mem = p.type();
  if (mem === null) return null;
  return p.make(K.PtrmemType, cl, mem);
}
