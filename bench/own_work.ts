/**
 * By hand, not in run.mjs: procmap's own work per call, without the kernel.
 * The ioctl answers are recorded once, then replayed (the struct and name
 * bytes copied back in place of the system call), so what is timed is the
 * JavaScript above the FFI: option checks, struct preparation, decoding,
 * the Vma or table row. The floor is the same replay under a bare loop.
 * With `--against DIR` (another checkout of procmap with its node_modules)
 * both trees run in this process, interleaved, for an A/B of a change.
 *
 *   deno run -A bench/own_work.ts [--pid PID] [--against DIR]
 *   bun bench/own_work.ts [--pid PID] [--against DIR]
 *
 * Prints the best of 11 rounds, ns per query or per VMA, CPU time.
 * @module
 */
import process from "node:process";
import { resolve as resolvePath } from "node:path";
import { pathToFileURL } from "node:url";

const argv = process.argv.slice(2);
const opt = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const pid: number | "self" = opt("--pid") ? Number(opt("--pid")) : "self";
const against = opt("--against");

type Entry = { r: number; q: Uint8Array; name: Uint8Array | undefined };
type Task = [ops: number, fn: () => void];
interface Side {
  tag: string;
  tasks: Record<string, Task>;
  use(task: string): void;
}

/** struct procmap_query offsets (include/uapi/linux/fs.h). */
const OFF = { start: 24, end: 32, nameSize: 80, nameAddr: 88 };
let sinkValue = 0;

/** One checkout's ProcMaps with its libc's ioctl replaced by a recorder, then a replayer. */
async function side(root: string, tag: string): Promise<Side> {
  const base = pathToFileURL(resolvePath(root) + "/").href;
  const { getLibc } = await import(base + "ffi/mod.ts");
  const { ProcMaps } = await import(base + "mod.ts");
  // deno-lint-ignore no-explicit-any
  const libc = getLibc() as any;
  const realAddressOf = libc.addressOf, realIoctl = libc.ioctlAt;
  const buffers = new Map<bigint, Uint8Array>();
  libc.addressOf = (b: Uint8Array) => {
    const a = realAddressOf(b);
    buffers.set(a, b);
    return a;
  };
  let log: Entry[] = [], recording = true, next = 0;
  let structAddr = -1n, struct: Uint8Array = new Uint8Array(0), view = new DataView(struct.buffer);
  libc.ioctlAt = (fd: number, request: bigint, addr: bigint) => {
    if (addr !== structAddr) {
      structAddr = addr;
      struct = buffers.get(addr)!;
      view = new DataView(struct.buffer, struct.byteOffset, struct.length);
    }
    const nameAddr = view.getBigUint64(OFF.nameAddr, true);
    if (recording) {
      const r = realIoctl(fd, request, addr);
      const size = view.getUint32(OFF.nameSize, true);
      const name = nameAddr && r >= 0 && size ? buffers.get(nameAddr)!.slice(0, size) : undefined;
      log.push({ r, q: struct.slice(), name });
      return r;
    }
    const e = log[next++];
    if (next === log.length) next = 0;
    struct.set(e.q);
    if (e.name) buffers.get(nameAddr)!.set(e.name);
    return e.r;
  };
  const maps = ProcMaps.open(pid, { backend: "ioctl" });
  const all = [...maps.vmasSync()];
  const addrs: bigint[] = all.filter((_: unknown, i: number) => i % 10 === 3).map((v: { start: bigint }) => v.start);
  const q = new Uint8Array(new ArrayBuffer(104));
  const qView = new DataView(q.buffer);
  const qAddr = libc.addressOf(q);
  const fd = libc.openRead(`/proc/${pid}/maps`);
  qView.setBigUint64(0, 104n, true);
  const NO_NAME = { name: false };
  const tasks: Record<string, Task> = {
    "bare call (floor)": [addrs.length, () => {
      for (const a of addrs) {
        qView.setBigUint64(16, a, true);
        libc.ioctlAt(fd, 0xC0686611n, qAddr);
        sinkValue += Number(qView.getBigUint64(OFF.end, true) - qView.getBigUint64(OFF.start, true)) & 7;
      }
    }],
    "query, no name": [addrs.length, () => {
      for (const a of addrs) {
        const v = maps.query(a, NO_NAME)!;
        sinkValue += Number(v.end - v.start) & 7;
      }
    }],
    "query": [addrs.length, () => {
      for (const a of addrs) {
        const v = maps.query(a)!;
        sinkValue += v.name!.length + (Number(v.end - v.start) & 7);
      }
    }],
    "vmasSync() per VMA": [all.length, () => {
      for (const v of maps.vmasSync()) sinkValue += v.name!.length + (Number(v.end - v.start) & 7);
    }],
  };
  if (typeof ProcMaps.prototype.table === "function") {
    tasks["table() per row"] = [all.length, () => {
      const t = maps.table();
      for (let i = 0; i < t.length; i++) sinkValue += t.name(i)!.length + (Number(t.end[i] - t.start[i]) & 7);
    }];
  }
  const logs: Record<string, Entry[]> = {};
  for (const [name, [, fn]] of Object.entries(tasks)) {
    log = [];
    fn();
    logs[name] = log;
  }
  recording = false;
  return {
    tag,
    tasks,
    use: (task) => {
      log = logs[task];
      next = 0;
    },
  };
}

const sides = [await side(new URL("..", import.meta.url).pathname, "this tree")];
if (against) sides.unshift(await side(against, against));
const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const best = new Map<string, number>();
for (let round = 0; round < 11; round++) {
  for (const s of round & 1 ? sides : [...sides].reverse()) {
    for (const [name, [ops, fn]] of Object.entries(s.tasks)) {
      s.use(name);
      const reps = Math.ceil(100000 / ops);
      const t0 = cpu();
      for (let i = 0; i < reps; i++) fn();
      const ns = ((cpu() - t0) * 1000) / (reps * ops);
      const key = `${name}\t${s.tag}`;
      best.set(key, Math.min(best.get(key) ?? Infinity, ns));
    }
  }
}
const runtime = process.versions.bun ? `Bun ${process.versions.bun}` : `Deno ${process.versions.deno}`;
console.log(`# procmap's own work per call, ioctl answers replayed (${runtime}, pid ${pid}); best of 11, CPU ns`);
for (const name of Object.keys(sides.at(-1)!.tasks)) {
  console.log(
    `${name.padEnd(20)} ${sides.map((s) => `${best.get(`${name}\t${s.tag}`)?.toFixed(0) ?? "-"}`).join(" / ")}`,
  );
}
if (against) console.log(`(columns: ${sides.map((s) => s.tag).join(" / ")})`);
if (sinkValue === 0.5) console.log("unreachable");
