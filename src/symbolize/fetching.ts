/**
 * What the asynchronous symbolizers share: fetching the debug files that
 * are missing locally through the debuginfod client (loaded on first use),
 * in parallel across build IDs, and telling each result what was done for
 * its module. The answers themselves always come from the synchronous
 * symbolizer, run again once the files are in the cache, so that the
 * asynchronous forms give exactly what the synchronous ones give with the
 * same files at hand.
 * @module
 */
import type { DebuginfodConfig } from "../debuginfod/config.ts";
import type { CachedKind } from "../debuginfod/cache.ts";
import type { DownloadProgress, FetchOutcome, FetchStatus } from "../debuginfod/client.ts";
import { describeValue } from "../options.ts";
import type { FileSymbolized } from "./result.ts";

export type { DownloadProgress, FetchStatus };

/** What was done to get a module's debug info from debuginfod, per result of the asynchronous forms. */
export interface DebuginfodReport {
  /**
   * `"cached"`: it was in the debuginfod cache; `"downloaded"`: fetched
   * now; `"not-found"`: no server has it (or a recent miss says so, or no
   * server is configured); `"failed"`: every server that was asked failed
   * (down, too slow, an HTTP error, a file that was not the one asked for,
   * larger than `maxBytes`).
   */
  readonly status: FetchStatus;
  /** What happened, in words (each server's answer when it failed). */
  readonly message: string;
}

/** The fetching part of the asynchronous options. */
export interface FetchOptions {
  /** Cancels the call (it rejects with the signal's reason); downloads other callers share go on. */
  signal?: AbortSignal;
  /** Called as downloads progress: `{ buildId, file, receivedBytes, totalBytes }`. */
  onProgress?: (progress: DownloadProgress) => void;
}

/** One address of {@link Symbolizer.symbolizeFileAsync}: what `symbolizeFile()` gives, and what debuginfod did. */
export interface FileSymbolizedAsync extends FileSymbolized {
  /**
   * What was done to get the file's debug file from debuginfod; undefined
   * when nothing was asked (the file had its symbols or a local debug file,
   * it has no build ID, or no server is configured).
   */
  readonly debuginfod: DebuginfodReport | undefined;
}

/** What the fetching calls need of a Symbolizer. */
export interface FetchingSymbolizer {
  debuginfodConfig(): DebuginfodConfig | undefined;
  forgetBuildId(buildId: string): void;
}

let clientModule: Promise<typeof import("../debuginfod/client.ts")> | undefined;

/** The debuginfod client, loaded on first use (importing procmap costs nothing for it). */
export function debuginfodClient(): Promise<typeof import("../debuginfod/client.ts")> {
  return clientModule ??= import("../debuginfod/client.ts");
}

/**
 * Splits asynchronous options into the fetching ones (checked) and the
 * rest, given as they are to the synchronous form (which checks them).
 */
export function splitFetchOptions(opts: unknown, what: string): { fetch: FetchOptions; rest: unknown } {
  if (opts === undefined || opts === null || typeof opts !== "object" || Array.isArray(opts)) {
    return { fetch: {}, rest: opts };
  }
  const rest: Record<string, unknown> = {};
  const fetch: FetchOptions = {};
  for (const key of Object.keys(opts)) {
    const v = (opts as Record<string, unknown>)[key];
    if (key === "signal") {
      if (v !== undefined && !(v instanceof AbortSignal)) {
        throw new TypeError(`${what} option signal must be an AbortSignal, got ${describeValue(v)}`);
      }
      fetch.signal = v as AbortSignal | undefined;
    } else if (key === "onProgress") {
      if (v !== undefined && typeof v !== "function") {
        throw new TypeError(`${what} option onProgress must be a function, got ${describeValue(v)}`);
      }
      fetch.onProgress = v as FetchOptions["onProgress"];
    } else rest[key] = v;
  }
  return { fetch, rest };
}

/**
 * Fetches one kind of file for each build ID, all at once (the client
 * bounds how many download together); the symbolizer forgets what it
 * cached for a build ID whose file arrived. Rejects only when `signal`
 * aborts.
 */
export async function fetchAll(
  symbolizer: FetchingSymbolizer,
  buildIds: Iterable<string>,
  kind: CachedKind,
  opts: FetchOptions,
): Promise<Map<string, FetchOutcome>> {
  const config = symbolizer.debuginfodConfig();
  const out = new Map<string, FetchOutcome>();
  const ids = [...new Set(buildIds)];
  if (!config || ids.length === 0) return out;
  const { fetchFile } = await debuginfodClient();
  opts.signal?.throwIfAborted();
  await Promise.all(ids.map(async (id) => {
    const o = await fetchFile(config, id, kind, opts);
    if (o.status === "downloaded") symbolizer.forgetBuildId(id);
    out.set(id, o);
  }));
  return out;
}

/** The report of an outcome. */
export function reportOf(o: FetchOutcome | undefined): DebuginfodReport | undefined {
  return o && { status: o.status, message: o.message };
}

/**
 * A result with its module's report; where it has no symbol and the fetch
 * did not deliver, `symbolMessage` says what debuginfod answered too.
 */
export function withReport<T extends { symbol: unknown; symbolMessage: string | undefined }>(
  r: T,
  report: DebuginfodReport | undefined,
): T & { debuginfod: DebuginfodReport | undefined } {
  if (report && !r.symbol && report.status !== "cached" && report.status !== "downloaded") {
    return extended(r, {
      symbolMessage: `${r.symbolMessage ?? "no symbol"}; debuginfod: ${report.message}`,
      debuginfod: report,
    });
  }
  return extended(r, { debuginfod: report });
}

/**
 * `r` with `fields` added or replaced, of the same class (a spread would
 * make a plain object and lose the result's `toJSON()`).
 */
export function extended<T extends object, F extends object>(r: T, fields: F): T & F {
  return Object.assign(Object.create(Object.getPrototypeOf(r)) as T & F, r, fields);
}
