/**
 * Demangling C++ (Itanium) and Rust (legacy and v0) symbol names with the
 * Firefox profiler's demanglers (the npm package `gecko-profiler-demangle`:
 * cpp_demangle and rustc-demangle compiled to WebAssembly).
 *
 * The package's JavaScript glue (3 KB) is imported with the module; its
 * 500 KB WebAssembly is read, compiled and instantiated synchronously on the
 * first mangled name, so a caller that never demangles never pays for it. The
 * wasm file is found by module resolution and read through the Libc
 * interface, which works the same in Deno, Bun and Node (the package's own
 * entry point imports the `.wasm` as an ES module, which only Deno can).
 *
 * Output is the short form gdb and perf print (`c++filt -i`): Rust legacy
 * hashes (`::h0123456789abcdef`) and v0 crate disambiguators (`[1a2b]`) are
 * left out, as are Itanium `std::string`-style abbreviations expanded by
 * `c++filt` without `-i`. Where the demangler cannot read a name, or cannot be
 * loaded at all, the name comes back unchanged.
 * @module
 */
import { getLibc } from "../../ffi/mod.ts";
import { readFile } from "../procfs/read.ts";
import * as glueModule from "gecko-profiler-demangle/index_bg.js";

interface Glue {
  __wbg_set_wasm(exports: unknown): void;
  demangle_any(name: string): string;
}

// The glue is a plain ES module without side effects beyond its own
// definitions (3 KB), imported statically: procmap has no top-level await,
// so that require("procmap") works and bundlers are happy.
const glue: Glue = glueModule as unknown as Glue;

/** Longer names are returned as they are (real ones stay far below). */
const MAX_NAME = 65536;
/** After this many traps the demangler is given up (its heap may be damaged). */
const MAX_TRAPS = 8;

type State = { kind: "unloaded" } | { kind: "ready"; demangle: (n: string) => string } | {
  kind: "failed";
  reason: string;
};
let state: State = { kind: "unloaded" };
let traps = 0;

function load(): State {
  try {
    const url = import.meta.resolve("gecko-profiler-demangle/index_bg.wasm");
    const path = decodeURIComponent(new URL(url).pathname);
    const file = readFile(getLibc(), path);
    if (!file) return { kind: "failed", reason: `cannot read ${path}` };
    const module = new WebAssembly.Module(file.bytes.subarray(0, file.length) as Uint8Array<ArrayBuffer>);
    // The wasm imports its glue's exports under the glue's own file name.
    const instance = new WebAssembly.Instance(module, { "./index_bg.js": { ...glue } });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return { kind: "ready", demangle: glue.demangle_any };
  } catch (e) {
    return { kind: "failed", reason: String(e) };
  }
}

/**
 * True when `name` looks like a C++ (`_Z...`) or Rust (legacy `_ZN...E`, v0
 * `_R...`) mangled name; only such names are given to the demangler.
 */
export function isMangled(name: string): boolean {
  if (name.length < 3 || name.charCodeAt(0) !== 0x5f) return false; // "_"
  const c1 = name.charCodeAt(1);
  const c2 = name.charCodeAt(2);
  // Itanium: _Z then a name (N, digit, S, L, Z, T, G, ...) or an operator (nw, dl, ...).
  if (c1 === 0x5a) return (c2 >= 0x41 && c2 <= 0x5a) || (c2 >= 0x61 && c2 <= 0x7a) || (c2 >= 0x30 && c2 <= 0x39);
  // Rust v0: _R, an optional decimal encoding version, then a path (upper case tag).
  if (c1 === 0x52) {
    let i = 2;
    while (i < name.length && name.charCodeAt(i) >= 0x30 && name.charCodeAt(i) <= 0x39) i++;
    const c = name.charCodeAt(i);
    return c >= 0x41 && c <= 0x5a;
  }
  return false;
}

/**
 * The readable form of a mangled C++ or Rust name, as gdb and perf print it;
 * `name` itself when it is not mangled, when the demangler cannot read it,
 * or when the demangler could not be loaded (tried once per process).
 */
export function demangle(name: string): string {
  if (!isMangled(name) || name.length > MAX_NAME) return name;
  // A symbol version (`_Znwm@GLIBCXX_3.4`, `memcpy@@GLIBC_2.14` in .symtab)
  // is no part of the mangling: demangle the rest and keep it, as c++filt does.
  const at = name.indexOf("@");
  if (at > 0) {
    const base = demangleBare(name.slice(0, at));
    return base === undefined ? name : base + name.slice(at);
  }
  return demangleBare(name) ?? name;
}

function demangleBare(name: string): string | undefined {
  if (state.kind === "unloaded") state = load();
  if (state.kind !== "ready") return undefined;
  let out: string;
  try {
    out = state.demangle(name);
  } catch {
    // A trap (a Rust panic in the demangler): this name stays as it is.
    if (++traps >= MAX_TRAPS) state = { kind: "failed", reason: `the demangler trapped ${traps} times` };
    return undefined;
  }
  // Its last fallback strips the leading underscore of a name no demangler read.
  if (out.length === 0 || out === name || out === name.slice(1)) return undefined;
  return out;
}

/**
 * Why demangling is off (the package is missing or failed to load), or
 * undefined while it works or has not been needed yet.
 */
export function demanglerUnavailable(): string | undefined {
  return state.kind === "failed" ? state.reason : undefined;
}
