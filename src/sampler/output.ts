/**
 * What a profiling run writes: the profile file in the format its name asks
 * for, and the summary of its top functions.
 * @module
 */
import { writeFileSync } from "node:fs";
import type { ProfileBuilder } from "../profile/builder.ts";
import type { RunResult } from "./run.ts";

/** Output formats, by how a file name ends. */
export const FORMATS = [
  { suffix: ".pb.gz", format: "pprof" },
  { suffix: ".pb", format: "pprof-raw" },
  { suffix: ".folded", format: "folded" },
  { suffix: ".speedscope.json", format: "speedscope" },
] as const;

/** The format a file name asks for, or undefined. */
export function formatOf(path: string): (typeof FORMATS)[number]["format"] | undefined {
  return FORMATS.find((f) => path.endsWith(f.suffix))?.format;
}

/** Writes the profile to `path` in the format its name asks for (folded and speedscope count CPU time). */
export async function writeProfile(
  builder: ProfileBuilder,
  path: string,
  comments: string[] = [],
  elapsedMs?: number,
): Promise<void> {
  const format = formatOf(path);
  let bytes: Uint8Array | string;
  switch (format) {
    case "pprof":
    case "pprof-raw":
      bytes = await builder.toPprof({
        gzip: format === "pprof",
        comments,
        defaultSampleType: "cpu",
        ...(elapsedMs !== undefined ? { durationNanos: BigInt(Math.round(elapsedMs * 1e6)) } : {}),
      });
      break;
    case "folded":
      bytes = builder.toFolded({ value: "samples" });
      break;
    case "speedscope":
      bytes = JSON.stringify(builder.toSpeedscope({ value: "cpu", name: comments[0] ?? "procmap profile" }));
      break;
    default:
      throw new TypeError(`cannot tell the format of ${path}: name it *.pb.gz, *.pb, *.folded or *.speedscope.json`);
  }
  writeFileSync(path, bytes);
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** The summary printed after a run: what was sampled, then the top `limit` functions by self samples. */
export function summary(r: RunResult, limit: number): string {
  const { functions, sum } = r.builder.topFunctions({ value: "samples", limit });
  const cpu = (sum * r.periodNs) / 1e9;
  const lines = [
    `${sum} samples (${cpu.toFixed(2)} s of CPU) of pid ${r.pid} in ${(r.elapsedMs / 1000).toFixed(1)} s, ` +
    `${r.stats.threads} thread${r.stats.threads === 1 ? "" : "s"}, ${r.stats.lost} lost records, ` +
    `kernel frames ${r.kernel ? "on" : "off"}`,
    "  self%  total%  samples  function (module)",
  ];
  for (const f of functions) {
    const pct = (v: number) => (sum === 0 ? 0 : (100 * v) / sum).toFixed(1).padStart(5) + "%";
    const module = f.module === "" ? "" : ` (${basename(f.module)})`;
    lines.push(`  ${pct(f.self)}  ${pct(f.total)} ${String(f.self).padStart(8)}  ${f.name}${module}`);
  }
  return lines.join("\n");
}
