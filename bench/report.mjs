// The report of a benchmark run (bench/RESULTS.md) and its chart (bench/chart.svg),
// rendered from the data bench/run.mjs collects: { quick, argv, info, config, c, js,
// runtimes, suites, seconds, pointAddrs }.
import { crossoverPath } from "./charts.mjs";
import { renderReplay } from "./report_replay.mjs";
import { caseSections, caseTargets } from "./report_cases.mjs";
import {
  cAloneTable,
  caseTable,
  cBest,
  fmtNs,
  fmtRatio,
  jsResult,
  RUNTIME_LABEL,
  STAT,
  table,
} from "./report_util.mjs";

/** Evaluates the issue's targets; one row per target and runtime. */
function evaluateTargets(data) {
  const sizes = data.config.targets.map((t) => t.size);
  const rows = [];
  const worst = (pairs) =>
    pairs.filter((p) => p.value !== undefined).reduce((a, b) => (a && a.value >= b.value ? a : b), undefined);
  const best = (pairs) =>
    pairs.filter((p) => p.value !== undefined).reduce((a, b) => (a && a.value <= b.value ? a : b), undefined);
  const status = (v, ok) => (v === undefined ? "pending" : ok ? "met" : "**missed**");
  for (const rt of data.runtimes) {
    const R = RUNTIME_LABEL[rt];
    const ns = (suite, caseId, size, task) => jsResult(data, rt, suite, caseId, size, task)?.[STAT];
    const median = (suite, caseId, size, task) => jsResult(data, rt, suite, caseId, size, task)?.nsPerOp;
    const ratio = (a, b) => (a !== undefined && b !== undefined ? a / b : undefined);

    const ran = (suite) => data.js[rt]?.[suite] !== undefined;
    // The bare-FFI floor next to each ioctl target: what the binding alone costs over C.
    const floorOf = (caseId, mode) =>
      worst(sizes.map((s) => ({
        value: ratio(ns(caseId, caseId, s, "bare ioctl (floor)"), cBest(data, rt, s, mode)),
        where: `@${s}`,
      })));
    const withFloor = (
      w,
      f,
    ) => (w ? `${fmtRatio(w.value)} (${w.where})${f ? `; floor ${fmtRatio(f.value)}` : ""}` : "–");
    if (ran("point")) {
      const w = worst(
        sizes.flatMap((s) =>
          [["no name", "point-noname"], ["name", "point-name"], ["name + build ID", "point-buildid"]]
            .map(([task, mode]) => ({
              value: ratio(ns("point", "point", s, task), cBest(data, rt, s, mode)),
              where: `${task} @${s}`,
            }))
        ),
      );
      rows.push([
        `JS point query ≤ 1.15× C (worst)`,
        R,
        withFloor(w, floorOf("point", "point-noname")),
        status(w?.value, w?.value <= 1.15),
      ]);
    }
    if (ran("walk")) {
      const walkTarget = (label, task, mode, limit, floor) => {
        const w = worst(
          sizes.map((s) => ({
            value: ratio(ns("walk", "walk", s, task), cBest(data, rt, s, mode)),
            where: `@${s}`,
          })),
        );
        rows.push([label, R, withFloor(w, floor), status(w?.value, w?.value <= limit)]);
      };
      // A floor made of floor tasks' costs added per size: a table() pays the system calls, its
      // own fresh columns, and then its caller's loop over the columns (table read).
      const floorSum = (tasks, mode) =>
        worst(sizes.map((s) => {
          const parts = tasks.map((t) => ns("walk", "walk", s, t));
          return {
            value: parts.every((p) => p !== undefined)
              ? ratio(parts.reduce((a, b) => a + b, 0), cBest(data, rt, s, mode))
              : undefined,
            where: `@${s}`,
          };
        }));
      const ioctlFloor = floorSum(["bare ioctl (floor)"], "walk-ioctl");
      const textFloor = floorSum(["bare read (floor)"], "walk-text");
      walkTarget(`full ioctl walk ≤ 1.2× C (worst)`, "ioctl", "walk-ioctl", 1.2, ioctlFloor);
      walkTarget(
        `ioctl table() ≤ 1.1× C walk (worst)`,
        "ioctl table()",
        "walk-ioctl",
        1.1,
        floorSum(["bare ioctl (floor)", "fresh columns (floor)", "table read (floor)"], "walk-ioctl"),
      );
      walkTarget(`text walk ≤ 1.5× C read + parse (worst)`, "text", "walk-text", 1.5, textFloor);
      walkTarget(
        `text table() ≤ 1.25× C read + parse (worst)`,
        "text table()",
        "walk-text",
        1.25,
        floorSum(["bare read (floor)", "fresh columns (floor)", "table read (floor)"], "walk-text"),
      );
    }
    if (ran("parse")) {
      const w = worst(
        sizes.map((s) => ({
          value: ratio(ns("parse", "parse", s, "procmap"), cBest(data, rt, s, "parse")),
          where: `@${s}`,
        })),
      );
      rows.push([
        `text parse ≤ 1.5× C (worst)`,
        R,
        w ? `${fmtRatio(w.value)} (${w.where})` : "–",
        status(w?.value, w?.value <= 1.5),
      ]);
      const b = best(
        sizes.map((s) => ({
          value: ratio(ns("parse", "parse", s, "baseline"), ns("parse", "parse", s, "procmap")),
          where: `@${s}`,
        })),
      );
      rows.push([
        `text parse ≥ 3× faster than the baseline (least)`,
        R,
        b ? `${fmtRatio(b.value)} (${b.where})` : "–",
        status(b?.value, b?.value >= 3),
      ]);
    }
    if (ran("resolve")) {
      const counts = data.config.resolve.samples.map((s) => s.count);
      const w = worst(counts.map((k) => {
        const auto = ns("resolve", "resolve", k, "resolve auto");
        const fixed = [ns("resolve", "resolve", k, "resolve ioctl"), ns("resolve", "resolve", k, "resolve text")]
          .filter((x) => x !== undefined);
        return { value: fixed.length === 2 ? ratio(auto, Math.min(...fixed)) : undefined, where: `${k} addresses` };
      }));
      rows.push([
        `planner ≤ 1.1× best fixed strategy (worst)`,
        R,
        w ? `${fmtRatio(w.value)} (${w.where})` : "–",
        status(w?.value, w?.value <= 1.1),
      ]);
      const k = 100;
      const gain = ratio(ns("resolve", "resolve", k, "text re-read"), ns("resolve", "resolve", k, "resolve auto"));
      rows.push([
        `resolve() ≥ 20× cheaper than a text re-read (100 addresses, ${data.config.resolve.target.vmas} VMAs)`,
        R,
        gain !== undefined ? `${fmtRatio(gain)}` : "–",
        status(gain, gain >= 20),
      ]);
    }
    rows.push(...caseTargets(data, rt));
    if (ran("smaps")) {
      // Medians: the suite interleaves its C and JS runs itself (see case 6).
      const v = ratio(median("smaps", "smaps", 10000, "smapsSync"), median("smaps", "smaps", 10000, "C read+parse"));
      rows.push([
        `smapsSync() ≤ 1.3× C reading and parsing smaps (10000 VMAs)`,
        R,
        v !== undefined ? fmtRatio(v) : "–",
        status(v, v <= 1.3),
      ]);
    }
    if (ran("symbolize")) {
      const warm = median("symbolize", "symbolize", 100000, "symbolize warm");
      rows.push([
        `symbolize() warm ≤ 0.5 µs per address (100,000 addresses)`,
        R,
        fmtNs(warm),
        status(warm, warm <= 500),
      ]);
      const cold = median("symbolize", "symbolize-cold", 1, "cold libc");
      rows.push([`cold libc with its debug file < 20 ms`, R, fmtNs(cold), status(cold, cold < 20e6)]);
      const demangleGain = ratio(
        median("symbolize", "demangle", 100000, "wasm demangle"),
        median("symbolize", "demangle", 100000, "demangle"),
      );
      rows.push([
        `demangle() of 100,000 names no slower than the WebAssembly demangler it replaced`,
        R,
        demangleGain !== undefined ? `${fmtRatio(demangleGain)} faster` : "–",
        status(demangleGain, demangleGain >= 1),
      ]);
      const ours = median("symbolize", "symbolize-file", 1000, "symbolizeFile warm");
      for (const tool of ["addr2line", "llvm-symbolizer"]) {
        const gain = ratio(median("symbolize", "symbolize-file", 1000, tool), ours);
        rows.push([
          `symbolizeFile() ≥ 20× cheaper per address than ${tool} (which also reads line tables)`,
          R,
          gain !== undefined ? fmtRatio(gain) : "–",
          status(gain, gain >= 20),
        ]);
      }
    }
  }
  return rows;
}

/** The Markdown report of a run, and one line per target for the log. */
export function renderReport(data, chartPath) {
  const { info, config } = data;
  const sizes = config.targets.map((t) => t.size);
  const targetRows = evaluateTargets(data);
  const out = [];
  out.push(`# procmap benchmark results`, ``);
  out.push(
    `Generated by \`node bench/run.mjs${data.argv.length ? " " + data.argv.join(" ") : ""}\` (${
      data.quick ? "quick mode: small sizes, short runs, indicative only" : "full run"
    }); do not edit by hand.`,
    ``,
  );
  out.push(`- Machine: ${info.cpu}, ${info.cores} cores; ${info.kernel}; load average at start ${info.loadavg}`);
  out.push(
    `- Runtimes: ${info.deno}; ${info.bun}; ${info.node26 ?? "no Node 26"}; C: ${info.gcc} \`-O2\`; ${info.node}`,
  );
  out.push(`- Date: ${info.date}; the run took ${data.seconds.toFixed(0)} s`);
  out.push(
    `- Method: a target process (bench/target.c) per size; each measurement runs a batch (every query address, one whole walk, one parse) per sample, many times. Tables and ratios give the fastest batch divided by the operations in it, for JS and C alike (on a shared machine interference only adds time; medians are in bench/out/raw.json); the smaps (case 6, which interleaves its own C runs) and symbolization (case 7) figures are medians. C (bench/ref.c, gcc \`-O2\`) is measured two ways. In each runtime's suite process: as a shared library called once per batch through that runtime's FFI, timed by the same tinybench loop, every task, C's among them, running in ${config.rounds} interleaved rounds (${config.timeMs} ms per task in all, after ${config.warmupMs} ms of warm-up), so a slow stretch of the host's falls on C and JS alike. And as its own program (\`clock_gettime(CLOCK_MONOTONIC)\` around each batch), right before the first runtime's suites and right after the last one's, the better of the two. Each runtime's \`C\` column and ratios use the lower of C in its process and C alone, so neither way of measuring C can flatter JS; the table below shows both. C's ioctl walk is costed per VMA as JS counts them (the ioctl never reports [vsyscall], which procmap's walk adds from the text). Ratios above 1× are slower than the reference.`,
  );
  out.push(``);
  const alone = cAloneTable(data);
  if (alone) out.push(alone, ``);
  if (targetRows.length) {
    out.push(`## Targets`, ``, table(["target", "runtime", "measured", "status"], targetRows), ``);
  }
  if (data.suites.includes("point")) {
    out.push(`## 1. Point query (PROCMAP_QUERY), per query`, ``);
    out.push(
      `The same ${
        Math.min(data.pointAddrs, config.targets.at(-1)?.vmas ?? data.pointAddrs)
      } (or fewer) addresses, spread evenly over the target's VMAs (one VMA in ten is file-backed: half this program's ELF file, with a build ID, half a data file without). JS on an ioctl handle: \`maps.query(addr, { name: false })\`, \`maps.query(addr)\`, \`maps.query(addr, { buildId: true })\` (option objects made once), each loop reading \`start\`, \`end\` and \`name\`; the floor: the same queries as bare \`ioctl()\` calls through procmap's own binding (struct written, \`vma_start\` and \`vma_end\` read back as bigints), what the FFI alone costs; C: a bare \`ioctl()\` with a 256-byte name buffer.`,
      ``,
    );
    out.push(
      caseTable(data, {
        suite: "point",
        sizes,
        refLabel: "/ C",
        specs: [
          { label: "bare ioctl (floor)", task: "bare ioctl (floor)", c: "point-noname", vs: "C" },
          { label: "no name", task: "no name", c: "point-noname", vs: "C" },
          { label: "name", task: "name", c: "point-name", vs: "C" },
          { label: "name + build ID", task: "name + build ID", c: "point-buildid", vs: "C" },
        ],
      }),
      ``,
    );
  }
  if (data.suites.includes("walk")) {
    out.push(`## 2. Full walk of all VMAs, per VMA`, ``);
    out.push(
      `JS: \`for (const v of maps.vmasSync())\` with names, and \`maps.table()\` (columns, no Vma per row), on a handle kept open (ioctl backend: one ioctl per VMA; text backend: read + parse + a Vma per line), each loop reading \`start\`, \`end\` and \`name\`; the floors: the ioctl walk as bare calls through procmap's own binding (start and end read back, the name left as bytes), the whole text read through it with \`pread\` into a kept buffer, not parsed (what the kernel's printing and the FFI cost before any parser starts), and the loop reading a table taken beforehand (\`table read\`: what a caller pays per row for the two bigints and the name, with no system call; its ratio is to C's whole text walk, where C reads a row for about a nanosecond), and fresh columns for a table of that many named rows (one \`ArrayBuffer\` and a typed-array view per column, unfilled: what each \`table()\` pays for its own columns in that runtime, ratio likewise to C's text walk). The table() targets' floors add these up: the system calls, fresh columns, and the caller's table read. C: the ioctl walk with names; the text read with \`pread\` + the hand-written parser, then each row's start, end and name length read (as the JS loops read them). Baseline: \`readFileSync\` + split + regex + BigInt (bench/baseline_parser.ts). Ratios: ioctl vs C ioctl, text and baseline vs C text.`,
      ``,
    );
    out.push(
      caseTable(data, {
        suite: "walk",
        sizes,
        refLabel: "/ C",
        specs: [
          { label: "bare ioctl (floor)", task: "bare ioctl (floor)", c: "walk-ioctl", vs: "C" },
          { label: "ioctl", task: "ioctl", c: "walk-ioctl", vs: "C" },
          { label: "ioctl table()", task: "ioctl table()", c: "walk-ioctl", vs: "C" },
          { label: "table read (floor)", task: "table read (floor)", c: "walk-text", vs: "C" },
          { label: "fresh columns (floor)", task: "fresh columns (floor)", c: "walk-text", vs: "C" },
          { label: "bare read (floor)", task: "bare read (floor)", c: "walk-text", vs: "C" },
          { label: "text", task: "text", c: "walk-text", vs: "C" },
          { label: "text table()", task: "text table()", c: "walk-text", vs: "C" },
          { label: "baseline (regex)", task: "baseline", c: "walk-text", vs: "C" },
        ],
      }),
      ``,
    );
    out.push(`![cost per VMA of a full walk vs number of VMAs](${chartPath.split("/").pop()})`, ``);
  }
  if (data.suites.includes("parse")) {
    out.push(`## 3. Parsing a saved maps text, per line`, ``);
    out.push(
      `No system calls: the target's maps text, saved when it was ready, parsed from memory. \`procmap\`: \`parseMaps(bytes, length, pageSize, pid, names, spare)\` (columns, names left as byte ranges, like the C parser; each parse into the table of the one before, as the text backend's snapshots are, and as the C parser keeps its row array); \`procmap + Vma objects\` also builds every \`Vma\` with its name string; the baseline gets the text already decoded as a string.`,
      ``,
    );
    out.push(
      caseTable(data, {
        suite: "parse",
        sizes,
        refLabel: "/ C",
        specs: [
          { label: "procmap", task: "procmap", c: "parse", vs: "C" },
          { label: "procmap + Vma objects", task: "procmap + Vma objects", c: "parse", vs: "C" },
          { label: "baseline (regex)", task: "baseline", c: "parse", vs: "C" },
        ],
      }),
      ``,
    );
    out.push(
      caseTable(data, {
        suite: "parse",
        sizes,
        refLabel: "/ baseline",
        specs: [
          { label: "procmap", task: "procmap", vs: "baseline" },
          { label: "procmap + Vma objects", task: "procmap + Vma objects", vs: "baseline" },
        ],
      }),
      ``,
    );
  }
  if (data.suites.includes("resolve")) {
    const r = config.resolve;
    out.push(`## 4. Profiler batch over ${r.target.vmas} VMAs, per address`, ``);
    const notes = [...new Set(data.runtimes.flatMap((rt) => data.js[rt]?.resolve?.notes ?? []))];
    out.push(
      `Sampled addresses: a random VMA, then a random 8-byte-aligned address in it (fixed seed), so nearly every address is in a different VMA: the hardest case for the ioctl. \`resolve\` runs with its defaults (names, build IDs, ELF addresses) on a handle kept open; \`query() per address\`: one ioctl each; \`text re-read\`: \`refresh()\` then \`query()\` per address on a text handle (reads and parses the whole text once per batch); \`table() + find()\`: one columnar snapshot (through the ioctl, or the text) and a binary search per address; \`baseline re-read\`: the idiomatic parser plus a binary search. Ratios vs the text re-read.`,
      ``,
    );
    if (notes.length) out.push(...notes.map((n) => `- ${n}`), ``);
    out.push(
      caseTable(data, {
        suite: "resolve",
        sizes: r.samples.map((s) => s.count),
        refLabel: "/ text re-read",
        specs: [
          "query() per address",
          "text re-read",
          "ioctl table() + find()",
          "text table() + find()",
          "baseline re-read",
          "resolve ioctl",
          "resolve text",
          "resolve auto",
        ].map((task) => ({
          label: task,
          task,
          vs: "text re-read",
          vmasLabel: (k) => `${k} addr.`,
        })),
        first: "batch",
      }),
      ``,
    );
    out.push(
      `Totals per batch, the choice a tool has to make: per-address queries cost in proportion to the batch, a snapshot in proportion to the process; they cross where the lines meet.`,
      ``,
      `![time per batch vs addresses per batch](${crossoverPath(chartPath).split("/").pop()})`,
      ``,
    );
  }
  if (data.suites.includes("async")) {
    out.push(`## 5. Async iteration overhead, per VMA`, ``);
    out.push(
      `\`for await (const v of maps.vmas())\` vs \`for (const v of maps.vmasSync())\` over the same VMAs (the async form yields to the event loop every 8 ms).`,
      ``,
    );
    for (const backend of ["ioctl", "text"]) {
      out.push(`${backend} backend:`, ``);
      out.push(
        caseTable(data, {
          suite: "async",
          caseId: `async-${backend}`,
          sizes,
          refLabel: "/ sync",
          specs: [
            { label: "sync", task: "sync" },
            { label: "for await", task: "for await", vs: "sync" },
          ],
        }),
        ``,
      );
    }
  }
  if (data.suites.includes("smaps")) {
    out.push(`## 6. smaps, per VMA`, ``);
    const notes = data.runtimes.flatMap((rt) =>
      (data.js[rt]?.smaps?.notes ?? []).map((n) => `${RUNTIME_LABEL[rt]}: ${n}`)
    );
    out.push(
      `\`smapsSync()\` (read, parse, one entry per VMA with its Vma) vs C reading and parsing the same smaps text, and C only reading it: the kernel's page-table walk, which dominates. C is measured by the suite itself, before and after the JS task.`,
      ``,
    );
    if (notes.length) out.push(...notes.map((n) => `- ${n}`), ``);
    const smapsSizes = [
      ...new Set(data.runtimes.flatMap((rt) => (data.js[rt]?.smaps?.results ?? []).map((r) => r.size))),
    ]
      .sort((a, b) => a - b);
    out.push(
      caseTable(data, {
        suite: "smaps",
        stat: "nsPerOp",
        sizes: smapsSizes,
        refLabel: "/ C read+parse",
        specs: [
          { label: "smapsSync()", task: "smapsSync", vs: "C read+parse" },
          { label: "C read + parse", task: "C read+parse" },
          { label: "C read only (kernel)", task: "C read (kernel)", vs: "C read+parse" },
        ],
      }),
      ``,
    );
  }
  if (data.suites.includes("symbolize")) {
    out.push(`## 7. Symbolization, per address`, ``);
    const notes = data.runtimes.flatMap((rt) =>
      (data.js[rt]?.symbolize?.notes ?? []).map((n) => `${RUNTIME_LABEL[rt]}: ${n}`)
    );
    out.push(
      `Names only (\`lines: false\`; names with source lines and inlined frames: bench/LINES.md). Warm: \`maps.symbolize()\` of 100,000 addresses sampled from a C++ process's executable file mappings (a fixed seed), every symbol table already in the Symbolizer's cache; \`resolve()\` of the same batch beside it. Cold: the first \`symbolizeFile()\` of libc, named from libc6-dbg's debug file, with a fresh Symbolizer (open, build ID, debug file, symbol tables). Tools: the same 1,000 (libc, ELF address) pairs through \`symbolizeFile()\` (warm), \`addr2line -f -e\` and \`llvm-symbolizer\`; a tool's cost is its marginal cost per address (one process for the 1,000 minus one for one address, so start-up is left out), and it includes reading DWARF line tables (file:line), which procmap does not do here. Ratios vs procmap.`,
      ``,
    );
    if (notes.length) out.push(...notes.map((n) => `- ${n}`), ``);
    out.push(
      caseTable(data, {
        suite: "symbolize",
        stat: "nsPerOp",
        sizes: [100000],
        refLabel: "/ resolve",
        first: "batch",
        specs: [
          { label: "symbolize() warm", task: "symbolize warm", vs: "resolve", vmasLabel: () => "100,000 addr." },
          { label: "resolve()", task: "resolve", vmasLabel: () => "100,000 addr." },
        ],
      }),
      ``,
    );
    out.push(
      caseTable(data, {
        suite: "symbolize",
        stat: "nsPerOp",
        caseId: "symbolize-cold",
        sizes: [1],
        first: "batch",
        specs: [{ label: "cold libc + debug file (per call)", task: "cold libc", vmasLabel: () => "1 addr." }],
      }),
      ``,
    );
    out.push(
      caseTable(data, {
        suite: "symbolize",
        stat: "nsPerOp",
        caseId: "symbolize-file",
        sizes: [1000],
        refLabel: "/ procmap",
        first: "batch",
        specs: [
          { label: "symbolizeFile() warm", task: "symbolizeFile warm", vmasLabel: () => "1,000 addr." },
          ...["addr2line", "llvm-symbolizer"].map((task) => ({
            label: `${task} (marginal)`,
            task,
            vs: "symbolizeFile warm",
            vmasLabel: () => "1,000 addr.",
          })),
        ],
      }),
      ``,
    );
    out.push(
      `Demangling: 100,000 mangled names of the Node 26 binary (\`.symtab\` and \`.dynsym\`, a fixed spread) through procmap's \`demangle()\` and, interleaved in the same process, the WebAssembly demangler it replaced (\`gecko-profiler-demangle\` 0.4, a devDependency kept for this comparison), per name. procmap's output equals \`c++filt -i\`'s on every name (\`bench/demangle_corpus.ts\`); the WebAssembly demangler's does not (see the note above).`,
      ``,
      caseTable(data, {
        suite: "symbolize",
        stat: "nsPerOp",
        caseId: "demangle",
        sizes: [100000],
        refLabel: "/ procmap",
        first: "batch",
        specs: [
          { label: "demangle() (procmap)", task: "demangle", vmasLabel: () => "100,000 names" },
          {
            label: "gecko-profiler-demangle (WebAssembly)",
            task: "wasm demangle",
            vs: "demangle",
            vmasLabel: () => "100,000 names",
          },
        ],
      }),
      ``,
    );
  }
  const replay = data.suites.includes("replay") ? renderReplay(data) : { lines: [], targetLines: [] };
  out.push(...replay.lines);
  out.push(...caseSections(data));
  const notes = data.notes ?? [];
  if (notes.length) out.push(`## Notes`, ``, ...notes.map((n) => `- ${n}`), ``);
  const targetLines = targetRows.map((r) => `target: ${r[0]} [${r[1]}]: ${r[2]} -> ${r[3].replaceAll("*", "")}`);
  return { markdown: out.join("\n"), targetLines: [...targetLines, ...replay.targetLines] };
}
