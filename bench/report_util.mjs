// Helpers shared by the report's modules (bench/report.mjs, report_cases.mjs, charts.mjs):
// formatting, the results' lookup, the tables.

/** Column labels of the runtimes. */
export const RUNTIME_LABEL = { deno: "Deno", bun: "Bun", node26: "Node 26" };

/** ns as a short human string. */
export function fmtNs(ns) {
  if (ns === undefined || !Number.isFinite(ns)) return "–";
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e4) return `${(ns / 1e3).toFixed(1)} µs`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(ns >= 100 ? 0 : 1)} ns`;
}
export const fmtRatio = (r) => (r === undefined || !Number.isFinite(r) ? "–" : `${r.toFixed(2)}×`);

export function jsResult(data, runtime, suite, caseId, size, task) {
  return data.js[runtime]?.[suite]?.results.find((r) => r.case === caseId && r.size === size && r.task === task);
}

/**
 * The statistic the tables and ratios use: the fastest batch of each task,
 * per operation, for JS and C alike. On a shared machine interference only
 * adds time, so the best batch is the cost the code itself achieves; the
 * medians stay in raw.json. (Case 6 interleaves its own C runs and uses
 * medians; the absolute symbolization figures of case 7 are medians too.)
 */
export const STAT = "minNsPerOp";

/** C's cost for a runtime's ratios: the lower of C in its suite process (interleaved with the JS tasks) and C alone; or undefined. */
export function cBest(data, runtime, size, mode) {
  return data.c[runtime]?.[size]?.[mode]?.[STAT];
}

/** C alone (its own process) next to C in each runtime's suite process, per mode and size. */
export function cAloneTable(data) {
  if (!data.cAlone) return undefined;
  const rts = data.runtimes.filter((r) => data.c[r]);
  const rows = [];
  for (const [size, modes] of Object.entries(data.cAlone)) {
    const vmas = data.config.targets.find((t) => String(t.size) === size)?.vmas ?? size;
    for (const [mode, r] of Object.entries(modes)) {
      rows.push([
        String(vmas),
        mode,
        fmtNs(r[STAT]),
        ...rts.map((rt) => {
          const inside = (data.cIn ?? data.c)[rt]?.[size]?.[mode]?.[STAT];
          return inside === undefined ? "–" : `${fmtNs(inside)} (${fmtRatio(inside / r[STAT])})`;
        }),
      ]);
    }
  }
  return table(["VMAs", "C mode", "C alone", ...rts.map((rt) => `C in ${RUNTIME_LABEL[rt]}`)], rows);
}

export function table(header, rows) {
  const line = (cells) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? "---" : "---:"))), ...rows.map(line)].join("\n");
}

/**
 * One table for a case: one row per (size, task), per runtime its ns/op and
 * its ratio to the row's reference (a C mode or another JS task).
 */
export function caseTable(
  data,
  { suite, caseId = suite, sizes, specs, refLabel = "vs ref", first = "VMAs", stat = STAT },
) {
  const rts = data.runtimes.filter((r) => data.js[r]?.[suite]);
  const withC = specs.some((s) => s.c);
  const header = [
    first,
    "task",
    ...rts.flatMap((r) => [...(withC ? ["C"] : []), RUNTIME_LABEL[r], `${RUNTIME_LABEL[r]} ${refLabel}`]),
  ];
  const rows = [];
  for (const size of sizes) {
    for (const spec of specs) {
      const vmas = data.config.targets.find((t) => t.size === size)?.vmas ?? size;
      const cells = [String(spec.vmasLabel?.(size) ?? vmas), spec.label];
      for (const r of rts) {
        const cNs = spec.c ? data.c[r]?.[size]?.[spec.c]?.[stat] : undefined;
        const res = jsResult(data, r, suite, caseId, size, spec.task);
        let ref;
        if (spec.vs === "C") ref = cNs;
        else if (spec.vs) ref = jsResult(data, r, suite, caseId, size, spec.vs)?.[stat];
        if (withC) cells.push(fmtNs(cNs));
        cells.push(fmtNs(res?.[stat]), spec.vs ? fmtRatio(res && ref ? res[stat] / ref : undefined) : "");
      }
      rows.push(cells);
    }
  }
  return table(header, rows);
}
