/**
 * A real debuginfod server on loopback for the tests (Debian's `debuginfod`
 * package), serving the files of one directory, and a small lying HTTP
 * server for the faults a real server does not make.
 *
 * The server runs under `timeout(1)`, so that even a test runner that dies
 * without its exit handlers leaves it for at most {@link MAX_LIFE_S}
 * seconds; `stop()` ends it by pid (TERM, which timeout passes on) and
 * waits for it, and an exit handler kills what a failed test left.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer as createNetServer } from "node:net";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import process from "node:process";

/** Why the debuginfod tests cannot run here, or false. */
export const noDebuginfod = spawnSync("debuginfod", ["--version"]).status === 0
  ? false
  : "debuginfod is not installed (apt-get install debuginfod)";
/** Why the debuginfod-find interop tests cannot run here, or false. */
export const noDebuginfodFind = spawnSync("sh", ["-c", "command -v debuginfod-find"]).status === 0
  ? false
  : "debuginfod-find is not installed (apt-get install elfutils)";

/** The longest a test server may live, whatever happens to the test runner. */
const MAX_LIFE_S = 900;

const running = new Set<ChildProcess>();
let syncs = 0;
process.on("exit", () => {
  for (const c of running) c.kill("SIGKILL");
});

/** A TCP port nothing listens on now (on loopback). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A debuginfod server started by {@link startDebuginfod}. */
export interface Debuginfod {
  url: string;
  pid: number;
  /** Its verbose log so far. */
  log(): string;
  /**
   * GET requests for paths containing `part`, counted once every request
   * made before the call is in the log (the log comes asynchronously: a
   * marker request is made and waited for).
   */
  requests(part: string): Promise<number>;
  /** Ends it (by pid) and waits for it to exit. */
  stop(): Promise<void>;
}

function metric(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name.replace(/[{}"]/g, "\\$&")} (\\d+)`, "m").exec(text);
  return m ? Number(m[1]) : undefined;
}

/**
 * Starts `debuginfod -F -d :memory: -p PORT -t 0 -v DIR` and waits until it
 * has indexed DIR (its /metrics: the traversal done, no scan pending or
 * busy). Retries on another port when the one picked was taken meanwhile.
 */
export async function startDebuginfod(dir: string): Promise<Debuginfod> {
  let lastLog = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(
      "timeout",
      ["-k", "5", String(MAX_LIFE_S), "debuginfod", "-F", "-d", ":memory:", "-p", String(port), "-t", "0", "-v", dir],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    running.add(child);
    let log = "";
    /** Called after each piece of the log (and at the exit): waits for a line in it. */
    const logged = new Set<() => void>();
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (s: string) => {
      log += s;
      for (const f of logged) f();
    });
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    let gone = false;
    void exited.then(() => {
      gone = true;
      for (const f of logged) f();
    });
    const url = `http://127.0.0.1:${port}`;
    const stop = async () => {
      if (!gone) child.kill("SIGTERM");
      await exited;
      running.delete(child);
    };
    for (let waited = 0; waited < 30_000 && !gone; waited += 100) {
      const text = await fetch(`${url}/metrics`).then((r) => (r.ok ? r.text() : ""), () => "");
      if (
        (metric(text, 'thread_work_total{role="traverse"}') ?? 0) >= 1 &&
        metric(text, 'thread_work_pending{role="scan"}') === 0 &&
        metric(text, 'thread_busy{role="scan"}') === 0
      ) {
        return {
          url,
          pid: child.pid!,
          log: () => log,
          requests: async (part) => {
            // The log shows a request's User-Agent (not its query string): the marker goes there.
            const marker = `UA:procmaptestsync${++syncs} `; // debuginfod logs letters and digits only
            await fetch(`${url}/metrics`, { headers: { "user-agent": marker.slice(3, -1) } }).then((r) =>
              r.body?.cancel()
            );
            // Waited for, not for a while: a busy machine can take any time to pass the log on.
            await new Promise<void>((resolve, reject) => {
              const check = () => {
                if (log.includes(marker)) resolve();
                else if (gone) reject(new Error(`debuginfod exited before logging ${marker}: ${log.slice(-2000)}`));
                else return;
                logged.delete(check);
              };
              logged.add(check);
              check();
            });
            return log.split("\n").filter((l) => / GET \S+ \d{3} /.test(l) && l.includes(part)).length;
          },
          stop,
        };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    lastLog = log;
    await stop();
  }
  throw new Error(`debuginfod did not start: ${lastLog.slice(-2000)}`);
}

/** A plain HTTP server on loopback whose answers the test writes. */
export interface LyingServer {
  url: string;
  /** Paths asked, in order. */
  paths: string[];
  close(): Promise<void>;
}

/** Starts a node:http server on loopback answering with `handle`. */
export async function startLyingServer(
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<LyingServer> {
  const paths: string[] = [];
  const sockets = new Set<import("node:net").Socket>();
  const server: Server = createServer((req, res) => {
    paths.push(req.url ?? "");
    handle(req, res);
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    paths,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
