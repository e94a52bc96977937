/**
 * Fields of `/proc/<pid>/status` the JIT symbol sources need: the pid as the
 * process's own PID namespace gives it (`NSpid`, last value; `Pid` before
 * Linux 4.1) and its user IDs (real, effective, saved, filesystem).
 * @module
 */

/** The whitespace-separated values of the status line `key` (e.g. `"NSpid:"`), or undefined. */
export function statusFields(status: string, key: string): string[] | undefined {
  for (const line of status.split("\n")) {
    if (line.startsWith(key)) return line.slice(key.length).trim().split(/\s+/).filter(Boolean);
  }
  return undefined;
}

/** The pid as the process's own (innermost) PID namespace numbers it, or undefined. */
export function namespacePid(status: string): string | undefined {
  const f = statusFields(status, "NSpid:") ?? statusFields(status, "Pid:");
  return f && f.length ? f[f.length - 1] : undefined;
}
