/**
 * Ground truth for smaps tests: /proc/<pid>/smaps parsed independently
 * (a regular expression per line, sizes times 1024), keyed by the kernel's
 * own field names.
 */
import { readFileSync } from "node:fs";
import { parseText, type Row } from "./ground_truth.ts";

export interface SmapsTruth {
  row: Row;
  /** Kernel field name -> value (kB fields in bytes). */
  fields: Map<string, number>;
  vmFlags: string[] | undefined;
}

const HEADER = /^[0-9a-f]+-[0-9a-f]+ /;
const FIELD = /^([A-Za-z_]+):\s+(\d+)( kB)?$/;

/** Parses smaps (or smaps_rollup) text. */
export function parseSmapsText(text: string): SmapsTruth[] {
  const out: SmapsTruth[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (HEADER.test(line)) {
      out.push({ row: parseText(line)[0], fields: new Map(), vmFlags: undefined });
      continue;
    }
    const cur = out[out.length - 1];
    if (line.startsWith("VmFlags:")) {
      cur.vmFlags = line.slice(8).trim().split(/ +/).filter((f) => f);
      continue;
    }
    const m = FIELD.exec(line);
    if (!m) throw new Error(`ground truth: unparsable smaps line ${JSON.stringify(line)}`);
    cur.fields.set(m[1], Number(m[2]) * (m[3] ? 1024 : 1));
  }
  return out;
}

export function readSmapsTruth(pid: number | "self", file: "smaps" | "smaps_rollup" = "smaps"): SmapsTruth[] {
  return parseSmapsText(readFileSync(`/proc/${pid}/${file}`, "utf8"));
}

/** The camelCase property the library uses for a kernel field name. */
export function camel(kernelName: string): string {
  const special: Record<string, string> = { MMUPageSize: "mmuPageSize", KSM: "ksm", THPeligible: "thpEligible" };
  if (special[kernelName]) return special[kernelName];
  const s = kernelName.replaceAll("_", "");
  return s[0].toLowerCase() + s.slice(1);
}
