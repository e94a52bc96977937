/**
 * Frames as the text outputs show them: each location expanded into its
 * functions (inlined ones included), with a name that a flame-graph tool can
 * carry, and the address for a location nobody could name.
 * @module
 */
import type { AggregatedSample, ProfileLocation } from "./types.ts";

/** One frame of an expanded stack. */
export interface FrameView {
  /** The function's readable name, or `0x<address>` when the address was not named. */
  readonly name: string;
  /** The function's source file, `""` when not known. */
  readonly file: string;
  /** 0 when not known. */
  readonly line: number;
  readonly column: number;
  /** The mapping's file name (`[kernel.kallsyms]`, `[jit]`, a path), `""` when unmapped. */
  readonly module: string;
  readonly kernel: boolean;
  readonly jit: boolean;
}

const cache = new WeakMap<ProfileLocation, readonly FrameView[]>();

/** The frames of a location, innermost first (an inlined function before the function it was inlined into). */
export function framesOf(loc: ProfileLocation): readonly FrameView[] {
  let f = cache.get(loc);
  if (f) return f;
  const module = loc.mapping?.filename ?? "";
  const jit = loc.mapping?.kind === "jit";
  if (loc.lines.length === 0) {
    f = [{ name: `0x${loc.address.toString(16)}`, file: "", line: 0, column: 0, module, kernel: loc.kernel, jit }];
  } else {
    f = loc.lines.map((l) => ({
      name: l.function.name,
      file: l.function.filename,
      line: l.line,
      column: l.column,
      module,
      kernel: loc.kernel,
      jit,
    }));
  }
  cache.set(loc, f);
  return f;
}

/** The frames of a sample, root first (the order of folded stacks and speedscope). */
export function rootFirst(sample: AggregatedSample): FrameView[] {
  const out: FrameView[] = [];
  for (let i = sample.locations.length - 1; i >= 0; i--) {
    const frames = framesOf(sample.locations[i]);
    for (let j = frames.length - 1; j >= 0; j--) out.push(frames[j]);
  }
  return out;
}
