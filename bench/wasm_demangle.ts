/**
 * The WebAssembly demangler procmap used before its own (the npm package
 * `gecko-profiler-demangle` 0.4: cpp_demangle and rustc-demangle), kept as a
 * devDependency only so that bench case 7 can time procmap's demangler
 * against it in the same run. Loaded as procmap loaded it: the glue module,
 * then the .wasm read and instantiated synchronously.
 * @module
 */
import { readFileSync } from "node:fs";

interface Glue {
  __wbg_set_wasm(exports: unknown): void;
  demangle_any(name: string): string;
}

/** The old demangle(name), or undefined when the package is not installed. */
export async function loadWasmDemangler(): Promise<((name: string) => string) | undefined> {
  // A variable specifier: the package is not a dependency of procmap itself.
  const pkg = "gecko-profiler-demangle";
  let glue: Glue;
  try {
    glue = (await import(`${pkg}/index_bg.js`)) as unknown as Glue;
  } catch {
    return undefined;
  }
  const path = decodeURIComponent(new URL(import.meta.resolve(`${pkg}/index_bg.wasm`)).pathname);
  const module = new WebAssembly.Module(readFileSync(path));
  const instance = new WebAssembly.Instance(module, { "./index_bg.js": { ...glue } });
  glue.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  const isMangled = (n: string) => /^_(Z[A-Za-z0-9]|R[0-9]*[A-Z])/.test(n);
  return (name: string) => {
    if (!isMangled(name)) return name;
    const at = name.indexOf("@");
    const base = at > 0 ? name.slice(0, at) : name;
    let out: string;
    try {
      out = glue.demangle_any(base);
    } catch {
      return name;
    }
    if (out.length === 0 || out === base || out === base.slice(1)) return name;
    return at > 0 ? out + name.slice(at) : out;
  };
}
