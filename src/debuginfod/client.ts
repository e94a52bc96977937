/**
 * The debuginfod client: fetches a build ID's debug file (`/debuginfo`) or
 * executable (`/executable`) into the shared cache (cache.ts), asking the
 * configured servers in order, and says what happened as a
 * {@link FetchOutcome}, never by throwing (except when the caller's own
 * signal aborts).
 *
 * - One download per file, however many callers want it at once: callers
 *   of the same (cache, build ID, file) share it, each with its own
 *   progress callback and signal; the download stops when every caller has
 *   given up on it. At most {@link MAX_PARALLEL} downloads run at a time.
 * - Every download is verified before it is renamed into place: its build
 *   ID (from the note section, or the program headers as the kernel reads
 *   them) must be the one asked for, else it is discarded, nothing is
 *   cached, and the next server is asked.
 * - A miss is recorded (an empty file, elfutils' negative cache) only when
 *   every server answered with an HTTP client error (404 and the like);
 *   elfutils records other HTTP errors too, procmap does not record a
 *   server error (5xx), a timeout, a refused connection or a bad body,
 *   which may be over by the next call.
 *
 * Loaded on first use (`await import`), so that importing procmap costs
 * nothing for it.
 * @module
 */
import { getLibc, type Libc } from "../../ffi/mod.ts";
import { fdBuildId } from "../elf/file_build_id.ts";
import { openTargetFile } from "../procfs/target_files.ts";
import type { DebuginfodConfig } from "./config.ts";
import {
  type CachedKind,
  commitTemp,
  createTemp,
  discardTemp,
  lookup,
  makeCacheDir,
  maybeClean,
  recordMiss,
  type TempFile,
} from "./cache.ts";
import { download, type DownloadResult, errorText } from "./download.ts";

/** Downloads running at once, at most (others wait their turn). */
export const MAX_PARALLEL = 8;

/** What a fetch did. */
export type FetchStatus = "cached" | "downloaded" | "not-found" | "failed";

/** The result of one fetch. */
export interface FetchOutcome {
  status: FetchStatus;
  /** The file in the cache (for "cached" and "downloaded"). */
  path: string | undefined;
  /** What happened, in words (each server's answer for a failure). */
  message: string;
}

/** Progress of a download, as `onProgress` receives it. */
export interface DownloadProgress {
  /** The build ID being fetched (lowercase hex). */
  buildId: string;
  /** Which file: the debug file or the executable. */
  file: "debuginfo" | "executable";
  /** Bytes received so far. */
  receivedBytes: number;
  /** The file's size when the server said it, else undefined. */
  totalBytes: number | undefined;
}

/** A caller's part in a fetch. */
export interface FetchRequest {
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
}

interface Job {
  promise: Promise<FetchOutcome>;
  listeners: Set<(p: DownloadProgress) => void>;
  waiters: number;
  controller: AbortController;
  key: string;
}

const jobs = new Map<string, Job>();
let running = 0;
const queue: (() => void)[] = [];

function outcome(status: FetchStatus, message: string, path?: string): FetchOutcome {
  return { status, path, message };
}

/** The build ID of the ELF file at `path` (a regular file, opened O_PATH and checked first), or undefined. */
function fileBuildId(libc: Libc, path: string): string | undefined {
  const f = openTargetFile(libc, undefined, path);
  if ("reason" in f) return undefined;
  try {
    return fdBuildId(libc, f.fd);
  } finally {
    libc.close(f.fd);
  }
}

async function slot(signal: AbortSignal): Promise<() => void> {
  if (running >= MAX_PARALLEL) {
    await new Promise<void>((resolve) => queue.push(resolve));
  }
  running++;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    running--;
    queue.shift()?.();
  };
  if (signal.aborted) release();
  return release;
}

/** One server's attempt: downloaded into a verified temporary file, or why not. */
async function fromServer(
  config: DebuginfodConfig,
  base: string,
  buildId: string,
  kind: CachedKind,
  job: Job,
): Promise<{ temp: TempFile; result: DownloadResult & { ok: true } } | (DownloadResult & { ok: false })> {
  let temp: TempFile | undefined;
  const headers: Record<string, string> = { "user-agent": "procmap" };
  if (config.maxBytesAsked) headers["x-debuginfod-maxsize"] = String(config.maxBytes);
  const result = await download(
    `${base}/buildid/${buildId}/${kind}`,
    { timeoutMs: config.timeoutMs, maxTimeMs: config.maxTimeMs, maxBytes: config.maxBytes, headers },
    job.controller.signal,
    async () => {
      temp = await createTemp(config.cachePath!, buildId, kind);
      const t = temp;
      let at = 0;
      return {
        async write(chunk) {
          // FileHandle.write may write part of a chunk: loop until all of it is written.
          for (let done = 0; done < chunk.length;) {
            const { bytesWritten } = await t.handle.write(chunk, done, chunk.length - done, at);
            done += bytesWritten;
            at += bytesWritten;
          }
        },
      };
    },
    (receivedBytes, totalBytes) => {
      for (const l of job.listeners) {
        try {
          l({ buildId, file: kind, receivedBytes, totalBytes });
        } catch {
          // A caller's callback that throws does not stop the others' download.
        }
      }
    },
  );
  if (!result.ok) {
    if (temp) await discardTemp(temp);
    return result;
  }
  // Verified through its own descriptor's path while the handle stays open (closed by commit or discard).
  const got = fileBuildId(getLibc(), temp!.path);
  if (got !== buildId) {
    await discardTemp(temp!);
    return {
      ok: false,
      status: undefined,
      tooLarge: false,
      message: got
        ? `the server sent a file with build ID ${got}, not ${buildId}: discarded`
        : `the server sent a file that is not an ELF file with a build ID: discarded`,
    };
  }
  return { temp: temp!, result };
}

/** The whole fetch of one file, shared by its callers. */
async function run(config: DebuginfodConfig, buildId: string, kind: CachedKind, job: Job): Promise<FetchOutcome> {
  const cachePath = config.cachePath!;
  const libc = getLibc();
  try {
    await makeCacheDir(cachePath);
    await maybeClean(cachePath);
    const state = await lookup(cachePath, buildId, kind);
    if (state.state === "present") {
      if (fileBuildId(libc, state.path) === buildId) {
        return outcome("cached", `in the cache: ${state.path}`, state.path);
      }
      // A cached file that is not what its name says: fetched again, and replaced if a server has the right one.
    } else if (state.state === "miss") {
      return outcome(
        "not-found",
        `the servers did not have it ${state.ageS} s ago (a miss is remembered for cache_miss_s = ${state.missS} s)`,
      );
    }
  } catch (e) {
    return outcome("failed", `the cache ${cachePath} cannot be used: ${errorText(e)}`);
  }
  if (config.urls.length === 0) return outcome("not-found", "not in the cache, and no debuginfod server is configured");
  const release = await slot(job.controller.signal);
  const answers: string[] = [];
  let allMissing = true;
  try {
    for (const base of config.urls) {
      if (job.controller.signal.aborted) return outcome("failed", "cancelled");
      let r;
      try {
        r = await fromServer(config, base, buildId, kind, job);
      } catch (e) {
        // Writing the cache failed (a full disk, no permission): no other server will do better.
        return outcome("failed", `writing to the cache ${cachePath} failed: ${errorText(e)}`);
      }
      if ("temp" in r) {
        try {
          await commitTemp(r.temp, r.result.lastModified);
        } catch (e) {
          await discardTemp(r.temp);
          return outcome("failed", `writing to the cache ${cachePath} failed: ${errorText(e)}`);
        }
        return outcome("downloaded", `downloaded ${r.result.bytes} bytes from ${base}`, r.temp.file);
      }
      answers.push(`${base}: ${r.message}`);
      const missing = r.status !== undefined && r.status >= 400 && r.status < 500 &&
        ![406, 408, 429].includes(r.status);
      if (!missing) allMissing = false;
    }
  } finally {
    release();
  }
  if (allMissing) {
    await recordMiss(cachePath, buildId, kind).catch(() => {});
    return outcome("not-found", answers.join("; "));
  }
  return outcome("failed", answers.join("; "));
}

/**
 * Fetches a build ID's file into the cache, or finds it there; resolves to
 * what happened. Rejects only with the reason of `req.signal` when it
 * aborts (the shared download goes on for other callers).
 */
export function fetchFile(
  config: DebuginfodConfig,
  buildId: string,
  kind: CachedKind,
  req: FetchRequest = {},
): Promise<FetchOutcome> {
  const { signal, onProgress } = req;
  signal?.throwIfAborted();
  if (config.cachePath === undefined) return Promise.resolve(outcome("not-found", "debuginfod is not configured"));
  const key = `${config.cachePath}\0${buildId}\0${kind}\0${config.urls.join(" ")}`;
  let job = jobs.get(key);
  if (!job) {
    const j: Job = { promise: undefined!, listeners: new Set(), waiters: 0, controller: new AbortController(), key };
    j.promise = run(config, buildId, kind, j).catch((e) => outcome("failed", errorText(e))).finally(() => {
      if (jobs.get(key) === j) jobs.delete(key);
    });
    jobs.set(key, j);
    job = j;
  }
  const j = job;
  j.waiters++;
  if (onProgress) j.listeners.add(onProgress);
  let left = false;
  const leave = () => {
    if (left) return;
    left = true;
    j.waiters--;
    if (onProgress) j.listeners.delete(onProgress);
    if (j.waiters === 0) {
      // Nobody wants it any more: stop it, and let a later caller start afresh.
      if (jobs.get(key) === j) jobs.delete(key);
      j.controller.abort();
    }
  };
  if (!signal) return j.promise.finally(leave);
  return new Promise<FetchOutcome>((resolve, reject) => {
    const onAbort = () => {
      leave();
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    j.promise.then((o) => {
      signal.removeEventListener("abort", onAbort);
      leave();
      resolve(o);
    });
  });
}
