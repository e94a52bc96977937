/**
 * Folded stacks (Brendan Gregg's format, what `stackcollapse-perf.pl` writes
 * and `flamegraph.pl`, speedscope, inferno and most flame-graph tools read):
 * one line per distinct stack, `root;...;leaf count`.
 * @module
 */
import { type FrameView, rootFirst } from "./frames.ts";
import type { AggregatedSample } from "./types.ts";

/** Options for {@link ProfileBuilder.toFolded}. */
export interface FoldedOptions {
  /** Which value to count: a sample type's name or index (default the first). */
  value?: string | number;
  /**
   * Root frames made of sample fields and labels, outermost first: `"pid"`,
   * `"tid"`, or a label's name (e.g. `["comm"]`, as stackcollapse-perf puts
   * the command first). Default none.
   */
  rootLabels?: readonly string[];
  /** Suffix kernel frames with `_[k]` and JIT frames with `_[j]` (flamegraph.pl colours them; default false). */
  annotate?: boolean;
}

/** A name as one frame of a folded line: no `;` (the separator) and no line breaks. */
export function foldedName(name: string): string {
  return /[;\n\r]/.test(name) ? name.replace(/;/g, ":").replace(/[\n\r]/g, " ") : name;
}

function frameName(f: FrameView, annotate: boolean): string {
  const n = foldedName(f.name);
  if (!annotate) return n;
  return f.kernel ? `${n}_[k]` : f.jit ? `${n}_[j]` : n;
}

/** The value of a root label of `s`, or undefined when it has none. */
export function rootLabel(s: AggregatedSample, key: string): string | undefined {
  if (key === "pid") return String(s.pid);
  if (key === "tid") return s.tid === undefined ? undefined : String(s.tid);
  const v = s.labels?.[key];
  return v === undefined ? undefined : String(v);
}

/** Folded lines of `samples`, value `index`, sorted (as stackcollapse sorts them); a sample worth 0 is left out. */
export function writeFolded(samples: readonly AggregatedSample[], index: number, opts: FoldedOptions): string {
  const annotate = opts.annotate === true;
  const sums = new Map<string, number>();
  for (const s of samples) {
    const v = s.values[index];
    if (v === 0) continue;
    const parts: string[] = [];
    for (const key of opts.rootLabels ?? []) {
      const l = rootLabel(s, key);
      if (l !== undefined) parts.push(foldedName(l));
    }
    for (const f of rootFirst(s)) parts.push(frameName(f, annotate));
    const line = parts.join(";");
    sums.set(line, (sums.get(line) ?? 0) + v);
  }
  const lines = [...sums.keys()].sort();
  let out = "";
  for (const l of lines) out += `${l} ${sums.get(l)}\n`;
  return out;
}
