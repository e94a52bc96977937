/**
 * The debuginfod client against a real `debuginfod` on loopback (one server
 * for the file) and a lying HTTP server: the cache as elfutils lays it out
 * (checked both ways with `debuginfod-find`), misses remembered for
 * `cache_miss_s`, cleaning, one request however many callers, and every
 * fault ending as an outcome, nothing cached that is not the file asked for.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { Symbolizer } from "../mod.ts";
import { fetchFile } from "../src/debuginfod/client.ts";
import { checkDebuginfodOption, type DebuginfodConfig, resolveConfig } from "../src/debuginfod/config.ts";
import { compileC } from "./helpers/child.ts";
import { readelfBuildId } from "./helpers/elf_notes.ts";
import { haveNm, isCode, nmSized, run } from "./helpers/tools.ts";
import {
  type Debuginfod,
  freePort,
  type LyingServer,
  noDebuginfod,
  noDebuginfodFind,
  startDebuginfod,
  startLyingServer,
} from "./helpers/debuginfod.ts";

const noEnv = { env: () => undefined, isDirectory: () => false };

/** A client configuration for `urls` and a cache directory. */
function config(urls: string[], cachePath: string, more: Partial<DebuginfodConfig> = {}): DebuginfodConfig {
  return { ...resolveConfig({ urls, cachePath, timeoutMs: 5000 }, noEnv)!, ...more };
}

/** Files under `dir` (recursively), as paths relative to it. */
function listing(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();
}

describe("debuginfod client with a real server", { skip: noDebuginfod }, () => {
  let work: string;
  let serverDir: string;
  let bin: string;
  let stripped: string;
  let debugFile: string;
  let id: string;
  let other: string;
  let otherId: string;
  let server: Debuginfod;
  let deadUrl: string;
  let cacheN = 0;
  const freshCache = () => join(work, `cache-${cacheN++}`);

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "procmap-debuginfod-"));
    serverDir = join(work, "served");
    mkdirSync(serverDir);
    bin = compileC("sym_target", ["-g"]);
    id = readelfBuildId(bin)!;
    debugFile = join(serverDir, "target.debug");
    stripped = join(work, "target");
    run("objcopy", ["--only-keep-debug", bin, debugFile]);
    run("objcopy", ["--strip-all", bin, stripped]);
    run("cp", [stripped, join(serverDir, "target")]);
    // Another program (another build ID): the body a lying server sends instead.
    other = compileC("sym_target", ["-g", "-O1"]);
    otherId = readelfBuildId(other)!;
    assert.notEqual(id, otherId);
    server = await startDebuginfod(serverDir);
    deadUrl = `http://127.0.0.1:${await freePort()}`;
  });
  after(async () => {
    await server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("a debug file is downloaded to <cache>/<build-id>/debuginfo, read-only, byte for byte the server's", async () => {
    const cache = freshCache();
    const seen: number[] = [];
    const o = await fetchFile(config([server.url], cache), id, "debuginfo", {
      onProgress: (p) => {
        assert.equal(p.buildId, id);
        assert.equal(p.file, "debuginfo");
        assert.equal(p.totalBytes, statSync(debugFile).size);
        seen.push(p.receivedBytes);
      },
    });
    assert.equal(o.status, "downloaded", o.message);
    assert.equal(o.path, join(cache, id, "debuginfo"));
    assert.deepEqual(readFileSync(o.path!), readFileSync(debugFile));
    assert.equal(statSync(o.path!).mode & 0o777, 0o400);
    assert.equal(statSync(join(cache, id)).mode & 0o777, 0o700);
    assert.equal(seen.at(-1), statSync(debugFile).size);
    // Nothing but the file and elfutils' control files.
    assert.deepEqual(listing(cache).filter((f) => !f.endsWith("_s")), [id, `${id}/debuginfo`]);
    const again = await fetchFile(config([server.url], cache), id, "debuginfo");
    assert.equal(again.status, "cached");
    assert.equal(await server.requests(`/buildid/${id}/debuginfo`), 1, "the second call is served from the cache");
  });

  test("the executable too, at <cache>/<build-id>/executable", async () => {
    const cache = freshCache();
    const o = await fetchFile(config([server.url], cache), id, "executable");
    assert.equal(o.status, "downloaded", o.message);
    assert.equal(o.path, join(cache, id, "executable"));
    assert.deepEqual(readFileSync(o.path!), readFileSync(join(serverDir, "target")));
  });

  test(
    "debuginfod-find, with no server answering, returns the file procmap cached",
    { skip: noDebuginfodFind },
    async () => {
      const cache = freshCache();
      const o = await fetchFile(config([server.url], cache), id, "debuginfo");
      assert.equal(o.status, "downloaded", o.message);
      const r = spawnSync("debuginfod-find", ["debuginfo", id], {
        encoding: "utf8",
        env: { ...process.env, DEBUGINFOD_URLS: deadUrl, DEBUGINFOD_CACHE_PATH: cache },
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), o.path);
    },
  );

  test("procmap, with no server answering, uses what debuginfod-find cached (synchronous symbolizeFile too)", {
    skip: noDebuginfodFind || (haveNm ? false : "nm is needed"),
  }, async () => {
    const cache = freshCache();
    const r = spawnSync("debuginfod-find", ["debuginfo", id], {
      encoding: "utf8",
      env: { ...process.env, DEBUGINFOD_URLS: server.url, DEBUGINFOD_CACHE_PATH: cache },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), join(cache, id, "debuginfo"));
    const before = await server.requests(id);
    const o = await fetchFile(config([deadUrl], cache), id, "debuginfo");
    assert.equal(o.status, "cached", o.message);
    assert.equal(o.path, join(cache, id, "debuginfo"));
    // The synchronous symbolizer reads the cache like a debug directory: the stripped copy is named as nm names the original.
    const nm = nmSized(bin).filter((s) => isCode(s) && s.size > 0n);
    const symbolizer = new Symbolizer({ debugDirs: [], debuginfod: { urls: [deadUrl], cachePath: cache } });
    const got = symbolizer.symbolizeFile(stripped, nm.map((s) => s.addr));
    got.forEach((g, i) => {
      assert.equal(g.symbol?.start, nm[i].addr, nm[i].name);
      assert.equal(g.symbol?.source, "debug-file");
    });
    assert.ok(got.some((g) => g.symbol?.name === "static_function"));
    assert.equal(await server.requests(id), before, "nothing was asked of the server");
    // Without debuginfod (false), the same file has only its own (empty) tables.
    const plain = new Symbolizer({ debugDirs: [], debuginfod: false }).symbolizeFile(stripped, [nm[0].addr]);
    assert.equal(plain[0].symbol?.source === "debug-file", false);
  });

  test("404: a miss is an empty file, not asked again for cache_miss_s, then asked again", async () => {
    const cache = freshCache();
    const unknown = "00112233445566778899aabbccddeeff00112233";
    const cfg = config([server.url], cache);
    const first = await fetchFile(cfg, unknown, "debuginfo");
    assert.equal(first.status, "not-found", first.message);
    assert.match(first.message, /404/);
    const miss = join(cache, unknown, "debuginfo");
    assert.equal(statSync(miss).size, 0);
    assert.equal(await server.requests(unknown), 1);
    const second = await fetchFile(cfg, unknown, "debuginfo");
    assert.equal(second.status, "not-found");
    assert.match(second.message, /cache_miss_s = 600/);
    assert.equal(await server.requests(unknown), 1, "a recent miss is not asked again");
    // debuginfod-find agrees that it is a miss, without asking either.
    if (!noDebuginfodFind) {
      const r = spawnSync("debuginfod-find", ["debuginfo", unknown], {
        encoding: "utf8",
        env: { ...process.env, DEBUGINFOD_URLS: server.url, DEBUGINFOD_CACHE_PATH: cache },
      });
      assert.notEqual(r.status, 0);
      assert.equal(await server.requests(unknown), 1);
    }
    // Older than cache_miss_s (set to 2 s): removed and asked again.
    writeFileSync(join(cache, "cache_miss_s"), "2");
    const old = new Date(Date.now() - 10_000);
    utimesSync(miss, old, old);
    const third = await fetchFile(cfg, unknown, "debuginfo");
    assert.equal(third.status, "not-found");
    assert.equal(await server.requests(unknown), 2);
    assert.equal(statSync(miss).size, 0, "the miss is recorded afresh");
    assert.ok(statSync(miss).mtimeMs > old.getTime() + 5000, "the miss's time is now, not the old one's");
  });

  test("ten concurrent callers of one build ID make one request", async () => {
    const cache = freshCache();
    const cfg = config([server.url], cache);
    const progress = new Array(10).fill(0);
    const asked = await server.requests(`/buildid/${id}/executable`);
    const outcomes = await Promise.all(
      progress.map((_, i) => fetchFile(cfg, id, "executable", { onProgress: () => progress[i]++ })),
    );
    for (const o of outcomes) {
      assert.equal(o.status, "downloaded", o.message);
      assert.equal(o.path, join(cache, id, "executable"));
    }
    assert.ok(progress.every((n) => n > 0), "every caller saw progress");
    assert.equal(await server.requests(`/buildid/${id}/executable`) - asked, 1, "one request in the server's log");
  });

  test("server down: a failure saying so, nothing cached, no miss recorded", async () => {
    const cache = freshCache();
    const o = await fetchFile(config([deadUrl], cache), id, "debuginfo");
    assert.equal(o.status, "failed");
    assert.ok(o.message.startsWith(deadUrl), o.message);
    assert.deepEqual(listing(cache).filter((f) => !f.endsWith("_s")), []);
  });

  test("a server that answers 500 is not remembered as a miss; the next server is asked", async () => {
    const liar = await startLyingServer((_req, res) => {
      res.writeHead(500);
      res.end("busy");
    });
    try {
      const cache = freshCache();
      const alone = await fetchFile(config([liar.url], cache), id, "debuginfo");
      assert.equal(alone.status, "failed");
      assert.match(alone.message, /HTTP 500/);
      assert.ok(!existsSync(join(cache, id, "debuginfo")));
      const both = await fetchFile(config([liar.url, server.url], cache), id, "debuginfo");
      assert.equal(both.status, "downloaded", both.message);
    } finally {
      await liar.close();
    }
  });
});

describe("debuginfod client against a lying server", { skip: noDebuginfod }, () => {
  let work: string;
  let body: Uint8Array;
  let id: string;
  let otherBody: Uint8Array;
  let liar: LyingServer;
  let behave: (path: string, res: import("node:http").ServerResponse, headers: Record<string, unknown>) => void;
  let cacheN = 0;
  const freshCache = () => join(work, `cache-${cacheN++}`);

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "procmap-liar-"));
    const bin = compileC("sym_target", ["-g"]);
    id = readelfBuildId(bin)!;
    body = readFileSync(bin);
    otherBody = readFileSync(compileC("sym_target", ["-g", "-O1"]));
    liar = await startLyingServer((req, res) => behave(req.url ?? "", res, req.headers));
  });
  after(async () => {
    await liar?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Fetches `id` from the liar into a fresh cache; asserts nothing was left there. */
  async function failing(more: Partial<DebuginfodConfig> = {}) {
    const cache = freshCache();
    const o = await fetchFile(config([liar.url], cache, more), id, "debuginfo");
    assert.equal(o.status, "failed", o.message);
    assert.deepEqual(listing(cache).filter((f) => !f.endsWith("_s")), [], "nothing cached, no temporary file left");
    return o;
  }

  test("a body with another build ID is discarded", async () => {
    behave = (_p, res) => {
      res.writeHead(200, { "content-length": otherBody.length });
      res.end(otherBody);
    };
    const o = await failing();
    assert.match(o.message, new RegExp(`build ID [0-9a-f]+, not ${id}`));
  });

  test("a body that is not ELF is discarded", async () => {
    behave = (_p, res) => res.end("<html>hello</html>");
    assert.match((await failing()).message, /not an ELF file/);
  });

  test("a truncated body (shorter than its Content-Length) is discarded", async () => {
    behave = (_p, res) => {
      res.writeHead(200, { "content-length": body.length });
      res.write(body.subarray(0, 1000));
      setTimeout(() => res.destroy(), 20);
    };
    await failing();
  });

  test("a server that stalls is timed out", async () => {
    behave = (_p, res) => {
      res.writeHead(200, { "content-length": body.length });
      res.write(body.subarray(0, 100));
    };
    // Stopped by the window asked for (300 ms), not by the tests' default (5000 ms) nor by anything else.
    const o = await failing({ timeoutMs: 300 });
    assert.match(o.message, /: timed out: less than \d+ KiB came in 300 ms$/);
  });

  test("a server that never answers is timed out", async () => {
    behave = () => {};
    assert.match((await failing({ timeoutMs: 300 })).message, /timed out/);
  });

  test("maxTimeMs bounds a download that trickles", async () => {
    behave = (_p, res) => {
      res.writeHead(200, { "content-length": 64 << 20 });
      const t = setInterval(() => res.write(new Uint8Array(16 * 1024)), 20);
      res.on("close", () => clearInterval(t));
    };
    assert.match((await failing({ timeoutMs: 0, maxTimeMs: 300 })).message, /longer than 300 ms/);
  });

  test("a body larger than maxBytes: refused by its length, cut off while streaming without one", async () => {
    let sentMax: unknown;
    behave = (_p, res, headers) => {
      sentMax = headers["x-debuginfod-maxsize"];
      res.writeHead(200, { "content-length": body.length });
      res.end(body);
    };
    const small = { maxBytes: 4096, maxBytesAsked: true };
    assert.match((await failing(small)).message, /more than the 4096 allowed/);
    assert.equal(sentMax, "4096", "the bound is sent as X-DEBUGINFOD-MAXSIZE");
    // No length: chunked, and endless.
    behave = (_p, res) => {
      res.writeHead(200);
      const t = setInterval(() => res.write(new Uint8Array(64 * 1024)), 5);
      res.on("close", () => clearInterval(t));
    };
    assert.match((await failing(small)).message, /larger than the 4096 bytes allowed/);
    // The server's own refusal (406) is no miss either.
    behave = (_p, res) => {
      res.writeHead(406);
      res.end();
    };
    assert.match((await failing(small)).message, /406/);
  });

  test("redirects: followed to http:, never to another scheme", async () => {
    behave = (p, res) => {
      if (p.startsWith("/buildid/")) {
        res.writeHead(302, { location: "/moved" });
        res.end();
      } else if (p === "/moved") {
        res.writeHead(301, { location: "file:///etc/passwd" });
        res.end();
      }
    };
    assert.match((await failing()).message, /file: URL/);
    behave = (p, res) => {
      if (p.startsWith("/buildid/")) {
        res.writeHead(307, { location: "/real" });
        res.end();
      } else res.end(body);
    };
    const cache = freshCache();
    const o = await fetchFile(config([liar.url], cache), id, "debuginfo");
    assert.equal(o.status, "downloaded", o.message);
  });

  test("a caller that aborts gets its reason; the shared download goes on for the others", async () => {
    // The callers abort once the server has begun its answer (a wait for that, not for a while: on a busy
    // machine the request can take longer to arrive than any fixed while, and release() must end it).
    let answering!: Promise<() => void>;
    const nextAnswer = () => {
      answering = new Promise((started) => {
        behave = (_p, res) => {
          res.writeHead(200, { "content-length": body.length });
          res.write(body.subarray(0, 10));
          started(() => res.end(body.subarray(10)));
        };
      });
    };
    nextAnswer();
    const cache = freshCache();
    const cfg = config([liar.url], cache);
    const ac = new AbortController();
    const asked = liar.paths.length;
    const quitter = fetchFile(cfg, id, "debuginfo", { signal: ac.signal });
    const stayer = fetchFile(cfg, id, "debuginfo");
    const release = await answering;
    ac.abort(new Error("no longer wanted"));
    await assert.rejects(quitter, /no longer wanted/);
    release();
    assert.equal((await stayer).status, "downloaded");
    assert.equal(liar.paths.length - asked, 1);
    // Everyone gone: the download stops, and nothing is left behind.
    nextAnswer(); // and never released
    const cache2 = freshCache();
    const ac2 = new AbortController();
    const lone = fetchFile(config([liar.url], cache2), id, "debuginfo", { signal: ac2.signal });
    await answering;
    ac2.abort();
    await assert.rejects(lone);
    // The stopped download cleans up after the caller has gone (nothing to await: the job is no caller's
    // now): looked at until clean, a bounded number of times (a minute on an idle machine, as a busy one is slow).
    const left = () => listing(cache2).filter((f) => !f.endsWith("_s"));
    for (let i = 0; i < 1200 && left().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(left(), []);
  });

  test("cleaning: files unused for max_unused_age_s go at cache_clean_interval_s", async () => {
    behave = (_p, res) => res.end(body);
    const cache = freshCache();
    mkdirSync(cache);
    writeFileSync(join(cache, "cache_clean_interval_s"), "0");
    writeFileSync(join(cache, "max_unused_age_s"), "100");
    const stale = "aa".repeat(20), fresh = "bb".repeat(20);
    for (const b of [stale, fresh]) {
      mkdirSync(join(cache, b));
      writeFileSync(join(cache, b, "debuginfo"), "x");
    }
    const old = new Date(Date.now() - 1000_000);
    utimesSync(join(cache, stale, "debuginfo"), old, old);
    writeFileSync(join(cache, "unrelated"), "kept");
    const o = await fetchFile(config([liar.url], cache), id, "debuginfo");
    assert.equal(o.status, "downloaded", o.message);
    assert.ok(!existsSync(join(cache, stale, "debuginfo")), "unused for longer than max_unused_age_s: deleted");
    assert.ok(existsSync(join(cache, fresh, "debuginfo")));
    assert.ok(existsSync(join(cache, "unrelated")));
    assert.ok(existsSync(join(cache, id, "debuginfo")));
  });
});

describe("debuginfod settings", () => {
  const env = (vars: Record<string, string>) => ({
    env: (n: string) => vars[n],
    isDirectory: (p: string) => p === "/home/u/.debuginfod_client_cache" && vars.LEGACY === "1",
  });

  test("DEBUGINFOD_URLS: space-separated, http: and https: only, in order, deduplicated", () => {
    const c = resolveConfig(
      undefined,
      env({
        DEBUGINFOD_URLS: " https://a.example/  http://b.example:8002 ftp://c file:///x https://a.example ",
        HOME: "/home/u",
      }),
    )!;
    assert.deepEqual(c.urls, ["https://a.example", "http://b.example:8002"]);
    assert.equal(c.skipped.length, 2);
    assert.equal(c.cachePath, "/home/u/.cache/debuginfod_client");
    assert.equal(c.timeoutMs, 90_000);
    assert.equal(c.maxTimeMs, 0);
    assert.equal(c.maxBytesAsked, false);
  });

  test("cache path: DEBUGINFOD_CACHE_PATH, else the old ~/.debuginfod_client_cache, else XDG_CACHE_HOME, else ~/.cache", () => {
    const base = { DEBUGINFOD_URLS: "http://x", HOME: "/home/u" };
    assert.equal(resolveConfig(undefined, env({ ...base, DEBUGINFOD_CACHE_PATH: "/c/" }))!.cachePath, "/c");
    assert.equal(
      resolveConfig(undefined, env({ ...base, LEGACY: "1" }))!.cachePath,
      "/home/u/.debuginfod_client_cache",
    );
    assert.equal(resolveConfig(undefined, env({ ...base, XDG_CACHE_HOME: "/x" }))!.cachePath, "/x/debuginfod_client");
    assert.equal(
      resolveConfig(undefined, env({ DEBUGINFOD_URLS: "http://x" }))!.cachePath,
      "/.cache/debuginfod_client",
    );
  });

  test("no server: no cache either (as elfutils), unless the option names one", () => {
    assert.equal(resolveConfig(undefined, env({ HOME: "/home/u" }))!.cachePath, undefined);
    assert.equal(resolveConfig(undefined, env({ DEBUGINFOD_URLS: "ftp://only" }))!.cachePath, undefined);
    assert.equal(resolveConfig({ cachePath: "/c" }, env({}))!.cachePath, "/c");
    assert.equal(resolveConfig(false, env({ DEBUGINFOD_URLS: "http://x" })), undefined);
  });

  test("the option overrides the environment field by field", () => {
    const c = resolveConfig(
      checkDebuginfodOption({ urls: ["http://mine/"], timeoutMs: 1500 }) as object,
      env({
        DEBUGINFOD_URLS: "http://theirs",
        DEBUGINFOD_TIMEOUT: "7",
        DEBUGINFOD_MAXSIZE: "1000",
        DEBUGINFOD_MAXTIME: "3",
      }),
    )!;
    assert.deepEqual(c.urls, ["http://mine"]);
    assert.equal(c.timeoutMs, 1500);
    assert.equal(c.maxBytes, 1000);
    assert.equal(c.maxBytesAsked, true);
    assert.equal(c.maxTimeMs, 3000);
    assert.equal(resolveConfig(undefined, env({ DEBUGINFOD_TIMEOUT: "0" }))!.timeoutMs, 0);
  });

  test("bad options are TypeErrors and RangeErrors", () => {
    assert.throws(() => new Symbolizer({ debuginfod: { urls: ["file:///x"] } }), TypeError);
    assert.throws(() => new Symbolizer({ debuginfod: { urls: ["not a url"] } }), TypeError);
    assert.throws(() => new Symbolizer({ debuginfod: { urls: "http://x" as never } }), TypeError);
    assert.throws(() => new Symbolizer({ debuginfod: { cachePath: "relative" } }), TypeError);
    assert.throws(() => new Symbolizer({ debuginfod: { timeoutMs: -1 } }), RangeError);
    assert.throws(() => new Symbolizer({ debuginfod: { maxBytes: 0 } }), RangeError);
    assert.throws(() => new Symbolizer({ debuginfod: { urlz: [] } as never }), TypeError);
    assert.throws(() => new Symbolizer({ debuginfod: true as never }), TypeError);
  });
});
