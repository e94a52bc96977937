/** Running a script under the same runtime as the tests, optionally as another user. */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync } from "node:fs";
import process from "node:process";
import { join } from "node:path";
import { getLibc } from "../../ffi/mod.ts";
import { ProcessRef } from "../../src/procfs/process.ts";

const isDeno = "Deno" in globalThis;
const isBun = "Bun" in globalThis;

/**
 * The command line that runs `script` (a path like tests/fixtures/x.ts,
 * relative to the repository) under the current runtime; Node runs the
 * compiled copy in dist/. `denoFlags` adds permissions under Deno (Bun and
 * Node have none).
 */
export function runtimeCommand(script: string, args: string[] = [], denoFlags: string[] = []): string[] {
  if (isDeno) return [process.execPath, "run", "--allow-ffi", "--allow-read", ...denoFlags, script, ...args];
  if (isBun) return [process.execPath, script, ...args];
  return [process.execPath, join("dist", script.replace(/\.ts$/, ".js")), ...args];
}

/** The uid tests drop to (nobody). */
export const NOBODY = 65534;

/** setpriv(1) arguments that run a command as nobody, with no groups. */
export const SETPRIV_NOBODY = ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups"];

/**
 * Runs `script` under this runtime as user `nobody` (with `setpriv`), and
 * returns its last stdout line parsed as JSON. A script still running after
 * `timeoutMs` is killed and fails the call: a reader that blocks must fail
 * the test, not hang it.
 */
export function runAsNobody(script: string, args: string[] = [], timeoutMs = 60_000): unknown {
  const home = "/tmp/procmap-nobody-home";
  mkdirSync(home, { recursive: true });
  chmodSync(home, 0o777);
  const cmd = [
    ...SETPRIV_NOBODY,
    "env",
    `HOME=${home}`,
    `DENO_DIR=${home}/deno`,
    `TMPDIR=${home}`,
    ...runtimeCommand(script, args),
  ];
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: timeoutMs, killSignal: "SIGKILL" });
  if (r.signal !== null) throw new Error(`${cmd.join(" ")} did not finish within ${timeoutMs} ms (blocked?)`);
  if (r.status !== 0) throw new Error(`${cmd.join(" ")} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

/** True when running as root (CI does); privilege tests drop from there. */
export const isRoot = process.getuid?.() === 0;

/**
 * Runs `fn` with process `pid` pinned as a handle pins it (its `/proc/<pid>`
 * directory, for the JIT and target-file openers), closed afterwards.
 */
export function withProcess<T>(pid: number | "self", fn: (proc: ProcessRef) => T): T {
  const proc = ProcessRef.open(getLibc(), pid);
  try {
    return fn(proc);
  } finally {
    proc.close();
  }
}
