/**
 * Special names (vtables, VTT, typeinfo, thunks, guard variables, TLS
 * functions, reference temporaries, transaction clones...), constructor and
 * destructor names, local names, lambdas, unnamed types and template heads.
 * @module
 */
import { K, type Node } from "./itanium_nodes.ts";
import type { Grammar } from "./itanium_reader.ts";

export function specialName(p: Grammar): Node | null {
  if (p.check("T")) {
    switch (String.fromCharCode(p.next())) {
      case "V":
        return p.comp1(K.Vtable, p.type());
      case "T":
        return p.comp1(K.Vtt, p.type());
      case "I":
        return p.comp1(K.Typeinfo, p.type());
      case "S":
        return p.comp1(K.TypeinfoName, p.type());
      case "h":
        if (!callOffset(p, 0x68)) return null;
        return p.comp1(K.Thunk, p.encoding(false));
      case "v":
        if (!callOffset(p, 0x76)) return null;
        return p.comp1(K.VirtualThunk, p.encoding(false));
      case "c":
        if (!callOffset(p, 0) || !callOffset(p, 0)) return null;
        return p.comp1(K.CovariantThunk, p.encoding(false));
      case "C": {
        const derived = p.type();
        const offset = p.number();
        if (offset < 0 || !p.check("_")) return null;
        const base = p.type();
        return p.comp2(K.ConstructionVtable, base, derived);
      }
      case "F":
        return p.comp1(K.TypeinfoFn, p.type());
      case "J":
        return p.comp1(K.JavaClass, p.type());
      case "H":
        return p.comp1(K.TlsInit, p.parseName(false));
      case "W":
        return p.comp1(K.TlsWrapper, p.parseName(false));
      case "A":
        return p.comp1(K.TparmObj, p.templateArg());
      default:
        return null;
    }
  }
  if (p.check("G")) {
    switch (String.fromCharCode(p.next())) {
      case "V":
        return p.comp1(K.Guard, p.parseName(false));
      case "R": {
        const name = p.parseName(false);
        const num = p.make(K.Number);
        num.num = p.number();
        return p.comp2(K.RefTemp, name, num);
      }
      case "A":
        return p.comp1(K.HiddenAlias, p.encoding(false));
      case "I": {
        const module = p.maybeModuleName(null);
        if (!module) return null;
        return p.comp1(K.ModuleInit, module);
      }
      case "T":
        if (p.next() === 0x6e) return p.comp1(K.NontransactionClone, p.encoding(false));
        return p.comp1(K.TransactionClone, p.encoding(false));
      case "r":
        return javaResource(p);
      default:
        return null;
    }
  }
  return null;
}

/** `Gr <length> _ <name>`: a GCJ resource, `$S` for `/`, `$_` for `.`, `$$` for `$`. */
export function javaResource(p: Grammar): Node | null {
  let len = p.number();
  if (len <= 1 || !p.check("_")) return null;
  len--;
  let text = "";
  while (len > 0) {
    const c = p.s[p.pos];
    if (c === undefined) return null;
    if (c === "$") {
      const e = p.s[p.pos + 1];
      if (e === "S") text += "/";
      else if (e === "_") text += ".";
      else if (e === "$") text += "$";
      else return null;
      p.pos += 2;
      len -= 2;
    } else {
      let i = 0;
      while (i < len && p.pos + i < p.s.length && p.s[p.pos + i] !== "$") i++;
      text += p.s.slice(p.pos, p.pos + i);
      p.pos += i;
      len -= i;
    }
    p.budget.step();
  }
  const n = p.name(text);
  return p.comp1(K.JavaResource, n);
}

export function callOffset(p: Grammar, c: number): boolean {
  if (c === 0) c = p.next();
  if (c === 0x68) p.number();
  else if (c === 0x76) {
    p.number();
    if (!p.check("_")) return false;
    p.number();
  } else return false;
  return p.check("_");
}

export function ctorDtorName(p: Grammar): Node | null {
  const c = p.peek();
  if (c === 0x43) { // C
    let inheriting = false;
    if (p.peekNext() === 0x49) {
      inheriting = true;
      p.pos++;
    }
    const k = p.peekNext();
    if (k < 0x31 || k > 0x35) return null; // C1..C5
    p.pos += 2;
    if (inheriting) p.type();
    if (p.lastName === null) return null;
    return p.make(K.Ctor, p.lastName);
  }
  if (c === 0x44) { // D
    const k = p.peekNext();
    if (k !== 0x30 && k !== 0x31 && k !== 0x32 && k !== 0x34 && k !== 0x35) return null;
    p.pos += 2;
    if (p.lastName === null) return null;
    return p.make(K.Dtor, p.lastName);
  }
  return null;
}

export function localName(p: Grammar): Node | null {
  if (!p.check("Z")) return null;
  const fn = p.encoding(false);
  if (fn === null || !p.check("E")) return null;
  let name: Node | null;
  if (p.peek() === 0x73) { // s: string literal
    p.pos++;
    if (!p.discriminator()) return null;
    name = p.name("string literal");
  } else {
    let num = -1;
    if (p.peek() === 0x64) { // d: default argument scope
      p.pos++;
      num = p.compactNumber();
      if (num < 0) return null;
    }
    name = p.parseName(false);
    if (name !== null && name.kind !== K.Lambda && name.kind !== K.UnnamedType) {
      if (!p.discriminator()) return null;
    }
    if (num >= 0) {
      const d = p.make(K.DefaultArg, name);
      d.num = num;
      name = d;
    }
  }
  // The enclosing function's return type would read as the local entity's.
  if (fn.kind === K.TypedName && fn.right!.kind === K.FunctionType) fn.right!.left = null;
  return p.comp2(K.LocalName, fn, name);
}

export function discriminator(p: Grammar): boolean {
  if (p.peek() !== 0x5f) return true;
  p.pos++;
  let underscores = 1;
  if (p.peek() === 0x5f) {
    underscores++;
    p.pos++;
  }
  const d = p.number();
  if (d < 0) return false;
  if (underscores > 1 && d >= 10) {
    if (p.peek() === 0x5f) p.pos++;
    else return false;
  }
  return true;
}

export function templateParm(p: Grammar, bad: { v: boolean }): Node | null {
  if (p.peek() !== 0x54) return null;
  let op: Node | null;
  let kind: K;
  switch (p.peekNext()) {
    case 0x70: // Tp: pack
      p.pos += 2;
      op = templateParm(p, bad);
      kind = K.TemplatePackParm;
      if (op === null) {
        bad.v = true;
        return null;
      }
      break;
    case 0x79: // Ty
      p.pos += 2;
      op = null;
      kind = K.TemplateTypeParm;
      break;
    case 0x6e: // Tn
      p.pos += 2;
      op = p.type();
      kind = K.TemplateNonTypeParm;
      if (op === null) {
        bad.v = true;
        return null;
      }
      break;
    case 0x74: // Tt
      p.pos += 2;
      op = templateHead(p, bad);
      kind = K.TemplateTemplateParm;
      if (op === null || !p.check("E")) {
        bad.v = true;
        return null;
      }
      break;
    default:
      return null;
  }
  return p.make(kind, op);
}

export function templateHead(p: Grammar, bad: { v: boolean }): Node | null {
  let res: Node | null = null;
  let last: Node | null = null;
  for (let op = templateParm(p, bad); op !== null; op = templateParm(p, bad)) {
    if (last === null) res = op;
    else last.right = op;
    last = op;
  }
  return res === null ? null : p.make(K.TemplateHead, res);
}

export function lambda(p: Grammar): Node | null {
  if (!p.check("U") || !p.check("l")) return null;
  const bad = { v: false };
  const head = templateHead(p, bad);
  if (bad.v) return null;
  let tl = p.parmList();
  if (tl === null) return null;
  if (head !== null) {
    head.right = tl;
    tl = head;
  }
  if (!p.check("E")) return null;
  const num = p.compactNumber();
  if (num < 0) return null;
  const ret = p.make(K.Lambda, tl);
  ret.num = num;
  return ret;
}

export function unnamedType(p: Grammar): Node | null {
  if (!p.check("U") || !p.check("t")) return null;
  const num = p.compactNumber();
  if (num < 0) return null;
  const ret = p.make(K.UnnamedType);
  ret.num = num;
  if (!p.addSub(ret)) return null;
  return ret;
}
