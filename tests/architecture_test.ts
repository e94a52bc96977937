/**
 * The source tree's shape: imports go one way (down the layers below), no
 * import cycle between files or folders, files under 700 lines, and only
 * ffi/ speaks to a runtime's FFI. Parses the import statements of mod.ts,
 * ffi/ and src/ as written (the .ts sources, also when run from dist/).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize } from "node:path";

const HERE = new URL(".", import.meta.url).pathname;
const ROOT = [join(HERE, ".."), join(HERE, "../..")].find((d) => existsSync(join(d, "src/procmaps.ts")))!;

/**
 * Layers, lowest first: a file may import its own layer or a lower one.
 * Matched by path prefix (a folder ends with "/"); every source file must
 * match one, so a new top-level file or folder gets a place here first.
 */
const LAYERS: readonly (readonly string[])[] = [
  ["ffi/"],
  ["src/util/"],
  // Pure name codecs, importing nothing of procmap's.
  ["src/demangle/"],
  // The records and checks every layer shares.
  ["src/vma.ts", "src/errors.ts", "src/options.ts", "src/request.ts", "src/symbol.ts"],
  ["src/procfs/"],
  ["src/elf/"],
  ["src/dwarf/"],
  ["src/table/"],
  // Backends: the contract and its two sources, and smaps beside them.
  ["src/backend.ts", "src/empty_backend.ts", "src/ioctl/", "src/text/", "src/smaps/"],
  ["src/resolve/"],
  // The debuginfod client: below the symbolizer that uses it.
  ["src/debuginfod/"],
  ["src/symbolize/"],
  // The handle.
  ["src/procmaps.ts", "src/vma_iterator.ts", "src/async_iter.ts"],
  // On the handle: profiles built from sampled stacks, and the sampler (perf_event_open) that feeds them.
  ["src/profile/"],
  ["src/sampler/"],
  ["mod.ts"],
];

const MAX_LINES = 700;

function layerOf(path: string): number {
  return LAYERS.findIndex((prefixes) => prefixes.some((p) => p.endsWith("/") ? path.startsWith(p) : path === p));
}

/** The unit folder cycles are checked between: a top-level src file is its own unit. */
function unitOf(path: string): string {
  const parts = path.split("/");
  if (parts[0] === "src") return parts.length > 2 ? `src/${parts[1]}/` : path;
  return parts.length > 1 ? `${parts[0]}/` : path;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const rel = `${dir}/${name}`;
    if (statSync(join(ROOT, rel)).isDirectory()) out.push(...sources(rel));
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(rel);
  }
  return out;
}

/** Comments removed (block comments, and line comments starting a line or after code). */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[\s;{}])\/\/.*$/gm, "$1");
}

/** Every module specifier a file imports or re-exports, static or dynamic. */
export function specifiers(text: string): string[] {
  const code = stripComments(text);
  const out: string[] = [];
  const patterns = [
    /(?:^|[\s;])(?:import|export)\s[^;"'`]*?\bfrom\s*["']([^"']+)["']/g,
    /(?:^|[\s;])import\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*[,)]/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) out.push(m[1]);
  return out;
}

interface Graph {
  files: string[];
  /** Relative imports, resolved to repository paths. */
  edges: Map<string, string[]>;
  /** Bare imports (packages, node:, bun:). */
  bare: Map<string, string[]>;
}

function graph(): Graph {
  const files = ["mod.ts", ...sources("ffi"), ...sources("src")];
  const edges = new Map<string, string[]>();
  const bare = new Map<string, string[]>();
  for (const file of files) {
    const specs = specifiers(readFileSync(join(ROOT, file), "utf8"));
    edges.set(file, specs.filter((s) => s.startsWith(".")).map((s) => normalize(join(dirname(file), s))));
    bare.set(file, specs.filter((s) => !s.startsWith(".")));
  }
  return { files, edges, bare };
}

/** One cycle in a directed graph, as its nodes in order, or undefined. */
function findCycle(nodes: Iterable<string>, next: (n: string) => Iterable<string>): string[] | undefined {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    state.set(n, 1);
    stack.push(n);
    for (const m of next(n)) {
      if (state.get(m) === 1) return [...stack.slice(stack.indexOf(m)), m];
      if (!state.has(m)) {
        const c = visit(m);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(n, 2);
    return undefined;
  };
  for (const n of nodes) {
    if (!state.has(n)) {
      const c = visit(n);
      if (c) return c;
    }
  }
  return undefined;
}

test("the import parser sees every form", () => {
  const text = [
    'import { a } from "./a.ts";',
    "import type {\n  B,\n  C,\n} from '../b.ts';",
    'export { d } from "./d.ts";',
    'export * from "./e.ts";',
    'import "./f.ts";',
    'const g = await import("./g.ts");',
    '// import { x } from "./commented.ts";',
    '/* export { y } from "./block.ts"; */',
    'const url = "https://example.org/"; import { h } from "./h.ts";',
  ].join("\n");
  assert.deepEqual(specifiers(text).sort(), ["../b.ts", "./a.ts", "./d.ts", "./e.ts", "./f.ts", "./g.ts", "./h.ts"]);
});

test("every source file has a layer, and imports only its own layer or lower ones", () => {
  const { files, edges } = graph();
  const unplaced = files.filter((f) => layerOf(f) < 0);
  assert.deepEqual(unplaced, [], "files with no layer in tests/architecture_test.ts");
  const upward: string[] = [];
  for (const [file, targets] of edges) {
    for (const t of targets) {
      assert.ok(existsSync(join(ROOT, t)), `${file} imports ${t}, which does not exist`);
      if (layerOf(t) > layerOf(file)) upward.push(`${file} -> ${t}`);
    }
  }
  assert.deepEqual(upward, [], "imports reaching up a layer");
});

test("no import cycle between files, nor between folders", () => {
  const { files, edges } = graph();
  assert.equal(findCycle(files, (f) => edges.get(f) ?? []), undefined, "file cycle");
  const units = new Map<string, Set<string>>();
  for (const [file, targets] of edges) {
    const from = unitOf(file);
    const set = units.get(from) ?? units.set(from, new Set()).get(from)!;
    for (const t of targets) if (unitOf(t) !== from) set.add(unitOf(t));
  }
  assert.equal(findCycle(units.keys(), (u) => units.get(u) ?? []), undefined, "folder cycle");
});

test("a runtime's FFI is reached only from ffi/", () => {
  const { bare } = graph();
  const outside: string[] = [];
  for (const [file, specs] of bare) {
    if (file.startsWith("ffi/")) continue;
    for (const s of specs) if (s.startsWith("bun:") || s === "node:ffi") outside.push(`${file} -> ${s}`);
  }
  assert.deepEqual(outside, []);
});

test(`source files are under ${MAX_LINES} lines`, () => {
  const { files } = graph();
  const long = files.map((f) => [f, readFileSync(join(ROOT, f), "utf8").split("\n").length - 1] as const)
    .filter(([, n]) => n >= MAX_LINES).map(([f, n]) => `${f}: ${n}`);
  assert.deepEqual(long, []);
});
