/**
 * Reads an Itanium C++ ABI mangled name (as GCC and Clang emit it) into a
 * tree of {@link Node}s. It accepts what binutils' demangler accepts and
 * builds the same shapes, so that the printer gives `c++filt -i`'s text; a
 * name it cannot read gives null. Every node built is charged to the budget.
 * @module
 */
import * as E from "./itanium_expr.ts";
import { isFnQual, K, type Node, operatorByCode, STD_SUBS } from "./itanium_nodes.ts";
import { type Grammar, isDigit, isLower, isUpper, type Quals, Reader } from "./itanium_reader.ts";
import * as S from "./itanium_special.ts";
import * as T from "./itanium_types.ts";

/** binutils refuses names above this many characters (its component array would pass its recursion limit). */
export const MAX_ITANIUM_LENGTH = 1024;

const ANON_PREFIX = "_GLOBAL_";

/** The Itanium grammar over one name. */
export class ItaniumParser extends Reader implements Grammar {
  // Productions in other modules, reached through the Grammar.
  type(): Node | null {
    // Types nest (P, R, A, M...): the depth is the budget's.
    this.budget.enter();
    const t = T.type(this);
    this.budget.leave();
    return t;
  }
  cvQualifiers(memberFn: boolean): Quals | null {
    return T.cvQualifiers(this, memberFn);
  }
  refQualifier(sub: Node | null): Node | null {
    return T.refQualifier(this, sub);
  }
  functionType(): Node | null {
    return T.functionType(this);
  }
  parmList(): Node | null {
    return T.parmList(this);
  }
  bareFunctionType(hasReturn: boolean): Node | null {
    return T.bareFunctionType(this, hasReturn);
  }
  specialName(): Node | null {
    return S.specialName(this);
  }
  ctorDtorName(): Node | null {
    return S.ctorDtorName(this);
  }
  localName(): Node | null {
    return S.localName(this);
  }
  discriminator(): boolean {
    return S.discriminator(this);
  }
  lambda(): Node | null {
    return S.lambda(this);
  }
  unnamedType(): Node | null {
    return S.unnamedType(this);
  }
  exprPrimary(): Node | null {
    return E.exprPrimary(this);
  }

  /** `<expression>`, with the expression flag set while inside it. */
  expression(): Node | null {
    const was = this.isExpression;
    this.isExpression = true;
    const ret = E.expression1(this);
    this.isExpression = was;
    return ret;
  }

  /** `_Z <encoding> [clone suffixes]`, the whole name. */
  mangledName(topLevel: boolean): Node | null {
    if (!this.check("_") && topLevel) return null;
    if (!this.check("Z")) return null;
    let p = this.encoding(topLevel);
    if (topLevel) {
      while (this.peek() === 0x2e && this.isCloneStart(this.peekNext())) p = this.cloneSuffix(p);
    }
    return p;
  }

  /** `_GLOBAL_[._$][ID]_<rest>`: global constructors or destructors keyed to a name. */
  globalCtorDtor(): Node | null {
    const kind = this.s.charCodeAt(9) === 0x49 ? K.GlobalConstructors : K.GlobalDestructors;
    this.pos = 11;
    let inner: Node | null;
    if (this.peek() === 0x5f && this.peekNext() === 0x5a) {
      this.pos += 2;
      inner = this.encoding(false);
    } else {
      inner = this.name(this.s.slice(this.pos));
    }
    this.pos = this.s.length;
    return this.comp1(kind, inner);
  }

  isCloneStart(c: number): boolean {
    return isLower(c) || c === 0x5f || isDigit(c);
  }

  cloneSuffix(encoding: Node | null): Node | null {
    const s = this.s;
    const start = this.pos;
    let end = start;
    if (s.charCodeAt(end) === 0x2e && this.isCloneStart(s.charCodeAt(end + 1))) {
      end += 2;
      while (end < s.length && this.isCloneStart(s.charCodeAt(end))) end++;
    }
    while (s.charCodeAt(end) === 0x2e && isDigit(s.charCodeAt(end + 1))) {
      end += 2;
      while (isDigit(s.charCodeAt(end))) end++;
    }
    this.pos = end;
    return this.comp2(K.Clone, encoding, this.name(s.slice(start, end)));
  }

  encoding(topLevel: boolean): Node | null {
    const c = this.peek();
    if (c === 0x47 || c === 0x54) return this.specialName(); // G, T
    let dc = this.parseName(false);
    if (dc === null) return null;
    const p = this.peek();
    if (p === 0 || p === 0x45) return dc; // end, E
    const ftype = this.bareFunctionType(hasReturnType(dc));
    if (ftype === null) return null;
    // A local name's own function keeps no return type (it would read as the local entity's).
    if (!topLevel && dc.kind === K.LocalName && ftype.kind === K.FunctionType) ftype.left = null;
    dc = this.make(K.TypedName, dc, ftype);
    return dc;
  }

  abiTags(dc: Node | null): Node | null {
    const hold = this.lastName;
    while (this.peek() === 0x42) { // B
      this.pos++;
      const tag = this.sourceName();
      dc = this.comp2(K.TaggedName, dc, tag);
    }
    this.lastName = hold;
    return dc;
  }

  parseName(substable: boolean): Node | null {
    const c = this.peek();
    let dc: Node | null = null;
    let subst = false;
    switch (c) {
      case 0x4e: // N
        dc = this.nestedName();
        break;
      case 0x5a: // Z
        dc = this.localName();
        break;
      case 0x55: // U
        dc = this.unqualifiedName(null, null);
        break;
      default: {
        let module: Node | null = null;
        if (c === 0x53) { // S
          if (this.peekNext() === 0x74) { // St
            this.pos += 2;
            dc = this.name("std");
          }
          if (this.peek() === 0x53) {
            module = this.substitution(false);
            if (module === null) return null;
            if (module.kind !== K.ModuleName && module.kind !== K.ModulePartition) {
              if (dc !== null) return null;
              subst = true;
              dc = module;
              module = null;
            }
          }
        }
        if (!subst) dc = this.unqualifiedName(dc, module);
        if (this.peek() === 0x49) { // I
          if (!subst && !this.addSub(dc)) return null;
          dc = this.comp2(K.Template, dc, this.templateArgs());
          subst = false;
        }
        break;
      }
    }
    if (substable && !subst && !this.addSub(dc)) return null;
    return dc;
  }

  nestedName(): Node | null {
    if (!this.check("N")) return null;
    const quals = this.cvQualifiers(true);
    if (quals === null) return null;
    const rqual = this.refQualifier(null);
    const prefix = this.prefix(true);
    if (prefix === null) return null;
    let ret = quals.attach(prefix);
    if (rqual !== null) {
      rqual.left = ret;
      ret = rqual;
    }
    if (!this.check("E")) return null;
    return ret;
  }

  prefix(substable: boolean): Node | null {
    let ret: Node | null = null;
    for (;;) {
      const c = this.peek();
      if (c === 0x44 && (this.peekNext() === 0x54 || this.peekNext() === 0x74)) { // DT, Dt
        if (ret !== null) return null;
        ret = this.type();
      } else if (c === 0x49) { // I
        if (ret === null) return null;
        const args = this.templateArgs();
        if (args === null) return null;
        ret = this.make(K.Template, ret, args);
      } else if (c === 0x54) { // T
        if (ret !== null) return null;
        ret = this.templateParam();
      } else if (c === 0x4d) { // M: a lambda's initializer scope, already a substitution
        this.pos++;
        continue;
      } else {
        let module: Node | null = null;
        if (c === 0x53) {
          module = this.substitution(true);
          if (module === null) return null;
          if (module.kind !== K.ModuleName && module.kind !== K.ModulePartition) {
            if (ret !== null) return null;
            ret = module;
            continue;
          }
        }
        ret = this.unqualifiedName(ret, module);
      }
      if (ret === null) break;
      if (this.peek() === 0x45) break; // E
      if (substable && !this.addSub(ret)) return null;
    }
    return ret;
  }

  maybeModuleName(module: Node | null): Node | null | false {
    while (this.peek() === 0x57) { // W
      this.pos++;
      let kind: K = K.ModuleName;
      if (this.peek() === 0x50) {
        kind = K.ModulePartition;
        this.pos++;
      }
      const name = this.sourceName();
      if (name === null) return false;
      module = this.make(kind, module, name);
      if (!this.addSub(module)) return false;
    }
    return module;
  }

  unqualifiedName(scope: Node | null, module: Node | null): Node | null {
    const m = this.maybeModuleName(module);
    if (m === false) return null;
    module = m;
    const c = this.peek();
    let ret: Node | null;
    if (isDigit(c)) {
      ret = this.sourceName();
    } else if (isLower(c)) {
      const wasExpr = this.isExpression;
      if (c === 0x6f && this.peekNext() === 0x6e) { // on
        this.pos += 2;
        this.isExpression = false;
      }
      ret = this.operatorName();
      this.isExpression = wasExpr;
      if (ret !== null && ret.kind === K.Operator && ret.op!.code === "li") {
        ret = this.comp2(K.Unary, ret, this.sourceName());
      }
    } else if (c === 0x44 && this.peekNext() === 0x43) { // DC: structured binding
      this.pos += 2;
      let prev: Node | null = null;
      ret = null;
      do {
        const next = this.comp1(K.StructuredBinding, this.sourceName());
        if (prev !== null) prev.right = next;
        else ret = next;
        prev = next;
      } while (prev !== null && this.peek() !== 0x45);
      if (prev !== null) this.pos++;
      else ret = null;
    } else if (c === 0x43 || c === 0x44) {
      ret = this.ctorDtorName();
    } else if (c === 0x4c) { // L
      this.pos++;
      ret = this.sourceName();
      if (ret === null) return null;
      if (!this.discriminator()) return null;
    } else if (c === 0x55) { // U
      const n = this.peekNext();
      if (n === 0x6c) ret = this.lambda();
      else if (n === 0x74) ret = this.unnamedType();
      else return null;
    } else {
      return null;
    }
    if (module !== null) ret = this.comp2(K.ModuleEntity, ret, module);
    if (this.peek() === 0x42) ret = this.abiTags(ret);
    if (scope !== null) ret = this.comp2(K.QualName, scope, ret);
    return ret;
  }

  sourceName(): Node | null {
    const len = this.number();
    if (len <= 0) return null;
    const ret = this.identifier(len);
    this.lastName = ret;
    return ret;
  }

  identifier(len: number): Node | null {
    if (this.s.length - this.pos < len) return null;
    const text = this.s.slice(this.pos, this.pos + len);
    this.pos += len;
    // GCC's anonymous namespace: _GLOBAL_[._$]N...
    if (len >= ANON_PREFIX.length + 2 && text.startsWith(ANON_PREFIX)) {
      const c = text[ANON_PREFIX.length];
      if ((c === "." || c === "_" || c === "$") && text[ANON_PREFIX.length + 1] === "N") {
        return this.name("(anonymous namespace)");
      }
    }
    return this.name(text);
  }

  operatorName(): Node | null {
    const c1 = this.next();
    const c2 = this.next();
    if (c1 === 0x76 && isDigit(c2)) { // v<digit>: vendor operator
      const name = this.sourceName();
      if (name === null) return null;
      const n = this.make(K.ExtendedOperator, name);
      n.num = c2 - 48;
      return n;
    }
    if (c1 === 0x63 && c2 === 0x76) { // cv
      const wasConversion = this.isConversion;
      this.isConversion = !this.isExpression;
      const type = this.type();
      const res = this.comp1(this.isConversion ? K.Conversion : K.Cast, type);
      this.isConversion = wasConversion;
      return res;
    }
    const op = operatorByCode(String.fromCharCode(c1, c2));
    if (op === undefined) return null;
    const n = this.make(K.Operator);
    n.op = op;
    return n;
  }

  templateParam(): Node | null {
    if (!this.check("T")) return null;
    const param = this.compactNumber();
    if (param < 0) return null;
    const n = this.make(K.TemplateParam);
    n.num = param;
    return n;
  }

  templateArgs(): Node | null {
    const c = this.peek();
    if (c !== 0x49 && c !== 0x4a) return null;
    this.pos++;
    return this.templateArgsRest();
  }

  /** `<template-arg>* E`. */
  templateArgsRest(): Node | null {
    const hold = this.lastName;
    if (this.peek() === 0x45) {
      this.pos++;
      return this.make(K.TemplateArgList);
    }
    let head: Node | null = null;
    let tail: Node | null = null;
    for (;;) {
      const a = this.templateArg();
      if (a === null) return null;
      const cell = this.make(K.TemplateArgList, a);
      if (tail === null) head = cell;
      else tail.right = cell;
      tail = cell;
      if (this.peek() === 0x45) {
        this.pos++;
        break;
      }
    }
    this.lastName = hold;
    return head;
  }

  templateArg(): Node | null {
    switch (this.peek()) {
      case 0x58: { // X
        this.pos++;
        const ret = this.expression();
        if (!this.check("E")) return null;
        return ret;
      }
      case 0x4c: // L
        return this.exprPrimary();
      case 0x49: // I
      case 0x4a: // J
        return this.templateArgs();
      default:
        return this.type();
    }
  }

  /** `S_`, `S<seq-id>_` or a standard abbreviation. */
  substitution(prefix: boolean): Node | null {
    if (!this.check("S")) return null;
    const c = this.next();
    if (c === 0x5f || isDigit(c) || isUpper(c)) {
      let id = 0;
      if (c !== 0x5f) {
        let d = c;
        do {
          if (isDigit(d)) id = id * 36 + d - 48;
          else if (isUpper(d)) id = id * 36 + d - 55;
          else return null;
          if (id > 0xffffffff) return null;
          d = this.next();
        } while (d !== 0x5f);
        id++;
      }
      if (id >= this.subs.length) return null;
      return this.subs[id];
    }
    const std = STD_SUBS[String.fromCharCode(c)];
    if (std === undefined || c === 0) return null;
    // Before a constructor or destructor the full name is printed (`std::basic_string<...>::basic_string()`).
    let full = false;
    if (prefix) {
      const p = this.peek();
      if (p === 0x43 || p === 0x44) full = true;
    }
    if (std.lastName !== "") {
      const ln = this.make(K.SubStd);
      ln.str = std.lastName;
      this.lastName = ln;
    }
    let dc: Node | null = this.make(K.SubStd);
    dc.str = full ? std.full : std.simple;
    if (this.peek() === 0x42) { // ABI tags make the abbreviation a substitution candidate
      dc = this.abiTags(dc);
      if (!this.addSub(dc)) return null;
    }
    return dc;
  }
}

/** Whether a function's encoding carries its return type. */
function hasReturnType(dc: Node | null): boolean {
  if (dc === null) return false;
  if (dc.kind === K.LocalName) return hasReturnType(dc.right);
  if (dc.kind === K.Template) return !isCtorDtorOrConversion(dc.left);
  if (isFnQual(dc.kind)) return hasReturnType(dc.left);
  return false;
}

function isCtorDtorOrConversion(dc: Node | null): boolean {
  while (dc !== null) {
    if (dc.kind === K.QualName || dc.kind === K.LocalName) dc = dc.right;
    else return dc.kind === K.Ctor || dc.kind === K.Dtor || dc.kind === K.Conversion;
  }
  return false;
}
