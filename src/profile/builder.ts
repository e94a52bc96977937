/**
 * `ProfileBuilder`: sampled stacks in, named profiles out. Samples are kept
 * until a batch is named (every distinct address of a process in one
 * `symbolize()` call, kernel addresses in one `symbolizeKernel()` call,
 * through one Symbolizer), then only their locations and values are kept,
 * equal stacks summed.
 * @module
 */
import { booleanOption, choiceOption, describeValue, ownOptions, toAddress } from "../options.ts";
import { checkDebugDirs, Symbolizer } from "../symbolize/symbolizer.ts";
import type { SymbolizeOptions } from "../symbolize/symbolize.ts";
import { ProcessHandles } from "./handles.ts";
import { nameBatch, type PendingSample } from "./name_batch.ts";
import { type MappingFlags, mappingFlags, type MappingRecord, ProfileStore } from "./store.ts";
import { type FoldedOptions, writeFolded } from "./folded.ts";
import { type PprofOptions, writePprof } from "./pprof.ts";
import { type SpeedscopeFile, writeSpeedscope } from "./speedscope.ts";
import { type TopFunction, topFunctions } from "./top.ts";
import type {
  AggregatedSample,
  FlushStats,
  ProfileBuilderOptions,
  ProfileFunction,
  ProfileLocation,
  ProfileMapping,
  ProfileSample,
  ValueTypeSpec,
} from "./types.ts";

const KEYS = new Set([
  "symbolizer",
  "sampleTypes",
  "periodType",
  "period",
  "demangle",
  "debugDirs",
  "perfMap",
  "strategy",
  "returnAddresses",
  "lines",
  "inlines",
  "maxPendingSamples",
  "maxOpenProcesses",
  "timeNanos",
]);
const STRATEGIES = ["auto", "ioctl", "text"] as const;
const PPROF_KEYS = new Set(["gzip", "comments", "durationNanos", "defaultSampleType"]);
const FOLDED_KEYS = new Set(["value", "rootLabels", "annotate"]);
const SPEEDSCOPE_KEYS = new Set(["value", "name"]);
const TOP_KEYS = new Set(["value", "limit"]);
const SAMPLE_KEYS = new Set(["pid", "tid", "stack", "kernelFrames", "values", "labels"]);
const KERNEL_START = 0xffff800000000000n;
const VSYSCALL_START = 0xffffffffff600000n;
const VSYSCALL_END = 0xffffffffff601000n;
/** Frames kept per sample at most (perf's own bound is 127 by default; the kernel's hard limit is far lower than this). */
const MAX_FRAMES = 4096;

function checkValueType(v: unknown, what: string): ValueTypeSpec {
  const o = ownOptions(v, what, new Set(["type", "unit"]));
  if (typeof o.type !== "string" || typeof o.unit !== "string") {
    throw new TypeError(`${what} must be { type: string, unit: string }, got ${describeValue(v)}`);
  }
  return { type: o.type, unit: o.unit };
}

function positiveInt(o: Record<string, unknown>, key: string, fallback: number): number {
  const v = o[key] ?? fallback;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) {
    throw new RangeError(`option ${key} must be a positive safe integer, got ${describeValue(v)}`);
  }
  return v;
}

/** Default for `kernelFrames`: the leading frames in the kernel's half, the vsyscall page excepted. */
function leadingKernelFrames(stack: readonly bigint[]): number {
  let n = 0;
  while (n < stack.length && stack[n] >= KERNEL_START && !(stack[n] >= VSYSCALL_START && stack[n] < VSYSCALL_END)) n++;
  return n;
}

/**
 * Builds profiles from sampled stacks: names their addresses in batches
 * through procmap (one Symbolizer, one `symbolize()` per process and batch)
 * and writes pprof (`profile.proto`, gzipped), folded stacks (flame graphs)
 * or speedscope JSON. Addresses that cannot be named keep their address.
 *
 * @example
 * ```ts
 * import { ProfileBuilder } from "./mod.ts";
 * using builder = new ProfileBuilder({
 *   sampleTypes: [{ type: "samples", unit: "count" }, { type: "cpu", unit: "nanoseconds" }],
 *   periodType: { type: "cpu", unit: "nanoseconds" },
 *   period: 10_101_010,
 * });
 * builder.add({ pid: 1234, tid: 1234, stack: [0x55d0c0a01234n, 0x55d0c0a05678n], values: [1, 10_101_010] });
 * const pprof = await builder.toPprof(); // gzipped profile.proto
 * const folded = builder.toFolded(); // "main;work 1\n"
 * ```
 */
export class ProfileBuilder implements Disposable {
  /** The value types, in the order of each sample's `values`. */
  readonly sampleTypes: readonly ValueTypeSpec[];
  /** pprof `period_type`, if given. */
  readonly periodType: ValueTypeSpec | undefined;
  /** pprof `period` (0 when not given). */
  readonly period: number;
  /** The profile's start, in nanoseconds since the epoch. */
  readonly timeNanos: bigint;
  readonly #symbolizer: Symbolizer;
  readonly #handles: ProcessHandles;
  readonly #store = new ProfileStore();
  readonly #symbolizeOptions: SymbolizeOptions;
  readonly #demangle: boolean;
  readonly #debugDirs: readonly string[] | undefined;
  readonly #returnAddresses: boolean;
  readonly #maxPending: number;
  #pending: PendingSample[] = [];
  readonly #samples = new Map<string, AggregatedSample>();
  readonly #warnings = new Set<string>();
  #sampleCount = 0;

  /**
   * An empty builder.
   * @throws {TypeError | RangeError} for bad options.
   */
  constructor(opts?: ProfileBuilderOptions) {
    const o = opts === undefined ? {} : ownOptions(opts, "ProfileBuilder", KEYS);
    if (o.symbolizer !== undefined && !(o.symbolizer instanceof Symbolizer)) {
      throw new TypeError(`option symbolizer must be a Symbolizer, got ${describeValue(o.symbolizer)}`);
    }
    this.#symbolizer = (o.symbolizer as Symbolizer | undefined) ?? new Symbolizer();
    const types = o.sampleTypes ?? [{ type: "samples", unit: "count" }];
    if (!Array.isArray(types) || types.length === 0 || types.length > 64) {
      throw new TypeError(`option sampleTypes must be an array of 1 to 64 value types, got ${describeValue(types)}`);
    }
    this.sampleTypes = Object.freeze(types.map((t, i) => checkValueType(t, `sampleTypes[${i}]`)));
    this.periodType = o.periodType === undefined ? undefined : checkValueType(o.periodType, "periodType");
    const period = o.period ?? 0;
    if (typeof period !== "number" || !Number.isSafeInteger(period) || period < 0) {
      throw new RangeError(`option period must be a non-negative safe integer, got ${describeValue(period)}`);
    }
    this.period = period;
    const time = o.timeNanos ?? BigInt(Date.now()) * 1_000_000n;
    if (typeof time !== "bigint" || time < 0n) {
      throw new TypeError(`option timeNanos must be a non-negative bigint, got ${describeValue(time)}`);
    }
    this.timeNanos = time;
    this.#demangle = booleanOption(o, "demangle", true);
    this.#debugDirs = o.debugDirs === undefined ? undefined : checkDebugDirs(o.debugDirs, []);
    this.#returnAddresses = booleanOption(o, "returnAddresses", true);
    this.#maxPending = positiveInt(o, "maxPendingSamples", 65536);
    this.#handles = new ProcessHandles(positiveInt(o, "maxOpenProcesses", 64));
    this.#symbolizeOptions = {
      symbolizer: this.#symbolizer,
      demangle: this.#demangle,
      perfMap: booleanOption(o, "perfMap", true),
      strategy: choiceOption(o, "strategy", STRATEGIES, "auto"),
      lines: booleanOption(o, "lines", true),
      inlines: booleanOption(o, "inlines", true),
      ...(this.#debugDirs ? { debugDirs: this.#debugDirs } : {}),
    };
  }

  /** The Symbolizer the builder names addresses with. */
  get symbolizer(): Symbolizer {
    return this.#symbolizer;
  }

  /** Samples added so far (named or waiting). */
  get sampleCount(): number {
    return this.#sampleCount;
  }

  /** Samples waiting to be named. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  /** Things the user should know (kernel addresses hidden, processes gone before naming), each once. */
  get warnings(): readonly string[] {
    return [...this.#warnings];
  }

  /**
   * Adds a sample. It is named with its batch, at the next {@link flush}
   * (which the outputs call, and `add` calls itself once
   * `maxPendingSamples` are waiting): the process must still be running
   * then, or only what earlier batches learnt of it can name its addresses.
   * @throws {TypeError | RangeError} for a malformed sample (nothing is added).
   */
  add(sample: ProfileSample): void {
    const s = ownOptions(sample, "sample", SAMPLE_KEYS);
    const pid = s.pid;
    if (typeof pid !== "number" || !Number.isInteger(pid) || pid < 0 || pid > 4194304) {
      throw new RangeError(`sample pid must be an integer from 0 to 4194304, got ${describeValue(pid)}`);
    }
    const tid = s.tid;
    if (tid !== undefined && (typeof tid !== "number" || !Number.isInteger(tid) || tid < 0 || tid > 4194304)) {
      throw new RangeError(`sample tid must be an integer from 0 to 4194304, got ${describeValue(tid)}`);
    }
    const raw = s.stack as ArrayLike<unknown> | undefined;
    if (raw === null || typeof raw !== "object" || typeof raw.length !== "number") {
      throw new TypeError(`sample stack must be an array of addresses, got ${describeValue(raw)}`);
    }
    const n = Math.min(raw.length, MAX_FRAMES);
    const stack = new Array<bigint>(n);
    for (let i = 0; i < n; i++) stack[i] = toAddress(raw[i], `stack[${i}]`);
    let kernelFrames = s.kernelFrames;
    if (kernelFrames === undefined) kernelFrames = leadingKernelFrames(stack);
    else if (typeof kernelFrames !== "number" || !Number.isInteger(kernelFrames) || kernelFrames < 0) {
      throw new RangeError(`sample kernelFrames must be a non-negative integer, got ${describeValue(kernelFrames)}`);
    }
    const values = this.#checkValues(s.values);
    const labels = checkLabels(s.labels);
    this.#pending.push({ pid, tid, stack, kernelFrames: Math.min(kernelFrames as number, n), values, labels });
    this.#sampleCount++;
    if (this.#pending.length >= this.#maxPending) this.flush();
  }

  #checkValues(v: unknown): number[] {
    const k = this.sampleTypes.length;
    if (v === undefined) {
      if (k === 1) return [1];
      throw new TypeError(`sample values are required with ${k} sample types`);
    }
    if (!Array.isArray(v) || v.length !== k) {
      throw new TypeError(`sample values must be an array of ${k} integers, got ${describeValue(v)}`);
    }
    return v.map((x, i) => {
      if (typeof x !== "number" || !Number.isSafeInteger(x)) {
        throw new TypeError(`sample values[${i}] must be a safe integer, got ${describeValue(x)}`);
      }
      return x;
    });
  }

  /**
   * Names the samples waiting: one `symbolize()` per process (its handle
   * opened on first use and kept, bounded), one `symbolizeKernel()`; then
   * keeps only their locations and values.
   */
  flush(): FlushStats {
    const batch = this.#pending;
    this.#pending = [];
    const stats: FlushStats = { samples: batch.length, userAddresses: 0, kernelAddresses: 0, processes: 0, unnamed: 0 };
    if (batch.length === 0) return stats;
    const { stacks, counts } = nameBatch({
      store: this.#store,
      symbolizer: this.#symbolizer,
      handles: this.#handles,
      symbolizeOptions: this.#symbolizeOptions,
      demangle: this.#demangle,
      debugDirs: this.#debugDirs,
      returnAddresses: this.#returnAddresses,
      warn: (m) => this.#warnings.add(m),
    }, batch);
    const pids = new Set<number>();
    for (let i = 0; i < batch.length; i++) {
      const s = batch[i];
      pids.add(s.pid);
      const locations = stacks[i];
      let key = `${s.pid}/${s.tid ?? ""}/`;
      for (const l of locations) key += `${l.id},`;
      if (s.labels) key += JSON.stringify(Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      const agg = this.#samples.get(key);
      if (agg) { for (let j = 0; j < agg.values.length; j++) agg.values[j] += s.values[j]; }
      else this.#samples.set(key, { pid: s.pid, tid: s.tid, locations, values: s.values.slice(), labels: s.labels });
    }
    return { ...stats, ...counts, processes: pids.size };
  }

  /** The named samples, equal stacks (and labels) summed. Flushes first. */
  samples(): AggregatedSample[] {
    this.flush();
    return [...this.#samples.values()];
  }

  /** Every mapping, with its truthful pprof flags. Flushes first. */
  mappings(): (ProfileMapping & MappingFlags)[] {
    this.flush();
    return this.#store.mappings.map((m) => publicMapping(m));
  }

  /** Every function. Flushes first. */
  functions(): readonly ProfileFunction[] {
    this.flush();
    return this.#store.functions;
  }

  /** Every location. Flushes first. */
  locations(): readonly ProfileLocation[] {
    this.flush();
    return this.#store.locations;
  }

  /** The index of a sample type by name (or the index itself); a RangeError when there is none. */
  valueIndex(value: string | number | undefined): number {
    if (value === undefined) return 0;
    const i = typeof value === "number" ? value : this.sampleTypes.findIndex((t) => t.type === value);
    if (!Number.isInteger(i) || i < 0 || i >= this.sampleTypes.length) {
      const names = this.sampleTypes.map((t) => t.type).join(", ");
      throw new RangeError(`no sample type ${describeValue(value)} (this profile has: ${names})`);
    }
    return i;
  }

  /**
   * The profile as pprof's `profile.proto`, gzipped (`gzip: false` for the
   * bare protobuf). Flushes first. Each sample carries the labels `pid`,
   * `tid` (numbers) and its own.
   */
  toPprof(opts?: PprofOptions): Promise<Uint8Array> {
    const o = opts === undefined ? {} : ownOptions(opts, "toPprof", PPROF_KEYS) as PprofOptions;
    const samples = this.samples();
    return writePprof({
      sampleTypes: this.sampleTypes,
      periodType: this.periodType,
      period: this.period,
      timeNanos: this.timeNanos,
      samples,
      store: this.#store,
    }, o);
  }

  /**
   * Folded stacks, `root;...;leaf count` per line (flame graphs). Flushes
   * first. Addresses nobody could name appear as `0x<address>`.
   */
  toFolded(opts?: FoldedOptions): string {
    const o = opts === undefined ? {} : ownOptions(opts, "toFolded", FOLDED_KEYS) as FoldedOptions;
    return writeFolded(this.samples(), this.valueIndex(o.value), o);
  }

  /** The profile in speedscope's JSON format (one sampled profile per process). Flushes first. */
  toSpeedscope(opts?: { value?: string | number; name?: string }): SpeedscopeFile {
    const o = opts === undefined ? {} : ownOptions(opts, "toSpeedscope", SPEEDSCOPE_KEYS);
    const i = this.valueIndex(o.value as string | number | undefined);
    return writeSpeedscope(this.samples(), i, this.sampleTypes[i], String(o.name ?? "procmap profile"));
  }

  /**
   * Functions by their self value (the innermost frame of a sample) and
   * total value (anywhere on its stack), highest self first, and the sum of
   * the value over all samples. Flushes first.
   */
  topFunctions(opts?: { value?: string | number; limit?: number }): { functions: TopFunction[]; sum: number } {
    const o = opts === undefined ? {} : ownOptions(opts, "topFunctions", TOP_KEYS);
    const top = topFunctions(this.samples(), this.valueIndex(o.value as string | number | undefined));
    if (o.limit !== undefined) top.functions.length = Math.min(top.functions.length, positiveInt(o, "limit", 1));
    return top;
  }

  /** Closes the process handles the builder keeps (idempotent); named samples stay readable. */
  close(): void {
    this.#handles.close();
  }

  /** Closes the process handles (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }
}

function publicMapping(m: MappingRecord): ProfileMapping & MappingFlags {
  return {
    id: m.id,
    pid: m.pid,
    kind: m.kind,
    memoryStart: m.memoryStart,
    memoryLimit: m.memoryLimit,
    fileOffset: m.fileOffset,
    filename: m.filename,
    buildId: m.buildId,
    ...mappingFlags(m),
  };
}

function checkLabels(v: unknown): Readonly<Record<string, string | number>> | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new TypeError(`sample labels must be an object of strings and numbers, got ${describeValue(v)}`);
  }
  const out: Record<string, string | number> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === "string" || (typeof x === "number" && Number.isSafeInteger(x))) out[k] = x;
    else {throw new TypeError(
        `sample label ${JSON.stringify(k)} must be a string or a safe integer, got ${describeValue(x)}`,
      );}
  }
  return Object.freeze(out);
}
