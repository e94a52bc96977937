/**
 * Case 5: what `for await (... of maps.vmas())` costs over
 * `for (... of maps.vmasSync())` on the same VMAs, per backend. Cost per VMA.
 * @module
 */
import { ProcMaps } from "../mod.ts";
import { loadConfig, sink, Suite } from "./lib.ts";

const suite = new Suite("async", loadConfig());
for (const target of suite.config.targets) {
  for (const backend of ["ioctl", "text"] as const) {
    using maps = ProcMaps.open(target.pid, { backend });
    const count = [...maps.vmasSync()].length;
    await suite.measure(`async-${backend}`, target, [
      {
        name: "sync",
        ops: count,
        fn: () => {
          let n = 0;
          for (const v of maps.vmasSync()) n += v.pageSize;
          sink(n);
        },
      },
      {
        name: "for await",
        ops: count,
        fn: async () => {
          let n = 0;
          for await (const v of maps.vmas()) n += v.pageSize;
          sink(n);
        },
      },
    ]);
  }
}
suite.finish();
