/**
 * By hand, not in run.mjs: a point query's cost layer by layer, with the
 * kernel in the loop. The same 1,000 addresses (one VMA in ten of the
 * target) go through
 *   - a bare ioctl through procmap's binding (struct written, two bigints read),
 *   - the same plus a `Vma` built from the struct,
 *   - the ioctl backend's `query()` called directly (no handle layer),
 *   - `ProcMaps.query(addr, { name: false })` and `ProcMaps.query(addr)`,
 * each loop reading `start` and `end` (and the name where asked for), so the
 * difference between two rows is what that layer costs.
 *
 *   deno run -A bench/layers.ts PID
 *   bun bench/layers.ts PID
 *
 * Prints the best of 30 rounds, ns per query (wall clock).
 * @module
 */
import process from "node:process";
import { ProcMaps, type QueryOptions } from "../mod.ts";
import { getLibc } from "../ffi/mod.ts";
import { Vma } from "../src/vma.ts";
import { IoctlBackend } from "../src/ioctl/backend.ts";
import { OFF, requestFor } from "../src/ioctl/abi.ts";
import { ProcessRef } from "../src/procfs/process.ts";
import { MappedFiles } from "../src/elf/file_cache.ts";
import { nativeLittleEndian as le } from "../src/util/bytes.ts";

const pid = Number(process.argv[2]);
if (!Number.isInteger(pid) || pid <= 0) {
  throw new Error("usage: layers.ts PID (a process with many VMAs: bench/target.c)");
}

const libc = getLibc();
const request = requestFor(libc.arch)!;
using maps = ProcMaps.open(pid, { backend: "ioctl" });
const addrs = [...maps.vmasSync()].filter((_, i) => i % 10 === 3).slice(0, 1000).map((v) => v.start);

// The bare call's own struct and descriptor.
const fd = libc.openRead(`/proc/${pid}/maps`);
const q = new Uint8Array(new ArrayBuffer(104));
const view = new DataView(q.buffer);
const u32 = new Uint32Array(q.buffer);
view.setBigUint64(OFF.size, 104n, le);
const qAddr = libc.addressOf(q);

// The backend without its handle.
const proc = ProcessRef.open(libc, pid);
const backendFd = proc.openAt("maps");
proc.mapsFd = backendFd;
const backend = new IoctlBackend(
  libc,
  backendFd,
  request,
  proc,
  `/proc/${pid}/maps`,
  4096,
  new MappedFiles(libc, proc),
);
const NO_NAME: QueryOptions = { name: false };

let sink = 0;
const bare = (withVma: boolean) => () => {
  for (const a of addrs) {
    view.setBigUint64(OFF.queryAddr, a, le);
    if (libc.ioctlAt(fd, request, qAddr) !== 0) throw new Error("bare ioctl failed");
    if (!withVma) {
      sink += Number(view.getBigUint64(OFF.vmaEnd, le) - view.getBigUint64(OFF.vmaStart, le));
      continue;
    }
    const v = new Vma(
      view.getBigUint64(OFF.vmaStart, le),
      view.getBigUint64(OFF.vmaEnd, le),
      u32[OFF.vmaFlags / 4],
      view.getBigUint64(OFF.vmaOffset, le),
      u32[OFF.devMajor / 4],
      u32[OFF.devMinor / 4],
      view.getBigUint64(OFF.inode, le),
      4096,
      undefined,
      undefined,
    );
    sink += Number(v.end - v.start);
  }
};
const tasks: Record<string, () => void> = {
  "bare ioctl": bare(false),
  "bare ioctl + Vma": bare(true),
  // Request 0: no name, no build ID, no filter (what { name: false } asks for).
  "backend.query()": () => {
    for (const a of addrs) {
      const v = backend.query(a, 0)!;
      sink += Number(v.end - v.start);
    }
  },
  "query(a, no name)": () => {
    for (const a of addrs) {
      const v = maps.query(a, NO_NAME)!;
      sink += Number(v.end - v.start);
    }
  },
  "query(a)": () => {
    for (const a of addrs) {
      const v = maps.query(a)!;
      sink += Number(v.end - v.start) + v.name!.length;
    }
  },
};
const best = new Map<string, number>();
for (let round = 0; round < 30; round++) {
  for (const [name, fn] of Object.entries(tasks)) {
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) fn();
    const ns = ((performance.now() - t0) * 1e6) / (5 * addrs.length);
    best.set(name, Math.min(best.get(name) ?? Infinity, ns));
  }
}
const runtime = process.versions.bun ? `Bun ${process.versions.bun}` : `Deno ${process.versions.deno}`;
console.log(`# a point query layer by layer (${runtime}, pid ${pid}, ${addrs.length} addresses); best of 30, ns`);
for (const [name, ns] of best) console.log(`${name.padEnd(20)} ${ns.toFixed(1)}`);
libc.close(fd);
libc.close(backendFd);
proc.close();
if (sink === 0.5) console.log("unreachable");
