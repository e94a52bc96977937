/**
 * The tree an Itanium C++ mangled name is read into: one node class for
 * every production (a kind, two children, a string or a number), and the
 * fixed tables of the ABI (builtin types, operators, standard
 * abbreviations). The parser builds it; the printer walks it.
 * @module
 */

/** Node kinds. The names follow the ABI's productions. */
export const K = {
  Name: 0,
  QualName: 1,
  LocalName: 2,
  TypedName: 3,
  Template: 4,
  TemplateParam: 5,
  FunctionParam: 6,
  Ctor: 7,
  Dtor: 8,
  Vtable: 9,
  Vtt: 10,
  ConstructionVtable: 11,
  Typeinfo: 12,
  TypeinfoName: 13,
  TypeinfoFn: 14,
  Thunk: 15,
  VirtualThunk: 16,
  CovariantThunk: 17,
  JavaClass: 18,
  Guard: 19,
  TlsInit: 20,
  TlsWrapper: 21,
  RefTemp: 22,
  HiddenAlias: 23,
  SubStd: 24,
  Restrict: 25,
  Volatile: 26,
  Const: 27,
  RestrictThis: 28,
  VolatileThis: 29,
  ConstThis: 30,
  ReferenceThis: 31,
  RvalueReferenceThis: 32,
  TransactionSafe: 33,
  Noexcept: 34,
  ThrowSpec: 35,
  VendorTypeQual: 36,
  Pointer: 37,
  Reference: 38,
  RvalueReference: 39,
  Complex: 40,
  Imaginary: 41,
  BuiltinType: 42,
  VendorType: 43,
  FunctionType: 44,
  ArrayType: 45,
  PtrmemType: 46,
  FixedType: 47,
  VectorType: 48,
  ArgList: 49,
  TemplateArgList: 50,
  TparmObj: 51,
  InitializerList: 52,
  Operator: 53,
  ExtendedOperator: 54,
  Cast: 55,
  Conversion: 56,
  Nullary: 57,
  Unary: 58,
  Binary: 59,
  BinaryArgs: 60,
  Trinary: 61,
  TrinaryArg1: 62,
  TrinaryArg2: 63,
  Literal: 64,
  LiteralNeg: 65,
  VendorExpr: 66,
  Number: 67,
  Character: 68,
  Decltype: 69,
  GlobalConstructors: 70,
  GlobalDestructors: 71,
  Lambda: 72,
  DefaultArg: 73,
  UnnamedType: 74,
  TransactionClone: 75,
  NontransactionClone: 76,
  PackExpansion: 77,
  TaggedName: 78,
  Clone: 79,
  StructuredBinding: 80,
  ModuleName: 81,
  ModulePartition: 82,
  ModuleEntity: 83,
  ModuleInit: 84,
  TemplateHead: 85,
  TemplateTypeParm: 86,
  TemplateNonTypeParm: 87,
  TemplateTemplateParm: 88,
  TemplatePackParm: 89,
  ExtendedBuiltinType: 90,
  JavaResource: 91,
} as const;
/** One of {@link K}. */
export type K = (typeof K)[keyof typeof K];

/** How a builtin type's literals are printed. */
export const PrintAs = {
  Default: 0,
  Int: 1,
  Unsigned: 2,
  Long: 3,
  UnsignedLong: 4,
  LongLong: 5,
  UnsignedLongLong: 6,
  Bool: 7,
  Float: 8,
  Void: 9,
} as const;
/** One of {@link PrintAs}. */
export type PrintAs = (typeof PrintAs)[keyof typeof PrintAs];

/** A builtin type: its spelling and how its literals print. */
export interface Builtin {
  readonly name: string;
  readonly print: PrintAs;
}

/** An operator: its code, its spelling, and its arity in expressions. */
export interface OperatorInfo {
  readonly code: string;
  readonly name: string;
  readonly args: number;
}

/** One node of the tree. A single class keeps every node the same shape. */
export class Node {
  kind: K;
  left: Node | null;
  right: Node | null;
  /** Names, literal text, std abbreviations, clone suffixes. */
  str: string;
  /** Template-parameter index, discriminator, lambda number, vector size. */
  num: number;
  op: OperatorInfo | null;
  builtin: Builtin | null;
  /** How many times the printer is inside this node (loops through substitutions end at 2). */
  printing: number;

  constructor(kind: K, left: Node | null, right: Node | null) {
    // Every field set here, in one order, with no default parameters: the cheapest shape for each engine.
    this.kind = kind;
    this.left = left;
    this.right = right;
    this.str = "";
    this.num = 0;
    this.op = null;
    this.builtin = null;
    this.printing = 0;
  }
}

/** Builtin types by their one-letter code (a-z), then the D-prefixed ones by index. */
export const BUILTINS: readonly (Builtin | null)[] = [
  { name: "signed char", print: PrintAs.Default }, // a
  { name: "bool", print: PrintAs.Bool }, // b
  { name: "char", print: PrintAs.Default }, // c
  { name: "double", print: PrintAs.Float }, // d
  { name: "long double", print: PrintAs.Float }, // e
  { name: "float", print: PrintAs.Float }, // f
  { name: "__float128", print: PrintAs.Float }, // g
  { name: "unsigned char", print: PrintAs.Default }, // h
  { name: "int", print: PrintAs.Int }, // i
  { name: "unsigned int", print: PrintAs.Unsigned }, // j
  null, // k
  { name: "long", print: PrintAs.Long }, // l
  { name: "unsigned long", print: PrintAs.UnsignedLong }, // m
  { name: "__int128", print: PrintAs.Default }, // n
  { name: "unsigned __int128", print: PrintAs.Default }, // o
  null, // p
  null, // q
  null, // r
  { name: "short", print: PrintAs.Default }, // s
  { name: "unsigned short", print: PrintAs.Default }, // t
  null, // u
  { name: "void", print: PrintAs.Void }, // v
  { name: "wchar_t", print: PrintAs.Default }, // w
  { name: "long long", print: PrintAs.LongLong }, // x
  { name: "unsigned long long", print: PrintAs.UnsignedLongLong }, // y
  { name: "...", print: PrintAs.Default }, // z
];

/** The D-prefixed builtin types (Df, Dd, De, Dh, Du, Ds, Di, Dn) and `_Float`/bfloat16. */
export const D_BUILTINS: Readonly<Record<string, Builtin>> = {
  f: { name: "decimal32", print: PrintAs.Default },
  d: { name: "decimal64", print: PrintAs.Default },
  e: { name: "decimal128", print: PrintAs.Default },
  h: { name: "half", print: PrintAs.Float },
  u: { name: "char8_t", print: PrintAs.Default },
  s: { name: "char16_t", print: PrintAs.Default },
  i: { name: "char32_t", print: PrintAs.Default },
  n: { name: "decltype(nullptr)", print: PrintAs.Default },
};
export const FLOAT_N: Builtin = { name: "_Float", print: PrintAs.Float };
export const BFLOAT16: Builtin = { name: "std::bfloat16_t", print: PrintAs.Float };

/** Operators by their two-letter code. */
const OPERATOR_LIST: readonly (readonly [string, string, number])[] = [
  ["aN", "&=", 2],
  ["aS", "=", 2],
  ["aa", "&&", 2],
  ["ad", "&", 1],
  ["an", "&", 2],
  ["at", "alignof ", 1],
  ["aw", "co_await ", 1],
  ["az", "alignof ", 1],
  ["cc", "const_cast", 2],
  ["cl", "()", 2],
  ["cm", ",", 2],
  ["co", "~", 1],
  ["dV", "/=", 2],
  ["dX", "[...]=", 3],
  ["da", "delete[] ", 1],
  ["dc", "dynamic_cast", 2],
  ["de", "*", 1],
  ["di", "=", 2],
  ["dl", "delete ", 1],
  ["ds", ".*", 2],
  ["dt", ".", 2],
  ["dv", "/", 2],
  ["dx", "]=", 2],
  ["eO", "^=", 2],
  ["eo", "^", 2],
  ["eq", "==", 2],
  ["fL", "...", 3],
  ["fR", "...", 3],
  ["fl", "...", 2],
  ["fr", "...", 2],
  ["ge", ">=", 2],
  ["gs", "::", 1],
  ["gt", ">", 2],
  ["ix", "[]", 2],
  ["lS", "<<=", 2],
  ["le", "<=", 2],
  ["li", 'operator"" ', 1],
  ["ls", "<<", 2],
  ["lt", "<", 2],
  ["mI", "-=", 2],
  ["mL", "*=", 2],
  ["mi", "-", 2],
  ["ml", "*", 2],
  ["mm", "--", 1],
  ["na", "new[]", 3],
  ["ne", "!=", 2],
  ["ng", "-", 1],
  ["nt", "!", 1],
  ["nw", "new", 3],
  ["oR", "|=", 2],
  ["oo", "||", 2],
  ["or", "|", 2],
  ["pL", "+=", 2],
  ["pl", "+", 2],
  ["pm", "->*", 2],
  ["pp", "++", 1],
  ["ps", "+", 1],
  ["pt", "->", 2],
  ["qu", "?", 3],
  ["rM", "%=", 2],
  ["rS", ">>=", 2],
  ["rc", "reinterpret_cast", 2],
  ["rm", "%", 2],
  ["rs", ">>", 2],
  ["sP", "sizeof...", 1],
  ["sZ", "sizeof...", 1],
  ["sc", "static_cast", 2],
  ["ss", "<=>", 2],
  ["st", "sizeof ", 1],
  ["sz", "sizeof ", 1],
  ["tr", "throw", 0],
  ["tw", "throw ", 1],
];

let operators: Map<string, OperatorInfo> | undefined;

/** The operator with this two-letter code (the table is built on first use). */
export function operatorByCode(code: string): OperatorInfo | undefined {
  if (!operators) {
    operators = new Map();
    for (const [c, name, args] of OPERATOR_LIST) operators.set(c, { code: c, name, args });
  }
  return operators.get(code);
}

/** A standard abbreviation (St, Sa, Sb, Ss, Si, So, Sd). */
export interface StdSub {
  /** What `c++filt -i` prints. */
  readonly simple: string;
  /** What it prints before a constructor or destructor (and verbosely). */
  readonly full: string;
  /** The name a following constructor or destructor takes. */
  readonly lastName: string;
}

const TRAITS = (c: string) => `std::basic_${c}<char, std::char_traits<char> >`;

/** Standard abbreviations by their letter after `S`. */
export const STD_SUBS: Readonly<Record<string, StdSub>> = {
  t: { simple: "std", full: "std", lastName: "" },
  a: { simple: "std::allocator", full: "std::allocator", lastName: "allocator" },
  b: { simple: "std::basic_string", full: "std::basic_string", lastName: "basic_string" },
  s: {
    simple: "std::string",
    full: "std::basic_string<char, std::char_traits<char>, std::allocator<char> >",
    lastName: "basic_string",
  },
  i: { simple: "std::istream", full: TRAITS("istream"), lastName: "basic_istream" },
  o: { simple: "std::ostream", full: TRAITS("ostream"), lastName: "basic_ostream" },
  d: { simple: "std::iostream", full: TRAITS("iostream"), lastName: "basic_iostream" },
};

/** Function qualifiers (cv on `this`, ref-qualifiers, noexcept, throw()). */
export function isFnQual(k: K): boolean {
  return k >= K.RestrictThis && k <= K.ThrowSpec;
}

/**
 * Thrown where binutils' printer reports a failure: the name is not
 * demangled. Not an Error: made at import, where capturing a stack costs
 * (in Deno, inside a bundled module, tens of milliseconds), and never seen
 * outside the demangler.
 */
export const PRINT_FAIL: { readonly message: string } = Object.freeze({ message: "cannot print" });

/** The i-th element of a template argument list (all of it when i < 0), or null. */
export function indexTemplateArgument(args: Node | null, i: number): Node | null {
  if (i < 0) return args;
  let a = args;
  for (; a !== null; a = a.right) {
    if (a.kind !== K.TemplateArgList) return null;
    if (i <= 0) break;
    i--;
  }
  if (i !== 0 || a === null) return null;
  return a.left;
}

/** The number of elements of a template argument pack. */
export function packLength(dc: Node | null): number {
  let count = 0;
  while (dc !== null && dc.kind === K.TemplateArgList && dc.left !== null) {
    count++;
    dc = dc.right;
  }
  return count;
}

/** Literal suffixes of the integer types c++filt prints bare (`1u`, `2ul`). */
export const INT_SUFFIX: Partial<Record<PrintAs, string>> = {
  [PrintAs.Int]: "",
  [PrintAs.Unsigned]: "u",
  [PrintAs.Long]: "l",
  [PrintAs.UnsignedLong]: "ul",
  [PrintAs.LongLong]: "ll",
  [PrintAs.UnsignedLongLong]: "ull",
};
