/**
 * speedscope's file format (https://www.speedscope.app/file-format-schema.json):
 * shared frames, and one sampled profile per process with stacks root first
 * and a weight per stack.
 * @module
 */
import { type FrameView, rootFirst } from "./frames.ts";
import type { AggregatedSample, ValueTypeSpec } from "./types.ts";

/** A speedscope file, ready for `JSON.stringify`. */
export interface SpeedscopeFile {
  /** The format's schema. */
  $schema: "https://www.speedscope.app/file-format-schema.json";
  /** Frames, shared by the profiles (the index is a frame's id). */
  shared: { frames: { name: string; file?: string; line?: number; col?: number }[] };
  /** One sampled profile per process: stacks root first, a weight each. */
  profiles: {
    type: "sampled";
    name: string;
    unit: string;
    startValue: number;
    endValue: number;
    samples: number[][];
    weights: number[];
  }[];
  /** The file's title. */
  name: string;
  /** The profile shown first. */
  activeProfileIndex: number;
  /** Who wrote it (`procmap`). */
  exporter: string;
}

const UNITS: Record<string, string> = {
  nanoseconds: "nanoseconds",
  microseconds: "microseconds",
  milliseconds: "milliseconds",
  seconds: "seconds",
  bytes: "bytes",
};

/** The speedscope file of `samples`, weighted by value `index` of type `type`. */
export function writeSpeedscope(
  samples: readonly AggregatedSample[],
  index: number,
  type: ValueTypeSpec,
  name: string,
): SpeedscopeFile {
  const frames: SpeedscopeFile["shared"]["frames"] = [];
  const frameIds = new Map<string, number>();
  const frameId = (f: FrameView): number => {
    const key = `${f.name}\0${f.file}\0${f.line}\0${f.column}\0${f.module}`;
    let id = frameIds.get(key);
    if (id === undefined) {
      id = frames.length;
      frameIds.set(key, id);
      frames.push({
        name: f.file === "" && f.module !== "" && f.name.startsWith("0x") ? `${f.name} (${f.module})` : f.name,
        ...(f.file !== "" ? { file: f.file } : f.module !== "" ? { file: f.module } : {}),
        ...(f.line > 0 ? { line: f.line } : {}),
        ...(f.column > 0 ? { col: f.column } : {}),
      });
    }
    return id;
  };
  const byPid = new Map<number, { samples: number[][]; weights: number[]; total: number }>();
  for (const s of samples) {
    const w = s.values[index];
    if (w === 0) continue;
    let p = byPid.get(s.pid);
    if (!p) byPid.set(s.pid, p = { samples: [], weights: [], total: 0 });
    p.samples.push(rootFirst(s).map(frameId));
    p.weights.push(w);
    p.total += w;
  }
  const unit = UNITS[type.unit] ?? "none";
  return {
    $schema: "https://www.speedscope.app/file-format-schema.json",
    shared: { frames },
    profiles: [...byPid].map(([pid, p]) => ({
      type: "sampled",
      name: `pid ${pid} (${type.type})`,
      unit,
      startValue: 0,
      endValue: p.total,
      samples: p.samples,
      weights: p.weights,
    })),
    name,
    activeProfileIndex: 0,
    exporter: "procmap",
  };
}
