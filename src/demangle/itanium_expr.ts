/**
 * The expression part of the Itanium grammar (`decltype`, `sizeof`,
 * non-type template arguments, `noexcept(...)`, array bounds): operators,
 * casts, calls, `new`, fold expressions, initializer lists, literals and
 * unresolved names, built into the same tree as the parser's.
 * @module
 */
import { D_BUILTINS, K, type Node } from "./itanium_nodes.ts";
import { type Grammar, isDigit, isLower } from "./itanium_reader.ts";

/** `<expression>*` up to `terminator`. */
function exprList(p: Grammar, terminator: string): Node | null {
  if (p.check(terminator)) return p.make(K.ArgList);
  let head: Node | null = null;
  let tail: Node | null = null;
  for (;;) {
    const arg = p.expression();
    if (arg === null) return null;
    const cell = p.make(K.ArgList, arg);
    if (tail === null) head = cell;
    else tail.right = cell;
    tail = cell;
    if (p.check(terminator)) break;
  }
  return head;
}

function isNewCast(op: Node): boolean {
  const code = op.op!.code;
  return code[1] === "c" && (code[0] === "s" || code[0] === "d" || code[0] === "c" || code[0] === "r");
}

/** `sr ...`: a name that depends on a template parameter. */
function unresolvedName(p: Grammar): Node | null {
  p.pos += 2;
  const c = p.peek();
  let type: Node | null;
  if (p.unresolvedNameState && (isDigit(c) || isLower(c) || c === 0x43 || c === 0x55 || c === 0x4c)) {
    // `sr1AE1x` (new) and `sr1A1x` (old) are ambiguous: try the new form; the caller retries with the old.
    p.unresolvedNameState = -1;
    type = p.prefix(false);
    if (p.peek() === 0x45) p.pos++;
  } else {
    type = p.type();
  }
  let name = p.unqualifiedName(type, null);
  if (p.peek() === 0x49) name = p.comp2(K.Template, name, p.templateArgs());
  return name;
}

export function expression1(p: Grammar): Node | null {
  p.budget.enter();
  try {
    return expressionInner(p);
  } finally {
    p.budget.leave();
  }
}

function expressionInner(p: Grammar): Node | null {
  const c = p.peek();
  const n = p.peekNext();
  if (c === 0x4c) return exprPrimary(p); // L
  if (c === 0x54) { // T
    p.pos++;
    const param = p.compactNumber();
    if (param < 0) return null;
    const t = p.make(K.TemplateParam);
    t.num = param;
    return t;
  }
  if (c === 0x73 && n === 0x72) return unresolvedName(p); // sr
  if (c === 0x73 && n === 0x70) { // sp
    p.pos += 2;
    return p.comp1(K.PackExpansion, expression1(p));
  }
  if (c === 0x66 && n === 0x70) { // fp: a function parameter
    p.pos += 2;
    let index: number;
    if (p.peek() === 0x54) {
      p.pos++;
      index = 0;
    } else {
      index = p.compactNumber();
      if (index === 0x7fffffff || index === -1) return null;
      index++;
    }
    const f = p.make(K.FunctionParam);
    f.num = index;
    return f;
  }
  if (isDigit(c) || (c === 0x6f && n === 0x6e)) { // a name (dependent call), or `on` operator-function-id
    if (c === 0x6f) p.pos += 2;
    const name = p.unqualifiedName(null, null);
    if (name === null) return null;
    if (p.peek() === 0x49) return p.comp2(K.Template, name, p.templateArgs());
    return name;
  }
  if ((c === 0x69 || c === 0x74) && n === 0x6c) { // il, tl: braced initializer list
    p.pos += 2;
    let type: Node | null = null;
    if (c === 0x74) type = p.type();
    if (p.peek() === 0 || p.peekNext() === 0) return null;
    const list = exprList(p, "E");
    if (list === null) return null;
    return p.make(K.InitializerList, type, list);
  }
  if (c === 0x75) { // u: vendor extended expression
    p.pos++;
    const name = p.sourceName();
    const args = p.templateArgsRest();
    return p.comp2(K.VendorExpr, name, args);
  }
  const op = p.operatorName();
  if (op === null) return null;
  let code: string | null = null;
  if (op.kind === K.Operator) {
    code = op.op!.code;
    if (code === "st") return p.comp2(K.Unary, op, p.type());
  }
  let args: number;
  if (op.kind === K.Operator) args = op.op!.args;
  else if (op.kind === K.ExtendedOperator) args = op.num;
  else if (op.kind === K.Cast) args = 1;
  else return null;
  switch (args) {
    case 0:
      return p.comp1(K.Nullary, op);
    case 1: {
      let suffix = false;
      // pp_ and mm_ are the prefix forms; without the `_`, postfix.
      if (code !== null && (code[0] === "p" || code[0] === "m") && code[1] === code[0]) suffix = !p.check("_");
      let operand: Node | null;
      if (op.kind === K.Cast && p.check("_")) operand = exprList(p, "E");
      else if (code === "sP") operand = p.templateArgsRest();
      else operand = expression1(p);
      if (suffix) operand = p.comp2(K.BinaryArgs, operand, operand);
      return p.comp2(K.Unary, op, operand);
    }
    case 2: {
      if (code === null) return null;
      let left: Node | null;
      if (isNewCast(op)) left = p.type();
      else if (code[0] === "f") left = p.operatorName(); // fold expression
      else if (code === "di") left = p.unqualifiedName(null, null);
      else left = expression1(p);
      let right: Node | null;
      if (code === "cl") right = exprList(p, "E");
      else if (code === "dt" || code === "pt") {
        const q = p.peek();
        const q2 = p.peekNext();
        if ((q === 0x67 && q2 === 0x73) || (q === 0x73 && q2 === 0x72)) right = expression1(p); // gs, sr
        else {
          right = p.unqualifiedName(null, null);
          if (p.peek() === 0x49) right = p.comp2(K.Template, right, p.templateArgs());
        }
      } else right = expression1(p);
      return p.comp2(K.Binary, op, p.comp2(K.BinaryArgs, left, right));
    }
    case 3: {
      if (code === null) return null;
      let first: Node | null;
      let second: Node | null;
      let third: Node | null;
      if (code === "qu" || code === "dX") {
        first = expression1(p);
        second = expression1(p);
        third = expression1(p);
        if (third === null) return null;
      } else if (code[0] === "f") {
        first = p.operatorName();
        second = expression1(p);
        third = expression1(p);
        if (third === null) return null;
      } else if (code[0] === "n") {
        if (code[1] !== "w" && code[1] !== "a") return null;
        first = exprList(p, "_");
        second = p.type();
        if (p.peek() === 0x45) {
          p.pos++;
          third = null;
        } else if (p.peek() === 0x70 && p.peekNext() === 0x69) { // pi: parenthesized initializer
          p.pos += 2;
          third = exprList(p, "E");
        } else if (p.peek() === 0x69 && p.peekNext() === 0x6c) { // il
          third = expression1(p);
        } else return null;
      } else return null;
      // TRINARY_ARG2 needs only its left child; ARG1 and the whole need both.
      const arg2 = p.comp1(K.TrinaryArg2, second);
      if (arg2 !== null) arg2.right = third;
      return p.comp2(K.Trinary, op, p.comp2(K.TrinaryArg1, first, arg2));
    }
    default:
      return null;
  }
}

/** `L <type> <value> E` or `L <mangled-name> E`. */
export function exprPrimary(p: Grammar): Node | null {
  if (!p.check("L")) return null;
  let ret: Node | null;
  const c = p.peek();
  if (c === 0x5f || c === 0x5a) { // _Z (or a bare Z from old GCC)
    ret = p.mangledName(false);
  } else {
    const type = p.type();
    if (type === null) return null;
    if (type.kind === K.BuiltinType && type.builtin === D_BUILTINS.n && p.peek() === 0x45) {
      p.pos++;
      return type; // nullptr
    }
    let kind: K = K.Literal;
    if (p.peek() === 0x6e) {
      kind = K.LiteralNeg;
      p.pos++;
    }
    const start = p.pos;
    while (p.peek() !== 0x45) {
      if (p.peek() === 0) return null;
      p.pos++;
    }
    ret = p.comp2(kind, type, p.name(p.s.slice(start, p.pos)));
  }
  if (!p.check("E")) return null;
  return ret;
}
