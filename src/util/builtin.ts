/**
 * Node's built-in modules, loaded on first use: a static `import "node:*"`
 * is evaluated when procmap is imported, and in Deno the first one loads
 * its whole Node layer (25-40 ms of CPU time), which a program that never
 * meets a compressed debug section should not pay.
 * @module
 */

/** Built-in module `id` (`"node:zlib"`, ...) through `process.getBuiltinModule` (Node 20.16+, Bun, Deno 2), or undefined where there is none. */
export function builtinModule<T>(id: string): T | undefined {
  const g = globalThis as { process?: { getBuiltinModule?(id: string): unknown } };
  return g.process?.getBuiltinModule?.(id) as T | undefined;
}
