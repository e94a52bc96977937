/** Test children: C programs compiled on demand, started and stopped. */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

// tests/fixtures holds the C sources; compiled tests run from dist/tests.
const HERE = new URL(".", import.meta.url).pathname;
export const FIXTURES = [join(HERE, "../fixtures"), join(HERE, "../../../tests/fixtures")].find((d) =>
  existsSync(join(d, "mapper.c"))
)!;

/** Compiles tests/fixtures/<name>.c (name may have a sub-directory) once per content; returns the binary's path. */
export function compileC(name: string, extraFlags: string[] = []): string {
  const src = join(FIXTURES, `${name}.c`);
  const hash = createHash("sha256").update(readFileSync(src)).update(extraFlags.join(" ")).digest("hex").slice(0, 16);
  const dir = join(tmpdir(), "procmap-test-bin");
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `${name.replaceAll("/", "_")}-${hash}`);
  if (!existsSync(out)) {
    const tmp = `${out}.${process.pid}.tmp`;
    const r = spawnSync("gcc", ["-O2", "-Wall", "-o", tmp, src, ...extraFlags], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`gcc ${name}.c failed: ${r.stderr || r.error}`);
    spawnSync("mv", [tmp, out]);
  }
  return out;
}

/**
 * Last-resort cleanup when the test process exits: Deno's node:test skips
 * after() hooks in a file that has a skipped test, so children and temp
 * directories must not depend on them alone.
 */
const atExit = new Set<() => void>();
process.on("exit", () => {
  for (const fn of atExit) fn();
});

export interface Started<T> {
  pid: number;
  info: T;
  child: ChildProcess;
  /** Closes the child's stdin and waits for it to exit. */
  stop(): Promise<void>;
}

/** Starts `bin args`, waits for its first stdout line and parses it as JSON. */
export function startChild<T>(bin: string, args: string[]): Promise<Started<T>> {
  const child = spawn(bin, args, { stdio: ["pipe", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`${bin} exited early with ${code}: ${out}`)));
    child.stdout!.setEncoding("utf8");
    let started = false;
    child.stdout!.on("data", (chunk: string) => {
      // Only the first line: children that print more lines are read by their tests.
      if (started) return;
      out += chunk;
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      started = true;
      child.removeAllListeners("exit");
      const exited = new Promise<void>((r) => child.on("exit", () => r()));
      const kill = () => child.kill("SIGKILL");
      atExit.add(kill);
      resolve({
        pid: child.pid!,
        info: JSON.parse(out.slice(0, nl)) as T,
        child,
        async stop() {
          atExit.delete(kill);
          child.stdin!.end();
          await exited;
        },
      });
    });
  });
}

/**
 * Resolves once `child` runs `program` (its /proc/<pid>/exe ends with "/program") and sleeps there
 * (state S: blocked in the program's own wait, its exec and its loader done; the exe link changes
 * before the exec maps the vDSO and the loader the libraries). A freshly spawned child is this
 * runtime until then, however long a busy machine takes to get there. Rejects if it exits first.
 */
export async function asleepIn(child: ChildProcess, program: string): Promise<void> {
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${program} exited (${child.exitCode ?? child.signalCode}) before it slept`);
    }
    let exe = "", state = "";
    try {
      exe = readlinkSync(`/proc/${child.pid}/exe`);
      state = readFileSync(`/proc/${child.pid}/stat`, "utf8").replace(/^.*\) /s, "")[0];
    } catch {
      // Not started yet, or gone (the exit status says so at the next turn).
    }
    if (exe.endsWith(`/${program}`) && state === "S") return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface Region {
  start: string;
  end: string;
  path?: string;
}

export interface MapperInfo {
  spaces: Region;
  odd: Region;
  newline: Region;
  deleted: Region;
  memfd: Region;
  sharedAnon: Region;
  guarded: Region;
  anonNamed: Region;
  writeOnly: Region;
  rwx: Region;
  long?: Region;
  overlong?: Region;
  anonNameErrno: number;
  arena: Region;
  pid: number;
}

/** Starts the mapper child in a fresh directory; `stop()` also removes it. */
export async function startMapper(longNames = false): Promise<Started<MapperInfo> & { dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "procmap-mapper-"));
  const started = await startChild<MapperInfo>(compileC("mapper"), longNames ? [dir, "--long-names"] : [dir]);
  // rm(1) first: Node's rmSync cannot remove paths longer than PATH_MAX;
  // Deno cannot spawn from an exit handler, but its rmSync can.
  const remove = () => {
    if (spawnSync("rm", ["-rf", dir]).status === 0) return;
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Left for the OS's temp cleanup.
    }
  };
  atExit.add(remove);
  return {
    ...started,
    dir,
    async stop() {
      await started.stop();
      atExit.delete(remove);
      remove();
    },
  };
}
