/**
 * The debuginfod cache, laid out and kept as elfutils' client keeps it, so
 * that gdb, perf, systemd-coredump and `debuginfod-find` use what procmap
 * fetched and procmap uses what they fetched:
 * - `<cache>/<build-id>/debuginfo` and `<cache>/<build-id>/executable`;
 *   directories 0700; a download goes to `<file>.XXXXXX` in the same
 *   directory, is made read-only (0400) and renamed into place, so no
 *   reader ever sees half a file;
 * - a miss is an empty file, whose age (mtime) says when the servers were
 *   last asked: it is trusted for `cache_miss_s` seconds, then removed and
 *   the servers asked again (older clients left 000-permission files:
 *   those are removed too);
 * - control files in `<cache>`: `cache_clean_interval_s` (default 86400),
 *   `max_unused_age_s` (604800), `cache_miss_s` (600), each a decimal
 *   number, created with the default when missing or empty. Cleaning runs
 *   when `cache_clean_interval_s` has passed since the control file's mtime
 *   (which it then touches): files not read (atime) for `max_unused_age_s`
 *   are deleted, then build-ID directories that are empty and as old.
 *
 * The cache is procmap's own directory, not a target's, but its files are
 * still read with care: the symbolizer opens them as regular files only,
 * with bounded reads, and uses one only when its build ID is the one asked
 * for (src/symbolize/debug_files.ts); the client verifies every download
 * before it is renamed into place (client.ts).
 *
 * Loaded with the client, on the first asynchronous symbolization.
 * @module
 */
import { constants, promises as fs } from "node:fs";

/** The files debuginfod serves per build ID that procmap fetches. */
export type CachedKind = "debuginfo" | "executable";

/** Control files and their defaults (seconds), as elfutils names them. */
export const CONTROL = {
  cleanInterval: { name: "cache_clean_interval_s", fallback: 86400 },
  maxUnusedAge: { name: "max_unused_age_s", fallback: 604800 },
  cacheMiss: { name: "cache_miss_s", fallback: 600 },
} as const;

/** Bytes of a control file read at most (a number fits in 32). */
const MAX_CONTROL_BYTES = 64;
const FILE_NAMES = /^(debuginfo|executable|source.*)$/;
const BUILD_ID_DIR = /^[0-9a-f]+$/;

/** The node:fs error code of `e` ("ENOENT", ...), or undefined. */
export function codeOf(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === "string" ? c : undefined;
}

/** Paths of one build ID's file. */
export function cachePaths(cachePath: string, buildId: string, kind: CachedKind): { dir: string; file: string } {
  const dir = `${cachePath}/${buildId}`;
  return { dir, file: `${dir}/${kind}` };
}

/** Makes the cache directory (and its parents) if needed. */
export async function makeCacheDir(cachePath: string): Promise<void> {
  await fs.mkdir(cachePath, { recursive: true, mode: 0o777 });
}

/**
 * A control file's number and its mtime (ms), creating it with the default
 * when missing or empty; a file that is not a regular file, or holds no
 * number, gives the default.
 */
export async function controlValue(
  cachePath: string,
  c: { name: string; fallback: number },
): Promise<{ value: number; mtimeMs: number }> {
  const path = `${cachePath}/${c.name}`;
  let h: Awaited<ReturnType<typeof fs.open>>;
  try {
    h = await fs.open(path, constants.O_CREAT | constants.O_RDWR | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o666);
  } catch {
    return { value: c.fallback, mtimeMs: Date.now() };
  }
  try {
    const st = await h.stat();
    if (!st.isFile()) return { value: c.fallback, mtimeMs: st.mtimeMs };
    if (st.size === 0) {
      await h.write(String(c.fallback), 0);
      return { value: c.fallback, mtimeMs: st.mtimeMs };
    }
    const buf = new Uint8Array(MAX_CONTROL_BYTES);
    const { bytesRead } = await h.read(buf, 0, buf.length, 0);
    const m = /^\s*([+-]?\d+)/.exec(new TextDecoder().decode(buf.subarray(0, bytesRead)));
    const n = m ? Number(m[1]) : NaN;
    return { value: Number.isSafeInteger(n) ? n : c.fallback, mtimeMs: st.mtimeMs };
  } finally {
    await h.close();
  }
}

/** What the cache holds for one file. */
export type CacheState =
  | { state: "present"; path: string }
  | { state: "miss"; ageS: number; missS: number }
  | { state: "absent" };

/**
 * The cache's entry for a build ID's file: present (a non-empty regular
 * file), a recent miss, or absent. A miss older than `cache_miss_s`, or an
 * old client's unreadable miss, is removed and reported absent.
 */
export async function lookup(cachePath: string, buildId: string, kind: CachedKind): Promise<CacheState> {
  const { file } = cachePaths(cachePath, buildId, kind);
  let st;
  try {
    st = await fs.stat(file);
  } catch (e) {
    if (codeOf(e) === "EACCES") await fs.unlink(file).catch(() => {});
    return { state: "absent" };
  }
  if (!st.isFile()) return { state: "absent" };
  if ((st.mode & 0o444) === 0) {
    // elfutils before 0.187 marked a miss with a 000-permission file.
    await fs.unlink(file).catch(() => {});
    return { state: "absent" };
  }
  if (st.size > 0) return { state: "present", path: file };
  const miss = await controlValue(cachePath, CONTROL.cacheMiss);
  const ageS = Math.floor((Date.now() - st.mtimeMs) / 1000);
  if (ageS <= miss.value) return { state: "miss", ageS, missS: miss.value };
  await fs.unlink(file).catch(() => {});
  return { state: "absent" };
}

/** Records a miss (an empty file), unless an entry is already there. */
export async function recordMiss(cachePath: string, buildId: string, kind: CachedKind): Promise<void> {
  const { dir, file } = cachePaths(cachePath, buildId, kind);
  await fs.mkdir(dir, { mode: 0o700 }).catch(() => {});
  const h = await fs.open(file, "wx", 0o666).catch(() => undefined);
  await h?.close();
}

/**
 * What procmap uses of an open `node:fs/promises` file handle. Spelled out
 * so the published declarations never name Node's types: a consumer without
 * `@types/node` must type-check.
 */
export interface TempHandle {
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  chmod(mode: number): Promise<void>;
  utimes(atime: Date, mtime: Date): Promise<void>;
  close(): Promise<void>;
}

/** A temporary file being written next to its final place. */
export interface TempFile {
  handle: TempHandle;
  path: string;
  dir: string;
  file: string;
}

/** Creates `<file>.XXXXXX` (mode 0600) in the build ID's directory, made if needed. */
export async function createTemp(cachePath: string, buildId: string, kind: CachedKind): Promise<TempFile> {
  const { dir, file } = cachePaths(cachePath, buildId, kind);
  let last: unknown;
  // Twice, as elfutils does: cleaning may remove the directory between mkdir and open.
  for (let attempt = 0; attempt < 2; attempt++) {
    await fs.mkdir(dir, { mode: 0o700 }).catch(() => {});
    const path = `${file}.${randomSuffix()}`;
    try {
      return { handle: await fs.open(path, "wx", 0o600), path, dir, file };
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

function randomSuffix(): string {
  const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(bytes, (b) => chars[b % chars.length]).join("");
}

/**
 * Puts a written, verified temporary file in place: read-only, its mtime
 * the server's Last-Modified when it gave one (as elfutils sets it), then
 * renamed over `<file>`.
 */
export async function commitTemp(t: TempFile, lastModified: Date | undefined): Promise<void> {
  await t.handle.chmod(0o400);
  if (lastModified) await t.handle.utimes(new Date(), lastModified).catch(() => {});
  await t.handle.close();
  await fs.rename(t.path, t.file);
}

/** Removes a temporary file that will not be used, and its directory when that is now empty. */
export async function discardTemp(t: TempFile): Promise<void> {
  await t.handle.close().catch(() => {});
  await fs.unlink(t.path).catch(() => {});
  await fs.rmdir(t.dir).catch(() => {});
}

/**
 * Cleans the cache when `cache_clean_interval_s` has passed since the last
 * cleaning (see the module docs). Returns the number of files deleted.
 */
export async function maybeClean(cachePath: string, now = Date.now()): Promise<number> {
  const interval = await controlValue(cachePath, CONTROL.cleanInterval);
  if (now - interval.mtimeMs < interval.value * 1000) return 0;
  // Touched first, so that concurrent clients do not all clean.
  const stamp = new Date(now);
  await fs.utimes(`${cachePath}/${CONTROL.cleanInterval.name}`, stamp, stamp).catch(() => {});
  const maxAgeMs = (await controlValue(cachePath, CONTROL.maxUnusedAge)).value * 1000;
  let deleted = 0;
  let dirs;
  try {
    dirs = await fs.readdir(cachePath, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const d of dirs) {
    if (!d.isDirectory() || !BUILD_ID_DIR.test(d.name)) continue;
    const dir = `${cachePath}/${d.name}`;
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      if (!FILE_NAMES.test(name)) continue;
      const st = await fs.lstat(`${dir}/${name}`).catch(() => undefined);
      if (st?.isFile() && now - st.atimeMs >= maxAgeMs) {
        await fs.unlink(`${dir}/${name}`).then(() => deleted++, () => {});
      }
    }
    const st = await fs.stat(dir).catch(() => undefined);
    if (st && now - st.mtimeMs >= maxAgeMs) await fs.rmdir(dir).catch(() => {});
  }
  return deleted;
}
