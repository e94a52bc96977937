/**
 * Case 2: a full walk of every VMA (with names), ioctl backend vs text
 * backend, plus the idiomatic baseline (read the file, regex per line) for
 * reference. Cost per VMA.
 * @module
 */
import { ProcMaps } from "../mod.ts";
import { readMapsBaseline } from "./baseline_parser.ts";
import { check, loadConfig, sink, Suite } from "./lib.ts";

const suite = new Suite("walk", loadConfig());
for (const target of suite.config.targets) {
  // Handles stay open, as in a tool that watches a process.
  using ioctl = ProcMaps.open(target.pid, { backend: "ioctl" });
  using text = ProcMaps.open(target.pid, { backend: "text" });
  const walk = (maps: ProcMaps) => () => {
    let n = 0;
    for (const v of maps.vmasSync()) n += v.name!.length;
    sink(n);
  };
  const count = [...ioctl.vmasSync()].length;
  check(count === [...text.vmasSync()].length, "both backends see the same VMAs");
  check(count === readMapsBaseline(target.pid).length, "the baseline sees the same VMAs");
  await suite.measure("walk", target, [
    { name: "ioctl", ops: count, fn: walk(ioctl) },
    { name: "text", ops: count, fn: walk(text) },
    { name: "baseline", ops: count, fn: () => sink(readMapsBaseline(target.pid).length) },
  ]);
}
suite.finish();
