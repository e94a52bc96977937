// Where the runtimes the project tests with are: Deno and Bun from npm
// (node_modules/.bin), the machine's own Node.js (the first `node` on PATH
// outside node_modules: Node 20 here, the text backend) and Node.js 26 from
// the npm package node-linux-<cpu> (node:ffi, the ioctl backend).
import { accessSync, constants, realpathSync } from "node:fs";
import { delimiter, dirname, join, sep } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** A binary from node_modules/.bin. */
export const bin = (name) => join(root, "node_modules", ".bin", name);

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The machine's Node.js: the first `node` on PATH that is not inside a
 * node_modules folder (npm puts node_modules/.bin, whose `node` is Node 26,
 * first on PATH in scripts). Falls back to the node running npm.
 */
export function systemNode() {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir || dir.split(sep).includes("node_modules")) continue;
    const candidate = join(dir, "node");
    if (!executable(candidate)) continue;
    if (realpathSync(candidate).split(sep).includes("node_modules")) continue;
    return candidate;
  }
  return process.env.npm_node_execpath;
}

/** Node.js 26 from the npm package node-linux-<cpu>, or undefined when not installed. */
export function node26() {
  const path = join(root, "node_modules", `node-linux-${process.arch}`, "bin", "node");
  return executable(path) ? path : undefined;
}

/** Node 26 prints an ExperimentalWarning when node:ffi loads; these flags silence it. */
export const NODE26_FLAGS = ["--disable-warning=ExperimentalWarning"];

// `node scripts/runtimes.mjs`: which runtimes these are, with their versions.
if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  const { spawnSync } = await import("node:child_process");
  const version = (path) =>
    path ? spawnSync(path, ["--version"], { encoding: "utf8" }).stdout.trim().split("\n")[0] : "";
  for (
    const [name, path] of [["deno", bin("deno")], ["bun", bin("bun")], ["node (machine)", systemNode()], [
      "node26 (npm)",
      node26(),
    ]]
  ) {
    console.log(`${name}: ${path ? `${version(path)} (${path})` : "not installed"}`);
  }
}
