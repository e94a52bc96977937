/**
 * Counting this process's own descriptors, for the tests that check a
 * handle holds what it should and leaks nothing.
 * @module
 */
import { readdirSync, readlinkSync } from "node:fs";

/**
 * How many of this process's descriptors have a link (`/proc/self/fd/N`)
 * that `wanted` accepts. Tests count only what procmap opens (files under
 * /proc, or files at all): the runtime opens and closes pipes, sockets and
 * event descriptors of its own when it likes, which would hide a leak or
 * show one that is not there.
 */
export function countFds(wanted: (link: string) => boolean): number {
  let n = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (wanted(readlinkSync(`/proc/self/fd/${fd}`))) n++;
    } catch {
      // Closed since the listing (the listing's own descriptor among them).
    }
  }
  return n;
}
