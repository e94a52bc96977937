/**
 * Case 8: the seed's experiment, replayed. The address sets recorded from
 * real busy processes (bench/replay_record.mjs: a Node program exercising
 * many builtins, a C program with many shared libraries, profiled with
 * examples/profile.ts) go through:
 * - finding their VMAs: by PROCMAP_QUERY (sort, then one query() per VMA
 *   the addresses fall in, each answering every address in it) vs by the
 *   text (read /proc/<pid>/maps, split, regex, BigInt, then a binary search
 *   per address: the naive code), the patch's own comparison (~35x there);
 * - the whole `resolve()` (ioctl, text) vs the naive JavaScript a user would
 *   write (the same, plus a result object with name and file offset per
 *   address).
 * Interleaved, cost per address.
 * @module
 */
import { ProcMaps } from "../mod.ts";
import { lookup, readMapsBaseline } from "./baseline_parser.ts";
import { check, loadConfig, readAddrs, sink, Suite } from "./lib.ts";

interface ReplayTarget {
  name: string;
  pid: number;
  vmas: number;
  addrsFile: string;
  mapsFile: string;
  samples: number;
  addresses: number;
  unmapped: number;
}

const config = loadConfig() as ReturnType<typeof loadConfig> & { replay?: ReplayTarget[] };
const suite = new Suite("replay", config);
check(config.replay && config.replay.length > 0, "run.mjs recorded the replay targets");

for (const t of config.replay) {
  const addrs = readAddrs(t.addrsFile);
  using ioctl = ProcMaps.open(t.pid, { backend: "ioctl" });
  using text = ProcMaps.open(t.pid, { backend: "text" });
  // The same VMAs every way (the JIT target may map more code meanwhile: compare starts of the VMAs found).
  const naive = readMapsBaseline(t.pid);
  const byIoctl = ioctl.resolve(addrs, { strategy: "ioctl" });
  const byText = text.resolve(addrs, { strategy: "text" });
  let same = 0;
  addrs.forEach((a, i) => {
    const r = lookup(naive, a);
    if (
      r < 0
        ? byIoctl[i] === null && byText[i] === null
        : byIoctl[i]?.vma.start === naive[r].start && byText[i]?.vma.start === naive[r].start
    ) same++;
  });
  check(same >= addrs.length * 0.99, `${t.name}: resolve() and the naive code agree (${same} of ${addrs.length})`);
  suite.notes.push(
    `${t.name}: ${t.samples} samples recorded at 999 Hz, ${t.addresses} distinct user addresses over ${t.vmas} VMAs ` +
      `(${t.unmapped} outside the process's maps when recorded: return addresses the kernel's frame-pointer walk ` +
      `read from code built without frame pointers; every way answers null for them)`,
  );
  const sorted = addrs.slice();
  const size = { size: addrs.length, vmas: t.vmas, pid: t.pid, addrsFile: t.addrsFile, mapsFile: t.mapsFile };
  let queries = 0;
  await suite.measure(`replay-${t.name}`, size, [
    {
      name: "VMAs by ioctl",
      ops: addrs.length,
      fn: () => {
        // Sort, then one PROCMAP_QUERY per VMA: it answers every address below its end.
        sorted.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        let n = 0;
        queries = 0;
        for (let i = 0; i < sorted.length;) {
          const v = ioctl.query(sorted[i], { coveringOrNext: true });
          queries++;
          if (!v) break;
          while (i < sorted.length && sorted[i] < v.end) {
            if (sorted[i] >= v.start) n++;
            i++;
          }
        }
        sink(n);
      },
    },
    {
      name: "VMAs by text (naive)",
      ops: addrs.length,
      fn: () => {
        const rows = readMapsBaseline(t.pid);
        let n = 0;
        for (const a of addrs) n += lookup(rows, a);
        sink(n);
      },
    },
    {
      name: "resolve() ioctl",
      ops: addrs.length,
      fn: () => sink(ioctl.resolve(addrs, { strategy: "ioctl" }).length),
    },
    {
      name: "resolve() text",
      ops: addrs.length,
      fn: () => sink(text.resolve(addrs, { strategy: "text" }).length),
    },
    {
      name: "naive resolve",
      ops: addrs.length,
      fn: () => {
        const rows = readMapsBaseline(t.pid);
        const out = addrs.map((addr) => {
          const r = lookup(rows, addr);
          if (r < 0) return null;
          const v = rows[r];
          return {
            addr,
            name: v.name,
            start: v.start,
            fileOffset: v.inode !== 0n ? addr - v.start + v.offset : undefined,
          };
        });
        sink(out.length);
      },
    },
  ]);
  suite.notes.push(`${t.name}: ${queries} PROCMAP_QUERY calls find the VMAs of the ${addrs.length} addresses`);
}
suite.finish();
