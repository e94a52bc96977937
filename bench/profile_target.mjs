// A busy Node.js process for the profile case (bench/profile.mjs records it with perf): a loop
// through many builtins (zlib, crypto, JSON, regular expressions, URL, path, util, fs, Buffer),
// so its samples land in node's own code, libc, libcrypto-like code inside node, and JIT code.
// Prints "ready" once its code is warm; stops working (stays alive, its code mapped) at a line
// "idle" on stdin, so the suites that run after the recording share the CPU with nobody; exits when
// its stdin closes.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import util from "node:util";
import zlib from "node:zlib";

const buf = crypto.randomBytes(1 << 16);
let x = 0;
let idle = false;
process.stdin.setEncoding("utf8");
process.stdin.on("data", (s) => s.includes("idle") && (idle = true));
process.stdin.on("end", () => process.exit(0));

function step() {
  const z = zlib.deflateSync(buf.subarray(0, 8192 + (x & 4095)));
  zlib.inflateSync(z);
  crypto.createHash("sha256").update(buf).digest("hex");
  const o = JSON.parse(JSON.stringify({ a: [1, 2, 3, x], b: "s".repeat(x & 255), c: { d: new Date().toISOString() } }));
  x += o.a.length + /(\d+)-(\w+)/.exec("12-ab" + x)[1].length;
  path.resolve("/tmp", "a/../b", String(x));
  new URL("http://h/p?q=" + x).searchParams.get("q");
  util.inspect({ x, y: [x, x] });
  fs.statSync("/tmp");
  Buffer.from(String(x)).toString("base64");
  if ((x & 1023) === 0) crypto.pbkdf2Sync("p", "s", 10, 32, "sha1");
}

let announced = false;
const started = Date.now();
function run() {
  // Busy for 50 ms at a time, then back to the event loop (to see stdin close).
  const until = Date.now() + 50;
  while (Date.now() < until) step();
  if (!announced && Date.now() - started > 1000) {
    announced = true;
    process.stdout.write("ready\n");
  }
  if (!idle) setImmediate(run);
}
run();
