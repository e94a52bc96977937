/**
 * Prints the expression nodes of an Itanium tree as `c++filt -i` does:
 * operators in parentheses, casts, calls, `new`, fold expressions,
 * designated initializers, `sizeof...` as the pack's length, and literals
 * (`1u`, `-2l`, `true`, `(char)97`, `(double)[...]`).
 * @module
 */
import { INT_SUFFIX, K, type Node, packLength, PRINT_FAIL, PrintAs } from "./itanium_nodes.ts";

/** What the expression printer needs of the main printer. */
export interface ExprPrinter {
  packIndex: number;
  append(s: string): void;
  comp(dc: Node | null): void;
  subexpr(dc: Node): void;
  findPack(dc: Node | null): Node | null;
  charge(n: number): void;
}

/** Prints an expression node (any kind the main printer does not handle). */
export function printExpression(p: ExprPrinter, dc: Node): void {
  switch (dc.kind) {
    case K.InitializerList:
      if (dc.left !== null) p.comp(dc.left);
      p.append("{");
      p.comp(dc.right);
      p.append("}");
      return;
    case K.Nullary:
      exprOp(p, dc.left!);
      return;
    case K.Unary:
      unary(p, dc);
      return;
    case K.Binary:
      binary(p, dc);
      return;
    case K.Trinary:
      trinary(p, dc);
      return;
    case K.Literal:
    case K.LiteralNeg:
      literal(p, dc);
      return;
    case K.VendorExpr:
      p.comp(dc.left);
      p.append("(");
      p.comp(dc.right);
      p.append(")");
      return;
    default:
      // BinaryArgs, TrinaryArg1/2, Cast and DefaultArg never print on their own.
      throw PRINT_FAIL;
  }
}

function exprOp(p: ExprPrinter, dc: Node): void {
  if (dc.kind === K.Operator) p.append(dc.op!.name);
  else p.comp(dc);
}

function code(dc: Node): string | null {
  return dc.kind === K.Operator ? dc.op!.code : null;
}

function unary(p: ExprPrinter, dc: Node): void {
  const op = dc.left!;
  let operand = dc.right!;
  const c = code(op);
  if (c !== null) {
    // The address of a function: without its parameter list.
    if (
      c === "ad" && operand.kind === K.TypedName && operand.left!.kind === K.QualName &&
      operand.right!.kind === K.FunctionType
    ) {
      operand = operand.left!;
    }
    if (operand.kind === K.BinaryArgs) {
      // A postfix ++ or --.
      p.subexpr(operand.left!);
      exprOp(p, op);
      return;
    }
  }
  if (c === "sZ") {
    const len = packLength(p.findPack(operand));
    p.charge(len);
    p.append(String(len));
    return;
  }
  if (c === "sP") {
    p.append(String(argsLength(p, operand)));
    return;
  }
  if (op.kind !== K.Cast) exprOp(p, op);
  else {
    p.append("(");
    p.comp(op.left);
    p.append(")");
  }
  if (c === "gs") p.comp(operand);
  else if (c === "st") {
    p.append("(");
    p.comp(operand);
    p.append(")");
  } else p.subexpr(operand);
}

/** The number of template arguments in `dc`, packs expanded. */
function argsLength(p: ExprPrinter, dc: Node | null): number {
  let count = 0;
  for (; dc !== null && dc.kind === K.TemplateArgList; dc = dc.right) {
    const elt = dc.left;
    if (elt === null) break;
    if (elt.kind === K.PackExpansion) {
      const len = packLength(p.findPack(elt.left));
      p.charge(len);
      count += len;
    } else count++;
  }
  return count;
}

function isNewCast(op: Node): boolean {
  const c = code(op);
  return c !== null && c[1] === "c" && (c[0] === "s" || c[0] === "d" || c[0] === "c" || c[0] === "r");
}

function binary(p: ExprPrinter, dc: Node): void {
  const op = dc.left!;
  const args = dc.right!;
  if (args.kind !== K.BinaryArgs) throw PRINT_FAIL;
  if (isNewCast(op)) {
    exprOp(p, op);
    p.append("<");
    p.comp(args.left);
    p.append(">(");
    p.comp(args.right);
    p.append(")");
    return;
  }
  if (foldExpression(p, dc)) return;
  if (designatedInit(p, dc)) return;
  const c = op.op!.code;
  // `>` goes in parentheses, so as not to end a template argument list.
  const gt = op.kind === K.Operator && op.op!.name === ">";
  if (gt) p.append("(");
  if (c === "cl" && args.left!.kind === K.TypedName) {
    // A call prints the function's name, not its parameter types.
    const func = args.left!;
    if (func.right!.kind !== K.FunctionType) throw PRINT_FAIL;
    p.subexpr(func.left!);
  } else p.subexpr(args.left!);
  if (c === "ix") {
    p.append("[");
    p.comp(args.right);
    p.append("]");
  } else {
    if (c !== "cl") exprOp(p, op);
    p.subexpr(args.right!);
  }
  if (gt) p.append(")");
}

function trinary(p: ExprPrinter, dc: Node): void {
  const a1 = dc.right!;
  if (a1.kind !== K.TrinaryArg1 || a1.right!.kind !== K.TrinaryArg2) throw PRINT_FAIL;
  if (foldExpression(p, dc)) return;
  if (designatedInit(p, dc)) return;
  const op = dc.left!;
  const first = a1.left!;
  const second = a1.right!.left!;
  const third = a1.right!.right;
  if (op.op!.code === "qu") {
    p.subexpr(first);
    exprOp(p, op);
    p.subexpr(second);
    p.append(" : ");
    p.subexpr(third!);
  } else {
    p.append("new ");
    if (first.left !== null) {
      p.subexpr(first);
      p.append(" ");
    }
    p.comp(second);
    if (third !== null) p.subexpr(third);
  }
}

/** C++17 fold expressions: `(... + x)`, `(x + ...)`, `(a + ... + x)`. */
function foldExpression(p: ExprPrinter, dc: Node): boolean {
  const fold = code(dc.left!);
  if (fold === null || fold[0] !== "f") return false;
  const ops = dc.right!;
  const operator = ops.left!;
  let op1 = ops.right!;
  let op2: Node | null = null;
  if (op1.kind === K.TrinaryArg2) {
    op2 = op1.right;
    op1 = op1.left!;
  }
  // The whole pack.
  const save = p.packIndex;
  p.packIndex = -1;
  switch (fold[1]) {
    case "l":
      p.append("(...");
      exprOp(p, operator);
      p.subexpr(op1);
      p.append(")");
      break;
    case "r":
      p.append("(");
      p.subexpr(op1);
      exprOp(p, operator);
      p.append("...)");
      break;
    case "L":
    case "R":
      p.append("(");
      p.subexpr(op1);
      exprOp(p, operator);
      p.append("...");
      exprOp(p, operator);
      p.subexpr(op2!);
      p.append(")");
      break;
  }
  p.packIndex = save;
  return true;
}

function isDesignatedInit(dc: Node): boolean {
  if (dc.kind !== K.Binary && dc.kind !== K.Trinary) return false;
  const c = code(dc.left!);
  return c !== null && c[0] === "d" && (c[1] === "i" || c[1] === "x" || c[1] === "X");
}

/** `.field=x`, `[i]=x`, `[a ... b]=x`. */
function designatedInit(p: ExprPrinter, dc: Node): boolean {
  if (!isDesignatedInit(dc)) return false;
  const c = dc.left!.op!.code;
  const operands = dc.right!;
  const op1 = operands.left!;
  let op2 = operands.right!;
  p.append(c[1] === "i" ? "." : "[");
  p.comp(op1);
  if (c[1] === "X") {
    p.append(" ... ");
    p.comp(op2.left);
    op2 = op2.right!;
  }
  if (c[1] !== "i") p.append("]");
  if (isDesignatedInit(op2)) p.comp(op2);
  else {
    p.append("=");
    p.subexpr(op2);
  }
  return true;
}

function literal(p: ExprPrinter, dc: Node): void {
  const type = dc.left!;
  const value = dc.right!;
  let tp: PrintAs = PrintAs.Default;
  if (type.kind === K.BuiltinType) {
    tp = type.builtin!.print;
    const suffix = INT_SUFFIX[tp];
    if (suffix !== undefined && value.kind === K.Name) {
      if (dc.kind === K.LiteralNeg) p.append("-");
      p.comp(value);
      p.append(suffix);
      return;
    }
    if (tp === PrintAs.Bool && value.kind === K.Name && value.str.length === 1 && dc.kind === K.Literal) {
      if (value.str === "0") {
        p.append("false");
        return;
      }
      if (value.str === "1") {
        p.append("true");
        return;
      }
    }
  }
  p.append("(");
  p.comp(type);
  p.append(")");
  if (dc.kind === K.LiteralNeg) p.append("-");
  if (tp === PrintAs.Float) p.append("[");
  p.comp(value);
  if (tp === PrintAs.Float) p.append("]");
}
