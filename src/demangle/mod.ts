/**
 * procmap's own demangler for C++ (Itanium ABI, as GCC and Clang emit it)
 * and Rust (legacy and v0) symbol names, printing exactly what
 * `c++filt -i` (binutils 2.40) prints, which is also how gdb and
 * `nm --demangle` show names. Pure TypeScript with no dependency; the small
 * tables are built on first use.
 *
 * Bounded by construction: each name is demangled under a work budget
 * (nodes built and visited, characters printed, nesting depth). A name past
 * it comes back unchanged and flagged `"budget"` by {@link demangleDetailed};
 * the back-reference bombs that make other demanglers print gigabytes stop
 * within the budget, in well under a millisecond.
 * @module
 */
import { Budget, BudgetExceeded, type BudgetLimits, DEFAULT_LIMITS } from "./budget.ts";
import { ItaniumParser, MAX_ITANIUM_LENGTH } from "./itanium_parser.ts";
import { PARSE_FAIL } from "./itanium_reader.ts";
import { PRINT_FAIL } from "./itanium_nodes.ts";
import { Printer } from "./itanium_printer.ts";
import { demangleRustLegacy } from "./rust_legacy.ts";
import { demangleRustV0 } from "./rust_v0.ts";

export type { BudgetLimits } from "./budget.ts";
export { DEFAULT_LIMITS } from "./budget.ts";

/** What {@link demangleDetailed} did with a name. */
export type DemangleStatus =
  /** `text` is the demangled name. */
  | "demangled"
  /** Not a mangled name, or one that `c++filt -i` also leaves as it is: `text` is the input. */
  | "unchanged"
  /** The name ran past the work budget: `text` is the input, which may well be hostile. */
  | "budget";

/** The mangling scheme a name was read with. */
export type ManglingScheme = "itanium" | "rust-legacy" | "rust-v0";

/** The answer of {@link demangleDetailed}. */
export interface DemangleResult {
  /** The demangled text, or the input unchanged (see `status`). */
  readonly text: string;
  /** Whether `text` is demangled, or the input and why. */
  readonly status: DemangleStatus;
  /** The scheme, when `status` is `"demangled"`. */
  readonly scheme?: ManglingScheme;
}

/** Options of {@link demangleDetailed}. */
export interface DemangleOptions {
  /** Limits of the work budget; each defaults to {@link DEFAULT_LIMITS}. */
  readonly limits?: Partial<BudgetLimits>;
}

/**
 * The readable form of a mangled C++ or Rust name, exactly as `c++filt -i`
 * prints it (`_ZNSo5flushEv` gives `std::ostream::flush()`,
 * `_RNvCs1234_7mycrate3foo` gives `mycrate::foo`); any other string, a name
 * `c++filt -i` leaves alone, and a name past the work budget come back
 * unchanged. A suffix from `@` on (`_Z3foov@plt`, `_Z3foov@@LLVM_15`, as nm
 * prints names) is kept after the demangled name, as c++filt keeps it. Use {@link demangleDetailed} to tell these apart.
 */
export function demangle(name: string): string {
  return demangleDetailed(name).text;
}

/**
 * {@link demangle} with the reason: whether `text` is demangled, the input
 * unchanged, or the input cut off by the work budget (`"budget"`).
 */
export function demangleDetailed(name: string, options?: DemangleOptions): DemangleResult {
  if (typeof name !== "string") throw new TypeError(`demangle: expected a string, got ${typeof name}`);
  // Cheap exits for what cannot be mangled: most symbols of a C program.
  const c0 = name.charCodeAt(0);
  let skip = 0;
  if (c0 === 0x2e || c0 === 0x24) skip = 1; // c++filt reads past a leading `.` or `$`
  if (name.charCodeAt(skip) !== 0x5f) return unchanged(name);
  // c++filt reads a name up to the first character no mangled name has; what
  // follows (`@plt`, `@@GLIBC_2.14`, as nm prints names) is kept as it is.
  const at = name.indexOf("@");
  if (at > 0) {
    const head = demangleDetailed(name.slice(0, at), options);
    return head.status === "demangled" ? { ...head, text: head.text + name.slice(at) } : { ...head, text: name };
  }
  const limits = options?.limits ? { ...DEFAULT_LIMITS, ...checkLimits(options.limits) } : DEFAULT_LIMITS;
  const budget = new Budget(limits, name.length);
  const body = skip ? name.slice(skip) : name;
  let text: string | null;
  let scheme: ManglingScheme;
  try {
    [text, scheme] = demangleBody(body, budget);
  } catch (e) {
    if (e instanceof BudgetExceeded) return { text: name, status: "budget" };
    if (e instanceof RangeError) return { text: name, status: "budget" }; // the engine's stack, in a deep tree
    throw e;
  }
  if (text === null) return unchanged(name);
  // c++filt puts a skipped `.` back (not a `$`).
  return { text: c0 === 0x2e ? "." + text : text, status: "demangled", scheme };
}

function unchanged(name: string): DemangleResult {
  return { text: name, status: "unchanged" };
}

function checkLimits(l: Partial<BudgetLimits>): Partial<BudgetLimits> {
  for (const [k, v] of Object.entries(l)) {
    if (v !== undefined && (typeof v !== "number" || !(v >= 0))) {
      throw new RangeError(`demangle: limits.${k} must be a number >= 0, got ${v}`);
    }
  }
  return l;
}

/** binutils' order: Rust first (legacy Rust names are also valid C++ names), then C++. */
function demangleBody(name: string, budget: Budget): [string | null, ManglingScheme] {
  const c1 = name.charCodeAt(1);
  if (c1 === 0x52) return [demangleRustV0(name, budget), "rust-v0"]; // _R
  if (c1 === 0x5a && name.charCodeAt(2) === 0x4e) { // _ZN
    const rust = demangleRustLegacy(name, budget);
    if (rust !== null) return [rust, "rust-legacy"];
  }
  return [demangleItanium(name, budget), "itanium"];
}

/** An Itanium name (`_Z...` or `_GLOBAL__[ID]_...`), or null where c++filt prints it as it is. */
function demangleItanium(name: string, budget: Budget): string | null {
  let global = false;
  if (name.charCodeAt(1) !== 0x5a) {
    // _GLOBAL_[._$][ID]_: global constructors and destructors.
    const c8 = name[8];
    const c9 = name[9];
    if (
      !name.startsWith("_GLOBAL_") || !(c8 === "." || c8 === "_" || c8 === "$") || !(c9 === "I" || c9 === "D") ||
      name[10] !== "_"
    ) {
      return null;
    }
    global = true;
  }
  if (name.length > MAX_ITANIUM_LENGTH) return null;
  for (let state = 1;;) {
    const p = new ItaniumParser(name, budget);
    p.unresolvedNameState = state;
    let dc = null;
    try {
      dc = global ? p.globalCtorDtor() : p.mangledName(true);
    } catch (e) {
      if (e !== PARSE_FAIL) throw e;
    }
    if (dc !== null && !p.atEnd()) dc = null;
    if (dc === null) {
      // An unresolved name read the new way failed: read it the old way.
      if (p.unresolvedNameState === -1) {
        state = 0;
        continue;
      }
      return null;
    }
    const printer = new Printer(budget);
    try {
      printer.comp(dc);
    } catch (e) {
      if (e === PRINT_FAIL) return null;
      throw e;
    }
    return printer.out;
  }
}
