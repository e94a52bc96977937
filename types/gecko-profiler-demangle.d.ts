// The package ships types for its entry point only; src/symbolize/demangle.ts
// imports the wasm-bindgen glue beside it and instantiates the wasm itself.
declare module "gecko-profiler-demangle/index_bg.js" {
  export function __wbg_set_wasm(exports: unknown): void;
  export function demangle_any(name: string): string;
}
