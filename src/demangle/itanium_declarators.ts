/**
 * The declarator half of the Itanium printer: C++ writes a type around the
 * name it declares (`int (*f)(char)`, `char (&a) [3]`), so pointers,
 * references, qualifiers, function and array types are kept on a stack of
 * modifiers and printed where the innermost type puts them, as binutils'
 * printer does.
 * @module
 */
import type { Budget } from "./budget.ts";
import { isFnQual, K, type Node, PRINT_FAIL } from "./itanium_nodes.ts";

/** A template whose arguments are in scope. */
export interface Tmpl {
  readonly decl: Node | null;
  readonly next: Tmpl | null;
}

/** A modifier (pointer, reference, cv, function or array type...) waiting for its place. */
export interface Mod {
  mod: Node;
  printed: boolean;
  templates: Tmpl | null;
  next: Mod | null;
}

/** Output, template scope and modifier stack, and the declarator printing over them. */
export abstract class Declarators {
  out = "";
  /** The last piece appended: it survives the removal of an empty pack's ", " as in binutils. */
  private lastPiece = "";
  templates: Tmpl | null = null;
  modifiers: Mod | null = null;

  constructor(protected readonly budget: Budget) {}

  /** Prints one node (the main printer). */
  abstract comp(dc: Node | null): void;

  /** Charges `n` units of work (scans whose length the input chooses). */
  charge(n: number): void {
    this.budget.charge(n);
  }

  /** The last character appended (read only where a declarator needs it). */
  get lastChar(): number {
    return this.lastPiece.charCodeAt(this.lastPiece.length - 1);
  }

  append(s: string): void {
    if (s.length === 0) return;
    this.out += s;
    this.lastPiece = s;
    this.budget.output(this.out.length);
  }

  typedName(dc: Node): void {
    // The name goes down to the type to be printed in its place, with the
    // qualifiers that apply to `this`.
    const holdMods = this.modifiers;
    this.modifiers = null;
    const adpm: Mod[] = [];
    let typed: Node | null = dc.left;
    while (typed !== null) {
      if (adpm.length >= 4) throw PRINT_FAIL;
      adpm.push(this.pushMod(typed));
      if (!isFnQual(typed.kind)) break;
      typed = typed.left;
    }
    if (typed === null) throw PRINT_FAIL;
    // A class local to a function may carry qualifiers on its right that apply here.
    if (typed.kind === K.LocalName) {
      typed = typed.right!;
      if (typed.kind === K.DefaultArg) typed = typed.left!;
      while (typed !== null && isFnQual(typed.kind)) {
        if (adpm.length >= 4) throw PRINT_FAIL;
        const i = adpm.length;
        const prev = adpm[i - 1];
        const copy: Mod = { mod: prev.mod, printed: prev.printed, templates: prev.templates, next: prev };
        adpm.push(copy);
        this.modifiers = copy;
        prev.mod = typed;
        prev.printed = false;
        prev.templates = this.templates;
        typed = typed.left;
      }
      if (typed === null) throw PRINT_FAIL;
    }
    const isTemplate = typed.kind === K.Template;
    if (isTemplate) this.templates = { decl: typed, next: this.templates };
    this.comp(dc.right);
    if (isTemplate) this.templates = this.templates!.next;
    for (let i = adpm.length - 1; i >= 0; i--) {
      if (!adpm[i].printed) {
        this.append(" ");
        this.mod(adpm[i].mod);
      }
    }
    this.modifiers = holdMods;
  }

  functionTypeNode(dc: Node): void {
    if (dc.left !== null) {
      // The return type goes first; the rest of the declarator is printed inside it if it needs to be.
      const m = this.pushMod(dc);
      this.comp(dc.left);
      this.modifiers = m.next;
      if (m.printed) return;
      this.append(" ");
    }
    this.functionType(dc, this.modifiers);
  }

  arrayTypeNode(dc: Node): void {
    // Pass the array down as a modifier (for multi-dimensional arrays); cv-qualifiers
    // of the array apply to its element type.
    const holdMods = this.modifiers;
    const adpm: Mod[] = [this.pushMod(dc)];
    for (let p = holdMods; p !== null; p = p.next) {
      const k = p.mod.kind;
      if (k !== K.Restrict && k !== K.Volatile && k !== K.Const) break;
      if (!p.printed) {
        if (adpm.length >= 4) throw PRINT_FAIL;
        const copy: Mod = { mod: p.mod, printed: p.printed, templates: p.templates, next: this.modifiers };
        adpm.push(copy);
        this.modifiers = copy;
        p.printed = true;
      }
    }
    this.comp(dc.right);
    this.modifiers = holdMods;
    if (adpm[0].printed) return;
    for (let i = adpm.length - 1; i >= 1; i--) this.mod(adpm[i].mod);
    this.arrayType(dc, this.modifiers);
  }

  /** Prints a list of modifiers; `suffix` when printing those after a function's parameters. */
  modList(mods: Mod | null, suffix: boolean): void {
    while (mods !== null) {
      if (mods.printed || (!suffix && isFnQual(mods.mod.kind))) {
        mods = mods.next;
        continue;
      }
      mods.printed = true;
      const hold = this.templates;
      this.templates = mods.templates;
      const k = mods.mod.kind;
      if (k === K.FunctionType) {
        this.functionType(mods.mod, mods.next);
        this.templates = hold;
        return;
      }
      if (k === K.ArrayType) {
        this.arrayType(mods.mod, mods.next);
        this.templates = hold;
        return;
      }
      if (k === K.LocalName) {
        const holdMods = this.modifiers;
        this.modifiers = null;
        this.comp(mods.mod.left);
        this.modifiers = holdMods;
        this.append("::");
        let dc = mods.mod.right!;
        if (dc.kind === K.DefaultArg) {
          this.append(`{default arg#${dc.num + 1}}::`);
          dc = dc.left!;
        }
        while (isFnQual(dc.kind)) dc = dc.left!;
        this.comp(dc);
        this.templates = hold;
        return;
      }
      this.mod(mods.mod);
      this.templates = hold;
      mods = mods.next;
    }
  }

  /** Prints one modifier. */
  mod(mod: Node): void {
    switch (mod.kind) {
      case K.Restrict:
      case K.RestrictThis:
        this.append(" restrict");
        return;
      case K.Volatile:
      case K.VolatileThis:
        this.append(" volatile");
        return;
      case K.Const:
      case K.ConstThis:
        this.append(" const");
        return;
      case K.TransactionSafe:
        this.append(" transaction_safe");
        return;
      case K.Noexcept:
      case K.ThrowSpec:
        this.append(mod.kind === K.Noexcept ? " noexcept" : " throw");
        if (mod.right !== null) {
          this.append("(");
          this.comp(mod.right);
          this.append(")");
        }
        return;
      case K.VendorTypeQual:
        this.append(" ");
        this.comp(mod.right);
        return;
      case K.Pointer:
        this.append("*");
        return;
      case K.ReferenceThis:
        this.append(" &");
        return;
      case K.Reference:
        this.append("&");
        return;
      case K.RvalueReferenceThis:
        this.append(" &&");
        return;
      case K.RvalueReference:
        this.append("&&");
        return;
      case K.Complex:
        this.append(" _Complex");
        return;
      case K.Imaginary:
        this.append(" _Imaginary");
        return;
      case K.PtrmemType:
        if (this.lastChar !== 0x28) this.append(" ");
        this.comp(mod.left);
        this.append("::*");
        return;
      case K.TypedName:
        this.comp(mod.left);
        return;
      case K.VectorType:
        this.append(" __vector(");
        this.comp(mod.left);
        this.append(")");
        return;
      default:
        this.comp(mod);
    }
  }

  /** A function type's `(*)(params) quals`, the return type already printed. */
  functionType(dc: Node, mods: Mod | null): void {
    let needParen = false;
    let needSpace = false;
    for (let p = mods; p !== null; p = p.next) {
      if (p.printed) break;
      const k = p.mod.kind;
      if (k === K.Pointer || k === K.Reference || k === K.RvalueReference) needParen = true;
      else if (
        k === K.Restrict || k === K.Volatile || k === K.Const || k === K.VendorTypeQual || k === K.Complex ||
        k === K.Imaginary || k === K.PtrmemType
      ) {
        needSpace = true;
        needParen = true;
      }
      if (needParen) break;
    }
    if (needParen) {
      if (!needSpace && this.lastChar !== 0x28 && this.lastChar !== 0x2a) needSpace = true;
      if (needSpace && this.lastChar !== 0x20) this.append(" ");
      this.append("(");
    }
    const holdMods = this.modifiers;
    this.modifiers = null;
    this.modList(mods, false);
    if (needParen) this.append(")");
    this.append("(");
    if (dc.right !== null) this.comp(dc.right);
    this.append(")");
    this.modList(mods, true);
    this.modifiers = holdMods;
  }

  /** An array type's ` [dim]`, the element type already printed. */
  arrayType(dc: Node, mods: Mod | null): void {
    let needSpace = true;
    if (mods !== null) {
      let needParen = false;
      for (let p: Mod | null = mods; p !== null; p = p.next) {
        if (!p.printed) {
          if (p.mod.kind === K.ArrayType) needSpace = false;
          else {
            needParen = true;
            needSpace = true;
          }
          break;
        }
      }
      if (needParen) this.append(" (");
      this.modList(mods, false);
      if (needParen) this.append(")");
    }
    if (needSpace) this.append(" ");
    this.append("[");
    if (dc.left !== null) this.comp(dc.left);
    this.append("]");
  }

  pushMod(dc: Node): Mod {
    const m: Mod = { mod: dc, printed: false, templates: this.templates, next: this.modifiers };
    this.modifiers = m;
    return m;
  }
}
