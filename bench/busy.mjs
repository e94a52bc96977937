// Replay target (case 8): a Node.js program exercising many builtins (zlib,
// crypto, ICU, JSON, regular expressions, Buffer, URL, util.inspect, BigInt,
// structuredClone, fs) in a loop, so that a profile of it reaches many code
// paths of node, V8 and its libraries. Prints {"pid"} once ready; stops working
// (stays alive, its code mapped) at a line "idle" on its standard input; exits
// when that closes.
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { inspect } from "node:util";
import { deflateSync, gunzipSync, gzipSync, inflateSync } from "node:zlib";

let idle = false;
process.stdin.setEncoding("utf8");
process.stdin.on("end", () => process.exit(0));
process.stdin.on("data", (s) => s.includes("idle") && (idle = true));
process.stdout.write(JSON.stringify({ pid: process.pid }) + "\n");

const text = readFileSync("/proc/self/maps", "utf8");
const numbers = new Intl.NumberFormat("de-DE", { style: "currency", currency: "EUR" });
const dates = new Intl.DateTimeFormat("ja-JP", { dateStyle: "full" });
let sink = 0;
function work(round) {
  const data = Buffer.from(text.repeat(2));
  sink += inflateSync(deflateSync(data)).length + gunzipSync(gzipSync(data.subarray(0, 4096))).length;
  sink += createHash("sha256").update(data).digest()[0] + createHash("md5").update(randomBytes(256)).digest()[1];
  const obj = JSON.parse(JSON.stringify({ round, lines: text.split("\n").slice(0, 50), nested: { a: [1, 2, 3] } }));
  sink += obj.lines.length + structuredClone(obj).nested.a.length;
  sink += (text.match(/[0-9a-f]+-[0-9a-f]+ r-xp/g) ?? []).length;
  sink += numbers.format(round * 1.5).length + dates.format(new Date(round * 1e9)).length;
  sink += new URL(`https://example.com/a/b?round=${round}#x`).searchParams.get("round").length;
  sink += inspect({ round, map: new Map([[1, 2]]), set: new Set([round]) }).length;
  sink += Number((BigInt(round) ** 40n) % 1000003n);
  sink += [...text.slice(0, 2000)].sort().length + new TextEncoder().encode(text.slice(0, 1000)).length;
}
let round = 0;
function loop() {
  const end = Date.now() + 50;
  while (Date.now() < end) work(round++);
  // Idle: nothing scheduled; the open stdin keeps the process alive until it closes.
  if (!idle) setImmediate(loop);
}
loop();
if (sink < 0) console.log(sink);
