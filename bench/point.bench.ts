/**
 * Case 1: point queries through PROCMAP_QUERY (ioctl backend), without the
 * name, with it, and with name + build ID, over the same addresses
 * bench/ref.c queries. Cost per query.
 * @module
 */
import { ProcMaps, type QueryOptions } from "../mod.ts";
import { check, loadConfig, readAddrs, sink, Suite } from "./lib.ts";

// As a tool would write them: the default (name included) needs no options;
// option objects are made once, outside the loop.
const NO_NAME: QueryOptions = { name: false };
const NAME: QueryOptions | undefined = undefined;
const BUILD_ID: QueryOptions = { buildId: true };

const suite = new Suite("point", loadConfig());
for (const target of suite.config.targets) {
  const addrs = readAddrs(target.addrsFile);
  using maps = ProcMaps.open(target.pid, { backend: "ioctl" });
  const queryAll = (opts: QueryOptions | undefined) => () => {
    let n = 0;
    for (const a of addrs) n += maps.query(a, opts)!.pageSize;
    sink(n);
  };
  // Every address is mapped, and some VMAs have names and build IDs to fetch.
  const withIds = addrs.map((a) => maps.query(a, BUILD_ID));
  check(withIds.every((v) => v !== null), "every query address is mapped");
  check(withIds.some((v) => v!.name !== ""), "some queried VMAs have names");
  check(withIds.some((v) => v!.buildId !== undefined), "some queried VMAs have build IDs");
  await suite.measure("point", target, [
    { name: "no name", ops: addrs.length, fn: queryAll(NO_NAME) },
    { name: "name", ops: addrs.length, fn: queryAll(NAME) },
    { name: "name + build ID", ops: addrs.length, fn: queryAll(BUILD_ID) },
  ]);
}
suite.finish();
