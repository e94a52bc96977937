/** Running a script under the same runtime as the tests, optionally as another user. */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync } from "node:fs";
import process from "node:process";
import { join } from "node:path";

const isDeno = "Deno" in globalThis;
const isBun = "Bun" in globalThis;

/**
 * The command line that runs `script` (a path like tests/fixtures/x.ts,
 * relative to the repository) under the current runtime; Node runs the
 * compiled copy in dist/.
 */
export function runtimeCommand(script: string, args: string[] = []): string[] {
  if (isDeno) return [process.execPath, "run", "--allow-ffi", "--allow-read", script, ...args];
  if (isBun) return [process.execPath, script, ...args];
  return [process.execPath, join("dist", script.replace(/\.ts$/, ".js")), ...args];
}

/** The uid tests drop to (nobody). */
export const NOBODY = 65534;

/**
 * Runs `script` under this runtime as user `nobody` (with `setpriv`), and
 * returns its stdout parsed as JSON.
 */
export function runAsNobody(script: string, args: string[] = []): unknown {
  const home = "/tmp/procmap-nobody-home";
  mkdirSync(home, { recursive: true });
  chmodSync(home, 0o777);
  const cmd = [
    "setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups",
    "env", `HOME=${home}`, `DENO_DIR=${home}/deno`, `TMPDIR=${home}`,
    ...runtimeCommand(script, args),
  ];
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd.join(" ")} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

/** True when running as root (CI does); privilege tests drop from there. */
export const isRoot = process.getuid?.() === 0;
