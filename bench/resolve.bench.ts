/**
 * Case 4: a profiler's batch. 100 / 1,000 / 10,000 sampled addresses over a
 * 10,000-VMA process: `maps.resolve(addrs, { strategy })` with each strategy
 * (default options: names, build IDs, ELF addresses) vs what can be done
 * without it: one query() per address (ioctl), a columnar snapshot
 * (`table()`, through the ioctl or the text) searched per address, or
 * re-reading and parsing the whole text and looking every address up in it
 * (procmap's text backend, and the idiomatic baseline). Cost per sampled
 * address; the chart of totals per batch shows where a snapshot starts to
 * pay.
 * @module
 */
import { ProcMaps, type ResolveStrategy } from "../mod.ts";
import { lookup, readMapsBaseline } from "./baseline_parser.ts";
import { check, loadConfig, readAddrs, sink, Suite } from "./lib.ts";

const STRATEGIES: ResolveStrategy[] = ["ioctl", "text", "auto"];

const suite = new Suite("resolve", loadConfig());
const { target, samples } = suite.config.resolve;
using ioctl = ProcMaps.open(target.pid, { backend: "ioctl" });
using text = ProcMaps.open(target.pid, { backend: "text" });

for (const { count, file } of samples) {
  const addrs = readAddrs(file);
  check(addrs.length === count, `${file} holds ${count} addresses`);
  const expected = addrs.map((a) => ioctl.query(a)?.start);
  check(expected.every((s) => s !== undefined), "every sampled address is mapped");
  for (const strategy of STRATEGIES) {
    const got = ioctl.resolve(addrs, { strategy });
    check(got.every((r, i) => r?.vma.start === expected[i]), `resolve(${strategy}) finds the same VMAs as query()`);
  }
  const plan = ioctl.planResolve(addrs);
  suite.notes.push(`${count} addresses: the planner picks ${plan.strategy} (${plan.reason})`);
  await suite.measure("resolve", { ...target, size: count }, [
    {
      name: "query() per address",
      ops: count,
      fn: () => {
        let n = 0;
        for (const a of addrs) n += ioctl.query(a)!.name!.length;
        sink(n);
      },
    },
    {
      name: "text re-read",
      ops: count,
      fn: () => {
        text.refresh(); // the next query reads and parses the whole text again
        let n = 0;
        for (const a of addrs) n += text.query(a)!.name!.length;
        sink(n);
      },
    },
    {
      name: "ioctl table() + find()",
      ops: count,
      fn: () => {
        // One columnar snapshot through the ioctl, then a binary search per address.
        const t = ioctl.table();
        let n = 0;
        for (const a of addrs) n += t.name(t.find(a))!.length;
        sink(n);
      },
    },
    {
      name: "text table() + find()",
      ops: count,
      fn: () => {
        const t = text.table();
        let n = 0;
        for (const a of addrs) n += t.name(t.find(a))!.length;
        sink(n);
      },
    },
    {
      name: "baseline re-read",
      ops: count,
      fn: () => {
        const rows = readMapsBaseline(target.pid);
        let n = 0;
        for (const a of addrs) n += lookup(rows, a);
        sink(n);
      },
    },
    ...STRATEGIES.map((strategy) => ({
      name: `resolve ${strategy}`,
      ops: count,
      fn: () => sink(ioctl.resolve(addrs, { strategy }).length),
    })),
  ]);
}
suite.finish();
