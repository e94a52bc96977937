/**
 * Case 1: point queries through PROCMAP_QUERY (ioctl backend), without the
 * name, with it, and with name + build ID, over the same addresses
 * bench/ref.c queries; plus the floor: a bare ioctl through procmap's own
 * binding (struct written, two bigints read back), which is what the FFI
 * alone costs; and bench/ref.c's loops in this process, interleaved with
 * them. Every loop reads what a caller reads (start, end, name). Cost per
 * query.
 * @module
 */
import { ProcMaps, type QueryOptions } from "../mod.ts";
import { getLibc } from "../ffi/mod.ts";
import { check, loadConfig, readAddrs, sink, Suite } from "./lib.ts";

// As a tool would write them: the default (name included) needs no options;
// option objects are made once, outside the loop.
const NO_NAME: QueryOptions = { name: false };
const NAME: QueryOptions | undefined = undefined;
const BUILD_ID: QueryOptions = { buildId: true };

/** struct procmap_query: size, query_addr, vma_start, vma_end offsets (include/uapi/linux/fs.h). */
const SIZE = 0, QUERY_ADDR = 16, VMA_START = 24, VMA_END = 32;
const PROCMAP_QUERY = 0xC0686611n;
const le = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const suite = new Suite("point", loadConfig());
const libc = getLibc();
for (const target of suite.config.targets) {
  const addrs = readAddrs(target.addrsFile);
  using maps = ProcMaps.open(target.pid, { backend: "ioctl" });
  const queryAll = (opts: QueryOptions | undefined) => () => {
    let n = 0;
    for (const a of addrs) {
      const v = maps.query(a, opts)!;
      n += Number(v.end - v.start) + (v.name?.length ?? 0);
    }
    sink(n);
  };
  // The floor: the same queries as bare calls, no name (C's point-noname).
  const fd = libc.openRead(`/proc/${target.pid}/maps`);
  check(fd >= 0, "the maps file opens");
  const q = new Uint8Array(new ArrayBuffer(104));
  const view = new DataView(q.buffer);
  view.setBigUint64(SIZE, 104n, le);
  const qAddr = libc.addressOf(q);
  // C's own copy of the addresses.
  const cAddrs = BigUint64Array.from(addrs);
  const c = (mode: "point-noname" | "point-name" | "point-buildid") => suite.cTask(mode, fd, cAddrs, addrs.length);
  const bare = () => {
    let n = 0;
    for (const a of addrs) {
      view.setBigUint64(QUERY_ADDR, a, le);
      if (libc.ioctlAt(fd, PROCMAP_QUERY, qAddr) !== 0) throw new Error("bare ioctl failed");
      n += Number(view.getBigUint64(VMA_END, le) - view.getBigUint64(VMA_START, le));
    }
    sink(n);
  };
  // Every address is mapped, and some VMAs have names and build IDs to fetch.
  const withIds = addrs.map((a) => maps.query(a, BUILD_ID));
  check(withIds.every((v) => v !== null), "every query address is mapped");
  check(withIds.some((v) => v!.name !== ""), "some queried VMAs have names");
  check(withIds.some((v) => v!.buildId !== undefined), "some queried VMAs have build IDs");
  try {
    await suite.measure("point", target, [
      { name: "bare ioctl (floor)", ops: addrs.length, fn: bare },
      { name: "no name", ops: addrs.length, fn: queryAll(NO_NAME) },
      { name: "name", ops: addrs.length, fn: queryAll(NAME) },
      { name: "name + build ID", ops: addrs.length, fn: queryAll(BUILD_ID) },
      c("point-noname"),
      c("point-name"),
      c("point-buildid"),
    ]);
  } finally {
    libc.close(fd);
  }
}
suite.finish();
