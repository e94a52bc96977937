/**
 * One HTTP download through the runtime's `fetch`, trusting nothing the
 * server says: redirects are followed by hand (at most
 * {@link MAX_REDIRECTS}, to `http:` and `https:` only), the size is
 * checked against the bound before and while streaming (a body that
 * passes it is cut off, whatever `Content-Length` said), a body shorter
 * than its `Content-Length` is an error, and a server that sends less than
 * {@link STALL_BYTES} in a `timeoutMs` window (headers included) is given
 * up on, as elfutils' client gives up on it (curl's low-speed limit). The
 * body goes to a sink opened only once a 200 answer has come.
 * @module
 */

/** Redirects followed at most. */
export const MAX_REDIRECTS = 8;
/** A server must send this much per `timeoutMs` window (elfutils: 100K per DEBUGINFOD_TIMEOUT). */
export const STALL_BYTES = 100 * 1024;

/** Bounds of one download. */
export interface DownloadLimits {
  /** The stall window, ms (0: none). */
  timeoutMs: number;
  /** Longest the whole download may take, ms (0: none). */
  maxTimeMs: number;
  /** Largest body accepted, bytes. */
  maxBytes: number;
  /** Extra request headers. */
  headers: Record<string, string>;
}

/** Where the body goes. */
export interface Sink {
  write(chunk: Uint8Array): Promise<void>;
}

/** How a download ended. */
export type DownloadResult =
  | { ok: true; bytes: number; lastModified: Date | undefined }
  | {
    ok: false;
    /** The HTTP status when the server answered with an error, else undefined. */
    status: number | undefined;
    /** True when the failure was the bound `maxBytes` (the server's 406, or a size past it). */
    tooLarge: boolean;
    message: string;
  };

function fail(message: string, status?: number, tooLarge = false): DownloadResult {
  return { ok: false, status, tooLarge, message };
}

/** The message of a fetch error, with its causes (undici hides the system error there). */
export function errorText(e: unknown): string {
  const parts: string[] = [];
  for (let c: unknown = e, depth = 0; c !== undefined && c !== null && depth < 4; depth++) {
    const o = c as { message?: unknown; code?: unknown; errors?: unknown[]; cause?: unknown };
    const text = typeof o.message === "string" && o.message !== "" ? o.message : String(c);
    if (!parts.includes(text)) parts.push(text);
    if (typeof o.code === "string" && !parts.some((p) => p.includes(o.code as string))) parts.push(o.code);
    c = o.cause ?? (Array.isArray(o.errors) ? o.errors[0] : undefined);
  }
  return parts.join(": ");
}

/** A declared size from a header, when it is a plain decimal number. */
function declaredSize(h: string | null): number | undefined {
  if (h === null || !/^\s*\d{1,16}\s*$/.test(h)) return undefined;
  return Number(h);
}

/**
 * Downloads `url` into the sink `open()` gives (called once, on a 200
 * answer). `signal` cancels (the result is then a failure saying so).
 * `progress(received, total)` is called after each chunk (`total` from
 * `Content-Length` when the body is not encoded, else from
 * `X-DEBUGINFOD-SIZE`, else undefined).
 */
export async function download(
  url: string,
  limits: DownloadLimits,
  signal: AbortSignal,
  open: () => Promise<Sink>,
  progress: (received: number, total: number | undefined) => void,
): Promise<DownloadResult> {
  const ctl = new AbortController();
  let why: string | undefined;
  const stop = (reason: string) => {
    why ??= reason;
    ctl.abort(new Error(reason));
  };
  const onAbort = () => stop("cancelled");
  if (signal.aborted) return fail("cancelled");
  signal.addEventListener("abort", onAbort, { once: true });
  let windowBytes = 0;
  const stall = limits.timeoutMs > 0
    ? setInterval(() => {
      if (windowBytes < STALL_BYTES) {
        stop(`timed out: less than ${STALL_BYTES / 1024} KiB came in ${limits.timeoutMs} ms`);
      }
      windowBytes = 0;
    }, limits.timeoutMs)
    : undefined;
  const deadline = limits.maxTimeMs > 0
    ? setTimeout(() => stop(`timed out: the download took longer than ${limits.maxTimeMs} ms`), limits.maxTimeMs)
    : undefined;
  /** The body's reader while it is being read (cancelled if the download stops early). */
  let reader: { read(): Promise<{ done: boolean; value?: Uint8Array }>; cancel(): Promise<void> } | undefined;
  try {
    let res: Response | undefined;
    let where = url;
    for (let hop = 0;; hop++) {
      res = await fetch(where, { redirect: "manual", signal: ctl.signal, headers: limits.headers });
      const location = res.status >= 300 && res.status < 400 ? res.headers.get("location") : null;
      if (location === null) break;
      await res.body?.cancel().catch(() => {});
      if (hop === MAX_REDIRECTS) return fail(`more than ${MAX_REDIRECTS} redirects`);
      let next: URL;
      try {
        next = new URL(location, where);
      } catch {
        return fail(`a redirect to ${JSON.stringify(location.slice(0, 200))}, which is not a URL`);
      }
      if (next.protocol !== "http:" && next.protocol !== "https:") {
        return fail(`a redirect to a ${next.protocol} URL (only http: and https: are followed)`);
      }
      where = next.href;
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => {});
      return res.status === 406
        ? fail(`HTTP 406: the file is larger than the ${limits.maxBytes} bytes asked for`, 406, true)
        : fail(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`, res.status);
    }
    const encoded = (res.headers.get("content-encoding") ?? "identity").toLowerCase() !== "identity";
    const length = encoded ? undefined : declaredSize(res.headers.get("content-length"));
    const total = length ?? declaredSize(res.headers.get("x-debuginfod-size"));
    if (total !== undefined && total > limits.maxBytes) {
      await res.body?.cancel().catch(() => {});
      return fail(`the file is ${total} bytes, more than the ${limits.maxBytes} allowed (maxBytes)`, undefined, true);
    }
    const lm = res.headers.get("last-modified");
    const lastModified = lm ? new Date(lm) : undefined;
    const sink = await open();
    let received = 0;
    if (res.body) {
      const r = res.body.getReader() as NonNullable<typeof reader>;
      reader = r;
      for (;;) {
        const { done, value } = await r.read();
        if (done || !value) break;
        received += value.length;
        windowBytes += value.length;
        if (received > limits.maxBytes) {
          return fail(`the file is larger than the ${limits.maxBytes} bytes allowed (maxBytes)`, undefined, true);
        }
        await sink.write(value);
        progress(received, total);
      }
      reader = undefined;
    }
    if (length !== undefined && received !== length) {
      return fail(`the body ended after ${received} of its ${length} bytes`);
    }
    if (received === 0) return fail("the server sent an empty file");
    return {
      ok: true,
      bytes: received,
      lastModified: lastModified && !Number.isNaN(lastModified.getTime()) && lastModified.getTime() <= Date.now()
        ? lastModified
        : undefined,
    };
  } catch (e) {
    return fail(why ?? errorText(e));
  } finally {
    clearInterval(stall);
    clearTimeout(deadline);
    signal.removeEventListener("abort", onAbort);
    if (reader) await reader.cancel().catch(() => {});
  }
}
