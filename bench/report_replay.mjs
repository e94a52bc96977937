// Case 8 of bench/RESULTS.md: the seed's experiment replayed on recorded
// profiles (bench/replay.bench.ts), rendered from the data bench/run.mjs
// collects.

const LABEL = { deno: "Deno", bun: "Bun", node26: "Node 26" };

function fmtNs(ns) {
  if (ns === undefined || !Number.isFinite(ns)) return "–";
  return ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(ns >= 100 ? 0 : 1)} ns`;
}

const TASKS = [
  ["VMAs by ioctl", "finding the VMAs: PROCMAP_QUERY (sort, one query per VMA)", undefined],
  ["VMAs by text (naive)", "finding the VMAs: read + split + regex + BigInt, binary search", "VMAs by ioctl"],
  ["resolve() ioctl", "whole `resolve()`, ioctl", undefined],
  ["resolve() text", "whole `resolve()`, text", "resolve() ioctl"],
  ["naive resolve", "naive JavaScript: the text way plus a result per address", "resolve() ioctl"],
];

/** Lines of the case 8 section, and target lines for the summary. */
export function renderReplay(data) {
  const rts = data.runtimes.filter((r) => data.js[r]?.replay);
  const out = [
    `## 8. The seed's experiment, replayed on recorded profiles`,
    ``,
    `A Node.js program exercising many builtins (bench/busy.mjs) and a C program with many shared libraries (bench/many_libs.c) were profiled with examples/profile.ts (999 Hz); their distinct user-space addresses (saved in bench/data/ with the maps text) are replayed against the still-running processes, every task interleaved. Cost per address; the ratio is the row's cost over the cost of the row it is compared with (above 1×: the ioctl way is that much cheaper). The PROCMAP_QUERY patch reported finding VMAs about 35× cheaper by the ioctl than by the text, on 30 s of a real service's stacks.`,
    ``,
  ];
  // The recordings are the same for every runtime: each note once.
  const notes = [...new Set(rts.flatMap((rt) => data.js[rt].replay.notes ?? []))];
  if (notes.length) out.push(...notes.map((n) => `- ${n}`), ``);
  const lines = [];
  for (const t of data.config.replay ?? []) {
    out.push(`${t.name}: ${t.addresses} addresses over ${t.vmas} VMAs`, ``);
    out.push(`| task | ${rts.map((rt) => `${LABEL[rt]} per address | ratio`).join(" | ")} |`);
    out.push(`| --- | ${rts.map(() => "---: | ---:").join(" | ")} |`);
    const get = (rt, task) =>
      data.js[rt].replay.results.find((r) => r.case === `replay-${t.name}` && r.task === task)?.minNsPerOp;
    for (const [task, label, vs] of TASKS) {
      const cells = rts.map((rt) => {
        const v = get(rt, task);
        const ratio = vs ? v / get(rt, vs) : undefined;
        return `${fmtNs(v)} | ${ratio === undefined ? "" : `${ratio.toFixed(2)}×`}`;
      });
      out.push(`| ${label} | ${cells.join(" | ")} |`);
    }
    out.push(``);
    for (const rt of rts) {
      const vma = get(rt, "VMAs by text (naive)") / get(rt, "VMAs by ioctl");
      const whole = get(rt, "naive resolve") / get(rt, "resolve() ioctl");
      lines.push(
        `replay ${t.name} [${LABEL[rt]}]: VMAs ${vma.toFixed(1)}x cheaper by ioctl (patch: ~35x); ` +
          `resolve() ${whole.toFixed(2)}x cheaper than the naive code`,
      );
    }
  }
  return { lines: out, targetLines: lines };
}
