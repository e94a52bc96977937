/**
 * Demangling for symbolization: C++ (Itanium) and Rust (legacy and v0)
 * names through procmap's own demangler (src/demangle), which prints what
 * `c++filt -i` prints, as gdb and `nm --demangle` do. Names are attacker
 * input (a target's ELF files and perf map): each is demangled under a work
 * budget, and a name past it keeps its mangled form, flagged.
 * @module
 */
import { demangleDetailed } from "../demangle/mod.ts";

/** A demangled name, and whether the work budget cut it (then `text` is the name as it was). */
export interface Demangled {
  readonly text: string;
  readonly cut: boolean;
}

/**
 * True when `name` may be a mangled name c++filt reads: `_Z...` (C++),
 * `_R...` (Rust v0), `_GLOBAL_...` (global constructors), possibly after the
 * `.` or `$` c++filt skips. Others are never given to the demangler.
 */
export function isMangled(name: string): boolean {
  let i = name.charCodeAt(0) === 0x2e || name.charCodeAt(0) === 0x24 ? 1 : 0;
  if (name.charCodeAt(i) !== 0x5f) return false; // "_"
  const c = name.charCodeAt(++i);
  return c === 0x5a || c === 0x52 || (c === 0x47 && name.startsWith("GLOBAL_", i)); // Z, R, GLOBAL_
}

/**
 * The readable form of a mangled C++ or Rust name, as `c++filt -i` prints
 * it; `name` itself when it is not mangled, when c++filt would leave it as
 * it is, or when it runs past the work budget.
 */
export function demangle(name: string): string {
  return demangleName(name).text;
}

/** {@link demangle}, with whether the budget cut the name. */
export function demangleName(name: string): Demangled {
  // A symbol version (`_Znwm@GLIBCXX_3.4`, in .symtab) is no part of the
  // mangling: demangle the rest and keep it, as c++filt does.
  const at = name.indexOf("@");
  if (at > 0) {
    const r = demangleDetailed(name.slice(0, at));
    return r.status === "demangled"
      ? { text: r.text + name.slice(at), cut: false }
      : { text: name, cut: r.status === "budget" };
  }
  const r = demangleDetailed(name);
  return { text: r.text, cut: r.status === "budget" };
}
