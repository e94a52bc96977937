/**
 * The npm packages procmap loads on first use (xz-decompress, fzstd,
 * pprof-format), found from this module's own file by Node.js's rules
 * (node_modules up the tree) before the runtime's resolver. Deno's resolver
 * takes bare specifiers from the main module's project only: a script
 * outside this package's project that imports it by path gets "not a
 * dependency" from it, although the packages sit in node_modules next to
 * procmap. Deno can still fetch an asynchronous import as an `npm:`
 * specifier when no node_modules holds the package at all.
 * @module
 */
import { builtinModule } from "./builtin.ts";

/** Why a package cannot be loaded, and whether trying again later may help (EMFILE, ENOMEM, ...). */
export interface PackageFailure {
  readonly message: string;
  readonly transient: boolean;
}

const TRANSIENT_CODES = new Set(["EMFILE", "ENFILE", "ENOMEM", "EAGAIN", "EINTR"]);

/** `e` as one line (Node's "Cannot find module" adds its require stack on further lines). */
function oneLine(e: unknown): string {
  return String(e).split("\n")[0];
}

/** A failure to load package `name`, as the caller words it (`what`: "the zstd decoder (npm fzstd)"). */
export function packageFailure(what: string, e: unknown): PackageFailure {
  const code = (e as { code?: unknown } | null)?.code;
  return {
    message: `${what} cannot be loaded: ${oneLine(e)}`,
    transient: typeof code === "string" && TRANSIENT_CODES.has(code),
  };
}

/** Node's `require` (what `createRequire` gives). */
type NodeRequire = ((id: string) => unknown) & { resolve(id: string): string };

/** A `require` from this module (node:module loaded here, on first use: see builtin.ts). */
function requireHere(): NodeRequire {
  const mod = builtinModule<{ createRequire(url: string): NodeRequire }>("node:module");
  if (!mod) throw new Error("no node:module in this runtime");
  return mod.createRequire(import.meta.url);
}

/**
 * The file package `name`'s main entry is: by Node.js's rules from this
 * module, else by the runtime's resolver (an import map) when that gives a
 * file. Throws the first resolver's error when neither finds it.
 */
export function resolvePackageFile(name: string): string {
  let first: unknown;
  try {
    return requireHere().resolve(name);
  } catch (e) {
    first = e;
  }
  try {
    const url = import.meta.resolve(name);
    const toPath = builtinModule<{ fileURLToPath(url: string): string }>("node:url")?.fileURLToPath;
    if (url.startsWith("file:") && toPath) return toPath(url);
  } catch {
    // The first error says more (which directories were searched).
  }
  throw first;
}

/** Package `name` loaded synchronously (its CommonJS entry) by Node.js's rules from this module. */
export function requirePackage(name: string): unknown {
  return requireHere()(name);
}

/**
 * Package `name` imported: by the runtime's resolver, else by Node.js's rules
 * from this module, else (Deno only) as `npm:<name>@<range>`, which Deno
 * fetches into its cache. Rejects with the first error when none loads it.
 */
export async function importPackage(name: string, range: string): Promise<unknown> {
  let first: unknown;
  try {
    return await import(name);
  } catch (e) {
    first = e;
  }
  try {
    return requirePackage(name);
  } catch {
    // Not in any node_modules up the tree either.
  }
  if ("Deno" in globalThis) {
    try {
      return await import(`npm:${name}@${range}`);
    } catch {
      // No network, or no permission to fetch: the first error stands.
    }
  }
  throw first;
}
