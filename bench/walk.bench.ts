/**
 * Case 2: a full walk of every VMA (with names): `vmasSync()` and `table()`
 * on the ioctl and the text backend, the floors (a bare ioctl walk through
 * procmap's own binding: struct written, start and end read back, the name
 * left as bytes; the bare read of the whole text through it, unparsed;
 * the loop over a table taken beforehand, what reading its columns costs;
 * fresh columns for a table of that size, what allocating them costs), and
 * the idiomatic baseline (read the file, regex per line); and bench/ref.c's
 * walks in this process, interleaved with them.
 * Every loop reads what a caller reads (start, end, name). Cost per VMA.
 * @module
 */
import { ProcMaps, type VmaTable } from "../mod.ts";
import { getLibc } from "../ffi/mod.ts";
import { readMapsBaseline } from "./baseline_parser.ts";
import { check, loadConfig, sink, Suite } from "./lib.ts";

/** struct procmap_query offsets (include/uapi/linux/fs.h). */
const OFF = { size: 0, flags: 8, addr: 16, start: 24, end: 32, nameSize: 80, nameAddr: 88 };
const COVERING_OR_NEXT = 0x10n, PROCMAP_QUERY = 0xC0686611n, ENOENT = 2;
const le = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const suite = new Suite("walk", loadConfig());
const libc = getLibc();
for (const target of suite.config.targets) {
  // Handles stay open, as in a tool that watches a process.
  using ioctl = ProcMaps.open(target.pid, { backend: "ioctl" });
  using text = ProcMaps.open(target.pid, { backend: "text" });
  const walk = (maps: ProcMaps) => () => {
    let n = 0;
    for (const v of maps.vmasSync()) n += Number(v.end - v.start) + v.name!.length;
    sink(n);
  };
  const readTable = (t: VmaTable) => {
    let n = 0;
    for (let i = 0; i < t.length; i++) n += Number(t.end[i] - t.start[i]) + t.name(i)!.length;
    sink(n);
  };
  const walkTable = (maps: ProcMaps) => () => readTable(maps.table());
  // The caller's floor for a table: the same loop over a table taken once (no system call, no
  // parse): two bigints read from the columns and subtracted, and the name, per row.
  const taken = ioctl.table();
  const tableRead = () => readTable(taken);
  const fd = libc.openRead(`/proc/${target.pid}/maps`);
  check(fd >= 0, "the maps file opens");
  const q = new Uint8Array(new ArrayBuffer(104));
  const name = new Uint8Array(new ArrayBuffer(256));
  const view = new DataView(q.buffer);
  const qAddr = libc.addressOf(q);
  view.setBigUint64(OFF.size, 104n, le);
  view.setBigUint64(OFF.flags, COVERING_OR_NEXT, le);
  view.setBigUint64(OFF.nameAddr, libc.addressOf(name), le);
  const bare = () => {
    let n = 0;
    let addr = 0n;
    for (;;) {
      view.setBigUint64(OFF.addr, addr, le);
      view.setUint32(OFF.nameSize, name.length, le);
      const r = libc.ioctlAt(fd, PROCMAP_QUERY, qAddr);
      if (r === -ENOENT) break;
      if (r !== 0) throw new Error("bare ioctl failed");
      const start = view.getBigUint64(OFF.start, le);
      addr = view.getBigUint64(OFF.end, le);
      n += Number(addr - start) + view.getUint32(OFF.nameSize, le);
    }
    sink(n);
  };
  // The text floor: the whole text read through procmap's binding into a kept buffer, not parsed
  // (the kernel printing it plus the FFI: what any text reader pays before its parser starts).
  let textBuf = new Uint8Array(new ArrayBuffer(1 << 16));
  const bareRead = () => {
    let len = 0;
    for (;;) {
      if (textBuf.length - len < 4096) {
        const grown = new Uint8Array(new ArrayBuffer(textBuf.length * 2));
        grown.set(textBuf.subarray(0, len));
        textBuf = grown;
      }
      const r = libc.pread(fd, textBuf.subarray(len), len);
      if (r < 0) throw new Error("bare pread failed");
      if (r === 0) break;
      len += r;
    }
    sink(len);
  };
  const count = [...ioctl.vmasSync()].length;
  // The columns' floor: what fresh typed-array columns for a table of `count` named rows cost
  // in this runtime before anything fills them (one ArrayBuffer: four u64 columns, page sizes,
  // devices and name indices, flags; and a view of each), as every table() pays for its own.
  const freshColumns = () => {
    const buf = new ArrayBuffer(count * 53);
    const u64 = (k: number) => new BigUint64Array(buf, 8 * k * count, count);
    const u32 = (k: number) => new Uint32Array(buf, (40 + 4 * k) * count, count);
    const n = u64(0).length + u64(1).length + u64(2).length + u64(3).length +
      new Float64Array(buf, 32 * count, count).length + u32(0).length + u32(1).length + u32(2).length +
      new Uint8Array(buf, 52 * count, count).length;
    sink(n);
  };
  check(count === [...text.vmasSync()].length, "both backends see the same VMAs");
  check(count === ioctl.table().length && count === text.table().length, "tables see the same VMAs");
  check(count === readMapsBaseline(target.pid).length, "the baseline sees the same VMAs");
  try {
    await suite.measure("walk", target, [
      { name: "bare ioctl (floor)", ops: count, fn: bare },
      { name: "ioctl", ops: count, fn: walk(ioctl) },
      { name: "ioctl table()", ops: count, fn: walkTable(ioctl) },
      { name: "table read (floor)", ops: count, fn: tableRead },
      { name: "bare read (floor)", ops: count, fn: bareRead },
      { name: "text", ops: count, fn: walk(text) },
      { name: "text table()", ops: count, fn: walkTable(text) },
      { name: "baseline", ops: count, fn: () => sink(readMapsBaseline(target.pid).length) },
      suite.cTask("walk-ioctl", fd, undefined, count),
      suite.cTask("walk-text", fd, undefined, count),
    ]);
    // Apart: freeing thousands of backing stores goes on in the background and slowed the
    // tasks interleaved with it (Deno's text walk by a tenth).
    await suite.measure("walk", target, [{ name: "fresh columns (floor)", ops: count, fn: freshColumns }]);
  } finally {
    libc.close(fd);
  }
}
suite.finish();
