// The report's cases 9 (a real profile, live) and 10 (start-up): their targets and sections, rendered
// from the data bench/run.mjs collects (data.js[runtime].profile, data.startup).
import { fmtNs, fmtRatio, jsResult, RUNTIME_LABEL, STAT, table } from "./report_util.mjs";

const status = (v, ok) => (v === undefined || !Number.isFinite(v) ? "pending" : ok ? "met" : "**missed**");
const ms = (v) => (v === undefined ? "–" : `${v.toFixed(1)} ms`);

/** The profile suite's figures for one runtime: per task the fastest batch (ns) and per address. */
function profileOf(data, rt) {
  const out = data.js[rt]?.profile;
  const p = data.config.profile;
  if (!out || !p) return undefined;
  const u = p.distinct;
  const batch = (task) => {
    const r = jsResult(data, rt, "profile", "profile", u, task);
    return r ? r[STAT] * r.opsPerIter : undefined;
  };
  const floorTask = out.facts?.plan === "text" ? "text read (floor)" : "queries (floor)";
  return { u, facts: out.facts ?? {}, batch, floor: batch(floorTask), floorTask };
}

/** Target rows of cases 8 and 9 for one runtime. */
export function caseTargets(data, rt) {
  const rows = [];
  const R = RUNTIME_LABEL[rt];
  const p = profileOf(data, rt);
  if (p) {
    const table = p.batch("resolveTable()"), naive = p.batch("naive JS"), objects = p.batch("resolve()");
    const perAddr = table !== undefined && p.floor !== undefined ? (table - p.floor) / p.u : undefined;
    rows.push([
      `resolveTable() of a real profile's ${p.u} distinct addresses ≤ VMA lookups + 10 ns per address`,
      R,
      perAddr === undefined
        ? "–"
        : `+${fmtNs(perAddr)} per address over ${p.floorTask.replace(" (floor)", "")} (${fmtNs(p.floor)})`,
      status(perAddr, perAddr <= 10),
    ]);
    const gain = naive / table;
    rows.push([
      `resolveTable() ≥ 10× cheaper than the naive JS (real profile)`,
      R,
      `${fmtRatio(gain)}; the VMA lookups alone: ${fmtRatio(naive / p.floor)}`,
      status(gain, gain >= 10),
    ]);
    rows.push([
      `resolve() ≥ 3× cheaper than the naive JS (real profile)`,
      R,
      fmtRatio(naive / objects),
      status(naive / objects, naive / objects >= 3),
    ]);
    const best = Math.min(p.batch("resolveTable() ioctl"), p.batch("resolveTable() text"));
    rows.push([
      `planner ≤ 1.1× best fixed strategy (real profile)`,
      R,
      `${fmtRatio(table / best)} (${p.facts.plan ?? "?"})`,
      status(table / best, table / best <= 1.1),
    ]);
  }
  const s = data.startup?.[rt];
  if (s) rows.push(...startupRows(s, R));
  if (rt === "deno" && data.startup?.["deno (node_modules)"]) {
    rows.push(...startupRows(data.startup["deno (node_modules)"], "Deno (node_modules)"));
  }
  if (rt === "deno" && data.startup?.["deno (mod.ts)"]) {
    rows.push(...startupRows(data.startup["deno (mod.ts)"], "Deno (mod.ts)"));
  }
  return rows;
}

function startupRows(s, label) {
  // The floor: the runtime loading a module of the same code (s.floorKb KB) that runs none of it, the same way.
  const floor = s.floorOverEmptyMs === undefined
    ? ""
    : `; floor, the same ${s.floorKb} KB of code loaded and none of it run: ${ms(s.floorOverEmptyMs)}` +
      (s.floorOverEmptyMs > 25 ? ", above the target" : "");
  const rows = [[
    `import ≤ 25 ms over an empty script (fresh process)`,
    label,
    `${ms(s.importOverEmptyMs)} (in the process: ${ms(s.importMs)}, CPU ${ms(s.importCpuMs)}${floor})`,
    status(s.importOverEmptyMs, s.importOverEmptyMs <= 25),
  ]];
  if (s.symbolizeMs === undefined) return rows;
  return [
    ...rows,
    [
      `first symbolize() of one libc address with its debug file ≤ 15 ms`,
      label,
      `${ms(s.symbolizeMs)} (CPU ${ms(s.symbolizeCpuMs)}; with \`lines: false\` ${ms(s.noLinesSymbolizeMs)}, CPU ` +
      ms(s.noLinesSymbolizeCpuMs) +
      (s.unitInflateFloorMs !== undefined
        ? `; the floor, inflating the sections only up to the address's unit, CPU ${ms(s.unitInflateFloorMs)}, ` +
          `the rest over it ${ms(s.symbolizeCpuMs - s.unitInflateFloorMs)}` +
          (s.unitInflateFreshFloorMs !== undefined
            ? ` (the same inflates in a fresh process, touching its memory for the first time, ` +
              `${ms(s.unitInflateFreshFloorMs)}; over that ${ms(s.symbolizeCpuMs - s.unitInflateFreshFloorMs)})`
            : "")
        : "") +
      (s.inflateFloorMs !== undefined
        ? `; inflating .debug_info and .debug_line whole, CPU ${ms(s.inflateFloorMs)}`
        : "") +
      ")",
      status(s.symbolizeMs, s.symbolizeMs <= 15),
    ],
  ];
}

/** Sections 8 and 9. */
export function caseSections(data) {
  const out = [];
  const p = data.config.profile;
  const rts = data.runtimes.filter((rt) => data.js[rt]?.profile);
  if (p && rts.length) {
    out.push(`## 9. A real profile: resolve() of its distinct addresses`, ``);
    out.push(
      `A busy Node.js process (bench/profile_target.mjs: zlib, crypto, JSON, regular expressions, URL, path, util, fs, Buffer in a loop) recorded for ${p.seconds} s by \`perf record -g\` (${p.samples} samples, ${p.frames} user-space frames from its frame-pointer call chains, ${p.distinct} distinct addresses, in order of first appearance), then resolved while the process lives (it stops working after the recording, its code still mapped). Before any timing, every address in a file is checked against the maps text and against the file offset \`perf script\` printed for it. Tasks: the naive JavaScript (read the maps text, split, a regular expression per line, BigInt, a binary search and an object per address); \`resolve()\` (bigints in, objects out; names, build IDs and ELF addresses, as by default); \`resolveTable()\` (a \`BigUint64Array\` in, columns out) with the planner's choice and with each strategy; and the VMA lookups alone, the floor the per-address work adds to: the covering-or-next queries \`resolve()\` makes (one per VMA or gap touched), or one read and parse of the text. Per distinct address, and per batch (the fastest).`,
      ``,
    );
    const tasks = [
      "naive JS",
      "resolve()",
      "resolveTable()",
      "resolveTable() ioctl",
      "resolveTable() text",
      "queries (floor)",
      "text read (floor)",
    ];
    const rows = tasks.map((task) => [
      task,
      ...rts.flatMap((rt) => {
        const r = jsResult(data, rt, "profile", "profile", p.distinct, task);
        const naive = jsResult(data, rt, "profile", "profile", p.distinct, "naive JS");
        return [
          fmtNs(r?.[STAT]),
          fmtNs(r ? r[STAT] * r.opsPerIter : undefined),
          fmtRatio(r && naive ? naive[STAT] / r[STAT] : undefined),
        ];
      }),
    ]);
    out.push(
      table(
        ["task", ...rts.flatMap((rt) => [`${RUNTIME_LABEL[rt]} / addr.`, `batch`, `cheaper than naive`])],
        rows,
      ),
      ``,
    );
    const notes = [...new Set(rts.flatMap((rt) => data.js[rt].profile.notes.map((n) => `${RUNTIME_LABEL[rt]}: ${n}`)))];
    out.push(...notes.map((n) => `- ${n}`), ``);
  }
  if (data.startup) {
    out.push(`## 10. Start-up: a fresh process`, ``);
    out.push(
      `Fresh processes of each runtime, ${
        Object.values(data.startup)[0]?.runs ?? "?"
      } of each kind, interleaved (bench/startup.mjs: every runtime, form and kind in each round): an empty script, one that imports procmap, one that imports it and symbolizes one address of libc's code with libc6-dbg's debug file, and one that does the same after symbolizing an address of the dynamic loader (another file, with its own debug file: procmap's code has run once, libc's tables are still to be read; the difference is the runtime compiling and warming procmap's code on its first use), and one that symbolizes the same libc address with \`lines: false\` (the symbol tables alone, no DWARF). Beside the target, the floor of the first symbolize with lines: inflating libc6-dbg's zlib-compressed sections only as far as the address's unit needs them (\`.debug_aranges\` whole, \`.debug_info\` to the end of the unit, \`.debug_line\` to the end of its line program, \`.debug_abbrev\` to the start of its table; the unit as llvm-dwarfdump finds it, each prefix the shortest start of the stream that inflates that far; CPU time in run.mjs's Node.js, the least of 5), and the first symbolize's CPU time over it; the same inflates once in a fresh Node.js process (the least of 5 processes: a fresh process also pays the first touch of every page of the output, which on this kind of virtual machine costs about as much as the inflating), and the first symbolize over that; and what inflating \`.debug_info\` and \`.debug_line\` whole costs. A zlib stream has no random access, so the unit of one address needs the stream inflated from its start up to that unit; procmap inflates (and reads from the file) only that far, found through \`.debug_aranges\`, so an address whose unit lies early in the section pays a fraction of it, one near the end most of it. "Process" is the wall time from spawn to exit, measured outside (medians); the import's cost is the import process's minus the empty one's. Inside the process, the import and the first \`symbolize()\` are timed by the clock and by the main thread's CPU time (\`/proc/thread-self/schedstat\`: what the process ran, not what it waited for a CPU). The package as npm ships it (\`dist/bundle/mod.js\`, what its \`exports\` name: tsc's output bundled) and, for comparison, tsc's output unbundled (\`dist/mod.js\`, what the package shipped before) and, in Deno, the source (\`mod.ts\`) and the package installed in a project's \`node_modules\` and imported by its name (empty script and import only), as a package.json dependency loads it: Deno parses a module it reads outside \`node_modules\` for its module graph first, on another thread, a cost in proportion to the module's size that a package's files in \`node_modules\` do not pay (an \`npm:\` specifier's files from Deno's own cache are not measured here). "Floor": the same runtime, in the same rounds, importing the same way a module of the same code that runs none of it (the chunks the package imports at load, each inside a function that is never called): what loading that much code costs the runtime, below which no top-level laziness can go; only less code at import (or a runtime's code cache) goes lower.`,
      ``,
    );
    const rows = Object.entries(data.startup).map(([label, s]) => [
      label,
      ms(s.emptyMs),
      ms(s.importProcessMs),
      ms(s.importOverEmptyMs),
      ms(s.floorOverEmptyMs),
      `${ms(s.importMs)} / ${ms(s.importCpuMs)}`,
      `${ms(s.symbolizeMs)} / ${ms(s.symbolizeCpuMs)}`,
      `${ms(s.warmSymbolizeMs)} / ${ms(s.warmSymbolizeCpuMs)}`,
      `${ms(s.noLinesSymbolizeMs)} / ${ms(s.noLinesSymbolizeCpuMs)}`,
      ms(s.unitInflateFloorMs),
      s.unitInflateFloorMs === undefined ? "–" : ms(s.symbolizeCpuMs - s.unitInflateFloorMs),
      ms(s.unitInflateFreshFloorMs),
      s.unitInflateFreshFloorMs === undefined ? "–" : ms(s.symbolizeCpuMs - s.unitInflateFreshFloorMs),
      s.symbol ?? "–",
    ]);
    out.push(
      table([
        "runtime",
        "empty script",
        "import",
        "import over empty",
        "floor over empty",
        "import in process (wall / CPU)",
        "first symbolize() (wall / CPU)",
        "the same, procmap's code warm",
        "the same, \`lines: false\`",
        "symbolize floor: inflating to the unit (CPU)",
        "first symbolize() over the floor (CPU)",
        "the floor in a fresh process (CPU)",
        "first symbolize() over that (CPU)",
        "symbol",
      ], rows),
      ``,
    );
    const detail = Object.values(data.startup).find((s) => s.unitFloorDetail)?.unitFloorDetail;
    if (detail) out.push(`The floor inflated: ${detail}.`, ``);
  }
  return out;
}
