/**
 * Which debuginfod servers to ask and where the shared cache is, as
 * elfutils' client decides it (`debuginfod-client-config(7)`), with the
 * {@link SymbolizerOptions} `debuginfod` option overriding the environment
 * field by field:
 * - `DEBUGINFOD_URLS`: servers, separated by spaces, asked in order. Only
 *   `http:` and `https:` URLs are used (others are skipped and said so).
 *   No server: nothing goes to the network and, as in elfutils, the cache
 *   is not looked at either (unless the option names a `cachePath`).
 * - `DEBUGINFOD_CACHE_PATH`, else `$HOME/.debuginfod_client_cache` when it
 *   exists (elfutils' old place), else `$XDG_CACHE_HOME/debuginfod_client`,
 *   else `$HOME/.cache/debuginfod_client`.
 * - `DEBUGINFOD_TIMEOUT` (seconds, default 90): a server that sends less
 *   than 100 KiB in that long is given up on. `DEBUGINFOD_MAXTIME`
 *   (seconds, default none): the longest a download may take.
 *   `DEBUGINFOD_MAXSIZE` (bytes): the largest file fetched (sent to the
 *   server as `X-DEBUGINFOD-MAXSIZE`, and enforced while streaming).
 *
 * This module only reads: nothing here opens a socket or writes a file, so
 * the synchronous symbolizer can use it at no cost.
 * @module
 */
import { describeValue } from "../options.ts";

/** Options of the debuginfod client; each overrides its environment variable. */
export interface DebuginfodOptions {
  /**
   * Servers to ask, in order (default: `DEBUGINFOD_URLS`, split at spaces).
   * `http:` and `https:` URLs only; `[]` asks none (the cache is still read
   * when `cachePath` is given).
   */
  urls?: readonly string[];
  /**
   * The cache directory shared with gdb, perf and `debuginfod-find`
   * (default: `DEBUGINFOD_CACHE_PATH`, else `$XDG_CACHE_HOME/debuginfod_client`,
   * else `~/.cache/debuginfod_client`).
   */
  cachePath?: string;
  /**
   * A server that sends less than 100 KiB (or the rest of the file) in this
   * many milliseconds is given up on; 0 for never (default:
   * `DEBUGINFOD_TIMEOUT` seconds, else 90 s).
   */
  timeoutMs?: number;
  /**
   * The largest file downloaded, in bytes, enforced while streaming
   * (default: `DEBUGINFOD_MAXSIZE`, else 4 GiB).
   */
  maxBytes?: number;
  /** The longest one download may take, in milliseconds; 0 for no bound (default: `DEBUGINFOD_MAXTIME` seconds, else none). */
  maxTimeMs?: number;
}

/** The client's settings, options and environment combined. */
export interface DebuginfodConfig {
  /** Server URLs, checked, deduplicated, without a trailing slash. */
  readonly urls: readonly string[];
  /** The cache directory, or undefined when the cache is not to be used (no server and no `cachePath`). */
  readonly cachePath: string | undefined;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** True when a size bound was asked for (then sent to the server as `X-DEBUGINFOD-MAXSIZE`). */
  readonly maxBytesAsked: boolean;
  readonly maxTimeMs: number;
  /** Entries of `DEBUGINFOD_URLS` that were skipped, with why (for messages). */
  readonly skipped: readonly string[];
}

/** Files larger than this are not downloaded unless asked (`maxBytes`, `DEBUGINFOD_MAXSIZE`). */
export const DEFAULT_MAX_BYTES = 4 * 2 ** 30;
const DEFAULT_TIMEOUT_S = 90;
const KEYS = new Set(["urls", "cachePath", "timeoutMs", "maxBytes", "maxTimeMs"]);
/** elfutils refuses build IDs of 64 bytes or more. */
const MAX_BUILD_ID_HEX = 126;

/** A build ID as debuginfod names it (lowercase hex, 2-126 digits, whole bytes), or undefined. */
export function normalBuildId(id: string): string | undefined {
  const lower = id.toLowerCase();
  return lower.length >= 2 && lower.length <= MAX_BUILD_ID_HEX && lower.length % 2 === 0 && /^[0-9a-f]+$/.test(lower)
    ? lower
    : undefined;
}

/** A server URL without its trailing slashes, or why it cannot be used. */
function serverUrl(text: string): string | { problem: string } {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return { problem: `${JSON.stringify(text)} is not a URL` };
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    return { problem: `${JSON.stringify(text)}: only http: and https: servers are used` };
  }
  if (u.search !== "" || u.hash !== "") {
    return { problem: `${JSON.stringify(text)}: a server URL has no query or fragment` };
  }
  return u.href.replace(/\/+$/, "");
}

function msOption(o: Record<string, unknown>, key: string): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    throw new RangeError(`option debuginfod.${key} must be a non-negative safe integer, got ${describeValue(v)}`);
  }
  return v;
}

/**
 * Checks a `debuginfod` option (TypeError or RangeError for a bad one):
 * false, undefined, or options whose URLs are all usable.
 */
export function checkDebuginfodOption(v: unknown): DebuginfodOptions | false | undefined {
  if (v === undefined || v === false) return v;
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new TypeError(`option debuginfod must be an object or false, got ${describeValue(v)}`);
  }
  const o: Record<string, unknown> = {};
  for (const key of Object.keys(v)) {
    if (!KEYS.has(key)) {
      throw new TypeError(`unknown debuginfod option ${JSON.stringify(key)}; known: ${[...KEYS].join(", ")}`);
    }
    o[key] = (v as Record<string, unknown>)[key];
  }
  const out: DebuginfodOptions = {};
  if (o.urls !== undefined) {
    if (!Array.isArray(o.urls) || o.urls.length > 64) {
      throw new TypeError(`option debuginfod.urls must be an array of at most 64 URLs, got ${describeValue(o.urls)}`);
    }
    out.urls = o.urls.map((u: unknown) => {
      if (typeof u !== "string") {
        throw new TypeError(`option debuginfod.urls: each entry must be a string, got ${describeValue(u)}`);
      }
      const s = serverUrl(u);
      if (typeof s !== "string") throw new TypeError(`option debuginfod.urls: ${s.problem}`);
      return s;
    });
  }
  if (o.cachePath !== undefined) {
    const p = o.cachePath;
    if (typeof p !== "string" || !p.startsWith("/") || p.length > 4096 || p.includes("\0")) {
      throw new TypeError(`option debuginfod.cachePath must be an absolute path, got ${describeValue(p)}`);
    }
    out.cachePath = p.replace(/\/+$/, "") || "/";
  }
  out.timeoutMs = msOption(o, "timeoutMs");
  out.maxTimeMs = msOption(o, "maxTimeMs");
  if (o.maxBytes !== undefined) {
    const b = o.maxBytes;
    if (typeof b !== "number" || !Number.isSafeInteger(b) || b < 1) {
      throw new RangeError(`option debuginfod.maxBytes must be a positive safe integer, got ${describeValue(b)}`);
    }
    out.maxBytes = b;
  }
  return out;
}

/** elfutils reads its numeric variables with atol: leading digits, else 0. */
function leadingInteger(s: string | undefined): number {
  const m = s === undefined ? null : /^\s*([+-]?\d+)/.exec(s);
  const n = m ? Number(m[1]) : 0;
  return Number.isSafeInteger(n) ? n : 0;
}

/** What the client needs from its surroundings: the environment, and whether a directory exists. */
export interface ConfigSources {
  env(name: string): string | undefined;
  isDirectory(path: string): boolean;
}

/** The default cache directory, as elfutils picks it. */
function defaultCachePath(src: ConfigSources): string {
  const home = src.env("HOME") || "/";
  const legacy = `${home.replace(/\/+$/, "")}/.debuginfod_client_cache`;
  if (src.isDirectory(legacy)) return legacy;
  const xdg = src.env("XDG_CACHE_HOME");
  return `${xdg ? xdg.replace(/\/+$/, "") : `${home.replace(/\/+$/, "")}/.cache`}/debuginfod_client`;
}

/**
 * The settings for `opts` (checked by {@link checkDebuginfodOption}) over
 * the environment; undefined when debuginfod is off (`false`).
 */
export function resolveConfig(
  opts: DebuginfodOptions | false | undefined,
  src: ConfigSources,
): DebuginfodConfig | undefined {
  if (opts === false) return undefined;
  const skipped: string[] = [];
  let urls: string[];
  if (opts?.urls !== undefined) urls = [...opts.urls];
  else {
    urls = [];
    for (const word of (src.env("DEBUGINFOD_URLS") ?? "").split(/\s+/)) {
      if (word === "") continue;
      const s = serverUrl(word);
      if (typeof s === "string") urls.push(s);
      else skipped.push(`DEBUGINFOD_URLS: ${s.problem}`);
    }
  }
  urls = [...new Set(urls)];
  let cachePath = opts?.cachePath;
  if (cachePath === undefined && urls.length > 0) {
    const fromEnv = src.env("DEBUGINFOD_CACHE_PATH");
    cachePath = fromEnv ? fromEnv.replace(/\/+$/, "") || "/" : defaultCachePath(src);
  }
  const envSize = leadingInteger(src.env("DEBUGINFOD_MAXSIZE"));
  const maxBytes = opts?.maxBytes ?? (envSize > 0 ? envSize : undefined);
  const envTimeout = src.env("DEBUGINFOD_TIMEOUT");
  const timeoutS = envTimeout === undefined ? DEFAULT_TIMEOUT_S : leadingInteger(envTimeout);
  const maxTimeS = leadingInteger(src.env("DEBUGINFOD_MAXTIME"));
  return {
    urls,
    cachePath,
    timeoutMs: opts?.timeoutMs ?? Math.max(0, timeoutS) * 1000,
    maxBytes: maxBytes ?? DEFAULT_MAX_BYTES,
    maxBytesAsked: maxBytes !== undefined,
    maxTimeMs: opts?.maxTimeMs ?? Math.max(0, maxTimeS) * 1000,
    skipped,
  };
}
