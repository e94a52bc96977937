/**
 * Reading the environment without surprises: Deno asks the user (or throws
 * NotCapable) when a variable is read without `--allow-env`, so there a
 * variable counts as unset unless the permission is already granted. The
 * other runtimes read `process.env`.
 * @module
 */

interface DenoEnv {
  permissions: { querySync(d: { name: "env"; variable: string }): { state: string } };
  env: { get(name: string): string | undefined };
}

const g = globalThis as unknown as { Deno?: DenoEnv; process?: { env: Record<string, string | undefined> } };

/** The value of environment variable `name`, or undefined when it is unset or may not be read. */
export function readEnv(name: string): string | undefined {
  try {
    const deno = g.Deno;
    if (deno !== undefined) {
      return deno.permissions.querySync({ name: "env", variable: name }).state === "granted"
        ? deno.env.get(name)
        : undefined;
    }
    return g.process?.env[name];
  } catch {
    return undefined;
  }
}
