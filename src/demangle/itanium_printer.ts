/**
 * Prints an Itanium tree as `c++filt -i` does: declarator syntax for
 * pointers to functions and arrays (modifiers are passed down and printed
 * where the type puts them), template parameters resolved against the
 * template in scope at the point of use, packs expanded element by element,
 * `> >` spacing, `std::string`-style abbreviations, literals as `1u`/`true`.
 * A tree that cannot be printed (an unresolvable template parameter, a
 * substitution loop, nesting past binutils' limit) throws PRINT_FAIL.
 * @module
 */
import { type Budget, BudgetExceeded } from "./budget.ts";
import { indexTemplateArgument, K, type Node, packLength, PRINT_FAIL } from "./itanium_nodes.ts";
import { Declarators, type Tmpl } from "./itanium_declarators.ts";
import { type ExprPrinter, printExpression } from "./itanium_print_expr.ts";

/** binutils' limit on the printer's nesting. */
const MAX_PRINT_DEPTH = 1024;

/** The printer's state over one tree. */
export class Printer extends Declarators implements ExprPrinter {
  packIndex = 0;
  lambdaTplParms = 0;
  private currentTemplate: Node | null = null;
  /** The nodes being printed, outermost first (binutils' component stack). */
  private readonly stack: Node[] = [];
  private savedScopes: Map<Node, Tmpl | null> | null = null;

  constructor(budget: Budget) {
    super(budget);
  }

  /** Prints one node (binutils' d_print_comp). */
  comp(dc: Node | null): void {
    const stack = this.stack;
    if (dc === null || dc.printing > 1 || stack.length > MAX_PRINT_DEPTH) throw PRINT_FAIL;
    if (stack.length >= this.budget.maxDepth) throw new BudgetExceeded("depth");
    this.budget.step();
    // No finally: after a throw the tree and this printer are dropped.
    dc.printing++;
    stack.push(dc);
    this.inner(dc);
    stack.pop();
    dc.printing--;
  }

  private inner(dc: Node): void {
    switch (dc.kind) {
      case K.Name:
        this.append(dc.str);
        return;
      case K.QualName:
      case K.LocalName: {
        this.comp(dc.left);
        this.append("::");
        let local = dc.right!;
        if (local.kind === K.DefaultArg) {
          this.append(`{default arg#${local.num + 1}}::`);
          local = local.left!;
        }
        this.comp(local);
        return;
      }
      case K.ArgList:
      case K.TemplateArgList:
        if (dc.left !== null) this.comp(dc.left);
        if (dc.right !== null) {
          this.append(", ");
          const len = this.out.length;
          this.comp(dc.right);
          // An empty pack printed nothing: take the comma back (lastChar stays, as in binutils).
          if (this.out.length === len) this.out = this.out.slice(0, len - 2);
        }
        return;
      case K.Template: {
        const holdCurrent = this.currentTemplate;
        this.currentTemplate = dc;
        // A template's arguments see no outer modifiers: it is printed as a name.
        const holdMods = this.modifiers;
        this.modifiers = null;
        this.comp(dc.left);
        this.templateArgs(dc.right);
        this.modifiers = holdMods;
        this.currentTemplate = holdCurrent;
        return;
      }
      case K.BuiltinType:
        this.append(dc.builtin!.name);
        return;
      case K.SubStd:
        this.append(dc.str);
        return;
      case K.TypedName:
        this.typedName(dc);
        return;
      case K.FunctionType:
        this.functionTypeNode(dc);
        return;
      case K.Reference:
      case K.RvalueReference:
        this.reference(dc);
        return;
      case K.Restrict:
      case K.Volatile:
      case K.Const: {
        // Arrays can push the same qualifier more than once: print it once.
        for (let m = this.modifiers; m !== null; m = m.next) {
          if (!m.printed) {
            const k = m.mod.kind;
            if (k !== K.Restrict && k !== K.Volatile && k !== K.Const) break;
            if (k === dc.kind) {
              this.comp(dc.left);
              return;
            }
          }
        }
        this.modifier(dc, null, false, null);
        return;
      }
      case K.VendorTypeQual:
      case K.Pointer:
      case K.Complex:
      case K.Imaginary:
      case K.RestrictThis:
      case K.VolatileThis:
      case K.ConstThis:
      case K.ReferenceThis:
      case K.RvalueReferenceThis:
      case K.TransactionSafe:
      case K.Noexcept:
      case K.ThrowSpec:
        this.modifier(dc, null, false, null);
        return;
      case K.TemplateParam:
        this.templateParam(dc);
        return;
      case K.Ctor:
        this.comp(dc.left);
        return;
      case K.Dtor:
        this.append("~");
        this.comp(dc.left);
        return;
      case K.Operator: {
        const op = dc.op!;
        let name = op.name;
        this.append("operator");
        if (name.charCodeAt(0) >= 97 && name.charCodeAt(0) <= 122) this.append(" ");
        if (name.endsWith(" ")) name = name.slice(0, -1);
        this.append(name);
        return;
      }
      case K.TaggedName:
        this.comp(dc.left);
        this.append("[abi:");
        this.comp(dc.right);
        this.append("]");
        return;
      case K.StructuredBinding: {
        this.append("[");
        for (let d: Node | null = dc;;) {
          this.comp(d.left);
          d = d.right;
          if (d === null) break;
          this.append(", ");
        }
        this.append("]");
        return;
      }
      case K.ModuleEntity:
        this.comp(dc.left);
        this.append("@");
        this.comp(dc.right);
        return;
      case K.ModuleName:
      case K.ModulePartition:
        if (dc.left !== null) this.comp(dc.left);
        if (dc.kind === K.ModulePartition) this.append(":");
        else if (dc.left !== null) this.append(".");
        this.comp(dc.right);
        return;
      case K.TparmObj:
        this.append("template parameter object for ");
        this.comp(dc.left);
        return;
      case K.ModuleInit:
      case K.Vtable:
      case K.Vtt:
      case K.Typeinfo:
      case K.TypeinfoName:
      case K.TypeinfoFn:
      case K.Thunk:
      case K.VirtualThunk:
      case K.CovariantThunk:
      case K.JavaClass:
      case K.Guard:
      case K.TlsInit:
      case K.TlsWrapper:
      case K.HiddenAlias:
      case K.TransactionClone:
      case K.NontransactionClone:
      case K.GlobalConstructors:
      case K.GlobalDestructors:
      case K.JavaResource:
        this.append(SPECIAL_PREFIX[dc.kind]!);
        this.comp(dc.left);
        return;
      case K.ConstructionVtable:
        this.append("construction vtable for ");
        this.comp(dc.left);
        this.append("-in-");
        this.comp(dc.right);
        return;
      case K.RefTemp:
        this.append("reference temporary #");
        this.comp(dc.right);
        this.append(" for ");
        this.comp(dc.left);
        return;
      case K.ExtendedBuiltinType:
        this.append(dc.builtin!.name + dc.num + dc.str);
        return;
      case K.VendorType:
        this.comp(dc.left);
        return;
      case K.ArrayType:
        this.arrayTypeNode(dc);
        return;
      case K.PtrmemType:
      case K.VectorType: {
        const m = this.pushMod(dc);
        this.comp(dc.right);
        if (!m.printed) this.mod(dc);
        this.modifiers = m.next;
        return;
      }
      case K.ExtendedOperator:
        this.append("operator ");
        this.comp(dc.left);
        return;
      case K.Conversion:
        this.append("operator ");
        this.conversion(dc);
        return;
      case K.Number:
        this.append(String(dc.num));
        return;
      case K.Character:
        this.append(dc.str);
        return;
      case K.Decltype:
        this.append("decltype (");
        this.comp(dc.left);
        this.append(")");
        return;
      case K.PackExpansion:
        this.packExpansion(dc);
        return;
      case K.FunctionParam:
        this.append(dc.num === 0 ? "this" : `{parm#${dc.num}}`);
        return;
      case K.Lambda:
        this.lambda(dc);
        return;
      case K.UnnamedType:
        this.append(`{unnamed type#${dc.num + 1}}`);
        return;
      case K.Clone:
        this.comp(dc.left);
        this.append(" [clone ");
        this.comp(dc.right);
        this.append("]");
        return;
      case K.TemplateHead: {
        this.append("<");
        let count = 0;
        for (let parm = dc.left; parm !== null; parm = parm.right) {
          if (count++) this.append(", ");
          this.comp(parm);
        }
        this.append(">");
        return;
      }
      case K.TemplateTypeParm:
        this.append("typename");
        return;
      case K.TemplateNonTypeParm:
        this.comp(dc.left);
        return;
      case K.TemplateTemplateParm:
        this.append("template");
        this.comp(dc.left);
        this.append(" class");
        return;
      case K.TemplatePackParm:
        this.comp(dc.left);
        this.append("...");
        return;
      default:
        printExpression(this, dc);
    }
  }

  /** `<args>` after a template name, with binutils' spacing against `<<` and `>>`. */
  templateArgs(args: Node | null): void {
    if (this.lastChar === 0x3c) this.append(" ");
    this.append("<");
    this.comp(args);
    if (this.lastChar === 0x3e) this.append(" ");
    this.append(">");
  }

  private templateParam(dc: Node): void {
    if (this.lambdaTplParms > dc.num + 1) {
      let a = this.templates!.decl!.left;
      for (let c = dc.num; a !== null && c > 0; c--) a = a.right;
      if (a !== null && a.kind === K.TemplatePackParm) a = a.left;
      if (a === null) throw PRINT_FAIL;
      this.lambdaParmName(a.kind, dc.num);
    } else if (this.lambdaTplParms) {
      // A generic lambda's `auto` parameters, numbered as g++ shows them.
      this.append(`auto:${dc.num + 1}`);
    } else {
      let a = this.lookupTemplateArgument(dc);
      if (a !== null && a.kind === K.TemplateArgList) a = indexTemplateArgument(a, this.packIndex);
      if (a === null) throw PRINT_FAIL;
      // The argument may itself refer to an outer template's parameters.
      const hold = this.templates!;
      this.templates = hold.next;
      this.comp(a);
      this.templates = hold;
    }
  }

  lambdaParmName(kind: K, index: number): void {
    let str: string;
    if (kind === K.TemplateTypeParm) str = "$T";
    else if (kind === K.TemplateNonTypeParm) str = "$N";
    else if (kind === K.TemplateTemplateParm) str = "$TT";
    else throw PRINT_FAIL;
    this.append(str + index);
  }

  lookupTemplateArgument(dc: Node): Node | null {
    if (this.templates === null) throw PRINT_FAIL;
    this.budget.charge(dc.num); // the walk to the argument
    return indexTemplateArgument(this.templates.decl!.right, dc.num);
  }

  /** A template argument pack that `dc` uses (any will do), or null. */
  findPack(dc: Node | null): Node | null {
    while (dc !== null) {
      this.budget.step();
      switch (dc.kind) {
        case K.TemplateParam: {
          const a = this.lookupTemplateArgument(dc);
          return a !== null && a.kind === K.TemplateArgList ? a : null;
        }
        case K.PackExpansion:
        case K.Lambda:
        case K.Name:
        case K.TaggedName:
        case K.Operator:
        case K.BuiltinType:
        case K.ExtendedBuiltinType:
        case K.SubStd:
        case K.Character:
        case K.FunctionParam:
        case K.UnnamedType:
        case K.DefaultArg:
        case K.Number:
          return null;
        case K.ExtendedOperator:
        case K.Ctor:
        case K.Dtor:
          dc = dc.left;
          continue;
        default: {
          const a = this.findPack(dc.left);
          if (a !== null) return a;
          dc = dc.right;
        }
      }
    }
    return null;
  }

  private reference(dc: Node): void {
    // Reference collapsing: & + && = &.
    let sub = dc.left!;
    let modInner: Node | null = null;
    let restore = false;
    let saved: Tmpl | null = null;
    if (!this.lambdaTplParms && sub.kind === K.TemplateParam) {
      const scopes = this.savedScopes ??= new Map();
      if (!scopes.has(sub)) {
        // First visit: remember the templates, in case sub comes back as a substitution.
        scopes.set(sub, this.templates);
      } else {
        // Reentered as a substitution, not from beneath itself: its own templates apply.
        const stack = this.stack;
        this.budget.charge(stack.length);
        let found = false;
        for (let i = stack.length - 1; i >= 0; i--) {
          if (stack[i] === sub || (stack[i] === dc && i !== stack.length - 1)) {
            found = true;
            break;
          }
        }
        if (!found) {
          saved = this.templates;
          this.templates = scopes.get(sub)!;
          restore = true;
        }
      }
      let a = this.lookupTemplateArgument(sub);
      if (a !== null && a.kind === K.TemplateArgList) a = indexTemplateArgument(a, this.packIndex);
      if (a === null) throw PRINT_FAIL;
      sub = a;
    }
    if (sub.kind === K.Reference || sub.kind === dc.kind) dc = sub;
    else if (sub.kind === K.RvalueReference) modInner = sub.left;
    this.modifier(dc, modInner, restore, saved);
  }

  /** Pushes `dc` as a modifier, prints what it modifies, then `dc` itself unless a declarator took it. */
  private modifier(dc: Node, modInner: Node | null, restore: boolean, saved: Tmpl | null): void {
    const m = this.pushMod(dc);
    this.comp(modInner ?? dc.left);
    if (!m.printed) this.mod(dc);
    this.modifiers = m.next;
    if (restore) this.templates = saved;
  }

  private conversion(dc: Node): void {
    // A conversion operator's type sees the enclosing template's parameters.
    const cur = this.currentTemplate;
    if (cur !== null) this.templates = { decl: cur, next: this.templates };
    const t = dc.left!;
    if (t.kind !== K.Template) {
      this.comp(t);
      if (cur !== null) this.templates = this.templates!.next;
    } else {
      this.comp(t.left);
      if (cur !== null) this.templates = this.templates!.next;
      this.templateArgs(t.right);
    }
  }

  private packExpansion(dc: Node): void {
    const a = this.lambdaTplParms ? null : this.findPack(dc.left);
    if (a === null) {
      // Only function parameter packs: print the pattern and "...".
      this.subexpr(dc.left!);
      this.append("...");
      return;
    }
    const len = packLength(a);
    this.charge(len);
    for (let i = 0; i < len; i++) {
      if (i) this.append(", ");
      this.packIndex = i;
      this.comp(dc.left);
    }
  }

  private lambda(dc: Node): void {
    this.append("{lambda");
    let parms = dc.left;
    const saved = this.lambdaTplParms;
    this.lambdaTplParms = 0;
    // A lambda's template head is hung as if it were template arguments.
    const tmpl: { decl: Node | null; next: Tmpl | null } = { decl: null, next: this.templates };
    this.templates = tmpl;
    if (parms !== null && parms.kind === K.TemplateHead) {
      tmpl.decl = parms;
      this.append("<");
      for (let parm = parms.left; parm !== null; parm = parm.right) {
        if (this.lambdaTplParms++) this.append(", ");
        this.comp(parm);
        this.append(" ");
        const p = parm.kind === K.TemplatePackParm ? parm.left! : parm;
        this.lambdaParmName(p.kind, this.lambdaTplParms - 1);
      }
      this.append(">");
      parms = parms.right;
    }
    this.lambdaTplParms++;
    this.append("(");
    this.comp(parms);
    this.lambdaTplParms = saved;
    this.templates = tmpl.next;
    this.append(`)#${dc.num + 1}}`);
  }

  /** An operand, in parentheses unless it is a plain name. */
  subexpr(dc: Node): void {
    const k = dc.kind;
    const simple = k === K.Name || k === K.QualName || k === K.InitializerList || k === K.FunctionParam;
    if (!simple) this.append("(");
    this.comp(dc);
    if (!simple) this.append(")");
  }
}

const SPECIAL_PREFIX: Partial<Record<K, string>> = {
  [K.ModuleInit]: "initializer for module ",
  [K.Vtable]: "vtable for ",
  [K.Vtt]: "VTT for ",
  [K.Typeinfo]: "typeinfo for ",
  [K.TypeinfoName]: "typeinfo name for ",
  [K.TypeinfoFn]: "typeinfo fn for ",
  [K.Thunk]: "non-virtual thunk to ",
  [K.VirtualThunk]: "virtual thunk to ",
  [K.CovariantThunk]: "covariant return thunk to ",
  [K.JavaClass]: "java Class for ",
  [K.Guard]: "guard variable for ",
  [K.TlsInit]: "TLS init function for ",
  [K.TlsWrapper]: "TLS wrapper function for ",
  [K.HiddenAlias]: "hidden alias for ",
  [K.TransactionClone]: "transaction clone for ",
  [K.NontransactionClone]: "non-transaction clone for ",
  [K.GlobalConstructors]: "global constructors keyed to ",
  [K.GlobalDestructors]: "global destructors keyed to ",
  [K.JavaResource]: "java resource ",
};
