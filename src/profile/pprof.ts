/**
 * pprof's `profile.proto`, encoded with the npm package `pprof-format`
 * (Datadog's encoder, which Pyroscope, Parca, Datadog and Go's `pprof` read)
 * and gzipped, both loaded on first use (the package as util/packages.ts
 * finds it: procmap's own node_modules, else, in Deno, `npm:pprof-format`).
 * @module
 */
import { importPackage, packageFailure } from "../util/packages.ts";
import { mappingFlags, type ProfileStore } from "./store.ts";
import type { AggregatedSample, ValueTypeSpec } from "./types.ts";

/** Options for {@link ProfileBuilder.toPprof}. */
export interface PprofOptions {
  /** Gzip the encoded profile, as pprof files are (default true). */
  gzip?: boolean;
  /** Comments stored in the profile (pprof `comment`). */
  comments?: readonly string[];
  /** The profile's length in nanoseconds (default: from the builder's start until now). */
  durationNanos?: bigint;
  /** The sample type pprof shows first, by name (default: the last one, pprof's own default). */
  defaultSampleType?: string;
}

/** What the writer needs of a builder. */
export interface PprofData {
  sampleTypes: readonly ValueTypeSpec[];
  periodType: ValueTypeSpec | undefined;
  period: number;
  timeNanos: bigint;
  samples: readonly AggregatedSample[];
  store: ProfileStore;
}

/** Encodes `data` as profile.proto (gzipped unless `gzip: false`). */
export async function writePprof(data: PprofData, opts: PprofOptions = {}): Promise<Uint8Array> {
  let pf: typeof import("pprof-format");
  try {
    pf = await importPackage("pprof-format", "^2.3.2") as typeof import("pprof-format");
  } catch (e) {
    throw new Error(packageFailure("the pprof encoder (npm pprof-format)", e).message, { cause: e });
  }
  const strings = new pf.StringTable();
  const str = (s: string) => strings.dedup(s);
  const valueType = (t: ValueTypeSpec) => ({ type: str(t.type), unit: str(t.unit) });
  const sampleType = data.sampleTypes.map(valueType);
  const mapping = data.store.mappings.map((m) => ({
    id: m.id,
    memoryStart: m.memoryStart,
    memoryLimit: m.memoryLimit,
    fileOffset: m.fileOffset,
    filename: str(m.filename),
    buildId: str(m.buildId),
    ...mappingFlags(m),
  }));
  const fn = data.store.functions.map((f) => ({
    id: f.id,
    name: str(f.name),
    systemName: str(f.systemName),
    filename: str(f.filename),
    startLine: f.startLine,
  }));
  const location = data.store.locations.map((l) => ({
    id: l.id,
    mappingId: l.mapping?.id ?? 0,
    address: l.address,
    line: l.lines.map((x) => ({ functionId: x.function.id, line: x.line, column: x.column })),
  }));
  const pidKey = str("pid");
  const tidKey = str("tid");
  const sample = data.samples.map((s) => {
    const label: { key: number; str?: number; num?: number }[] = [{ key: pidKey, num: s.pid }];
    if (s.tid !== undefined) label.push({ key: tidKey, num: s.tid });
    if (s.labels) {
      for (const [k, v] of Object.entries(s.labels)) {
        if (k === "pid" || k === "tid") continue;
        label.push(typeof v === "number" ? { key: str(k), num: v } : { key: str(k), str: str(v) });
      }
    }
    return { locationId: s.locations.map((l) => l.id), value: s.values, label };
  });
  const end = BigInt(Date.now()) * 1_000_000n;
  const defaultType = opts.defaultSampleType === undefined ? 0 : str(opts.defaultSampleType);
  const comment = (opts.comments ?? []).map(str);
  const profile = new pf.Profile({
    sampleType,
    sample,
    mapping,
    location,
    function: fn,
    stringTable: strings,
    timeNanos: data.timeNanos,
    durationNanos: opts.durationNanos ?? (end > data.timeNanos ? end - data.timeNanos : 0n),
    ...(data.periodType ? { periodType: valueType(data.periodType) } : {}),
    period: data.period,
    comment,
    defaultSampleType: defaultType,
  });
  const encoded = profile.encode();
  if (opts.gzip === false) return encoded;
  const { gzipSync } = await import("node:zlib");
  return new Uint8Array(gzipSync(encoded));
}
