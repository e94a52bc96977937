/**
 * Every option type of the public API and its check, done before any
 * system call. Options are read from the object's own properties only
 * (an inherited `Object.prototype.backend` changes nothing), each once.
 * @module
 */
import { DEFAULT_REQUEST, FLAG, type Request, WANT_BUILD_ID, WANT_NAME } from "./request.ts";

/** The largest address a `u64` can hold. */
const U64_MAX = 0xffffffffffffffffn;

/** Which process a handle reads: a pid, or `"self"` for the calling process. */
export type Pid = number | "self";

/** Largest pid Linux can hand out (PID_MAX_LIMIT on 64-bit). */
const PID_MAX_LIMIT = 4194304;

/** Accepts a pid as given to {@link ProcMaps.open}: a positive integer or `"self"`. */
export function checkPid(pid: unknown): Pid {
  if (pid === undefined || pid === "self") return "self";
  if (typeof pid !== "number") {
    throw new TypeError(`pid must be a positive integer or "self", got ${describeValue(pid)}`);
  }
  if (!Number.isInteger(pid) || pid < 1 || pid > PID_MAX_LIMIT) {
    throw new RangeError(`pid must be an integer from 1 to ${PID_MAX_LIMIT}, got ${pid}`);
  }
  return pid;
}

/** Accepts an address: a bigint in [0, 2^64) or a non-negative safe integer. */
export function toAddress(addr: unknown, what = "address"): bigint {
  if (typeof addr === "bigint") {
    if (addr < 0n || addr > U64_MAX) {
      throw new RangeError(`${what} must be in [0, 2^64), got ${addr}`);
    }
    return addr;
  }
  if (typeof addr === "number") {
    if (!Number.isSafeInteger(addr)) {
      throw new RangeError(
        `${what} must be a safe integer when given as a number (got ${addr}); pass a bigint for addresses above 2^53`,
      );
    }
    if (addr < 0) throw new RangeError(`${what} must not be negative, got ${addr}`);
    return BigInt(addr);
  }
  throw new TypeError(`${what} must be a bigint or a number, got ${describeValue(addr)}`);
}

/** Short description of an unexpected value for error messages. */
export function describeValue(v: unknown): string {
  if (v === null) return "null";
  switch (typeof v) {
    case "string":
      return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "..." : v)}`;
    case "bigint":
      return `${v}n`;
    case "object":
      return Array.isArray(v) ? "an array" : "an object";
    case "function":
      return "a function";
    default:
      return `${typeof v} ${String(v)}`;
  }
}

// ---------------------------------------------------------------- open

/** Which source a handle reads: the PROCMAP_QUERY ioctl or the maps text. */
export type BackendKind = "ioctl" | "text";

/** Which backend {@link ProcMaps.open} should use. */
export type BackendChoice = "auto" | BackendKind;

/** Options for {@link ProcMaps.open}. */
export interface OpenOptions {
  /**
   * `"auto"` (default): the PROCMAP_QUERY ioctl where the kernel and runtime
   * support it, else the maps text. `"ioctl"` or `"text"` force one; forcing
   * `"ioctl"` where it is missing throws ProcMapsError `ENOTTY`.
   */
  backend?: BackendChoice;
}

const OPEN_KEYS = new Set(["backend"]);
const BACKENDS = ["auto", "ioctl", "text"] as const;

/** Checks {@link ProcMaps.open}'s options; returns the backend choice. */
export function checkOpenOptions(opts: unknown): BackendChoice {
  if (opts === undefined) return "auto";
  const o = ownOptions(opts, "open", OPEN_KEYS);
  return choiceOption(o, "backend", BACKENDS, "auto");
}

// ---------------------------------------------------------------- query and iteration

/** Options accepted by {@link ProcMaps.query}. */
export interface QueryOptions {
  /** When no VMA covers the address, return the next one above it. Default false. */
  coveringOrNext?: boolean;
  /** Only VMAs that are readable (`r`). */
  readable?: boolean;
  /** Only VMAs that are writable (`w`). */
  writable?: boolean;
  /** Only VMAs that are executable (`x`). */
  executable?: boolean;
  /** Only shared VMAs (`s`). */
  shared?: boolean;
  /** Only VMAs backed by a file (including memfd and shared anonymous memory). */
  fileBacked?: boolean;
  /** Fetch the VMA's name. Default true. */
  name?: boolean;
  /** Fetch the ELF build ID of the backing file. Default false. */
  buildId?: boolean;
}

/** Options accepted by {@link ProcMaps.vmas} and {@link ProcMaps.vmasSync}. */
export interface IterateOptions extends Omit<QueryOptions, "coveringOrNext"> {
  /** Start at the VMA covering (or after) this address. Default 0. */
  from?: bigint | number;
  /** Stop before VMAs that start at or above this address. Default: the end of the address space. */
  to?: bigint | number;
  /** Stops the iteration at its next step; the iterator then throws the signal's reason. */
  signal?: AbortSignal;
}

/** Request bit of each boolean option. */
const BOOLEAN_BITS = new Map<string, number>([
  ["readable", FLAG.readable],
  ["writable", FLAG.writable],
  ["executable", FLAG.executable],
  ["shared", FLAG.shared],
  ["fileBacked", FLAG.fileBacked],
  ["name", WANT_NAME],
  ["buildId", WANT_BUILD_ID],
]);
const QUERY_BITS = new Map([...BOOLEAN_BITS, ["coveringOrNext", FLAG.coveringOrNext]]);
const ITERATE_KEYS = new Set([...BOOLEAN_BITS.keys(), "from", "to", "signal"]);

/** `opts` as an options object, or a TypeError naming `what` options. */
function checkObject(opts: unknown, what: string): Record<string, unknown> {
  if (typeof opts !== "object" || opts === null || Array.isArray(opts)) {
    throw new TypeError(`${what} options must be an object, got ${describeValue(opts)}`);
  }
  return opts as Record<string, unknown>;
}

function unknownOption(key: string, what: string, known: Iterable<string>): TypeError {
  return new TypeError(`unknown ${what} option ${JSON.stringify(key)}; known: ${[...known].join(", ")}`);
}

/**
 * The own enumerable properties of an options object, each read once into a
 * plain record (so a getter cannot answer one thing to the check and
 * another to the use); a TypeError for a key not in `known`.
 */
export function ownOptions(opts: unknown, what: string, known: ReadonlySet<string>): Record<string, unknown> {
  const o = checkObject(opts, what);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(o)) {
    if (!known.has(key)) throw unknownOption(key, what, known);
    out[key] = o[key];
  }
  return out;
}

/** Option `key` of `o`: a boolean, or `fallback` when absent; a TypeError otherwise. */
export function booleanOption(o: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v === "boolean") return v;
  throw new TypeError(`option ${key} must be a boolean, got ${describeValue(v)}`);
}

/** Option `key` of `o`: one of `values`, or `fallback` when absent; a TypeError otherwise. */
export function choiceOption<T extends string>(
  o: Record<string, unknown>,
  key: string,
  values: readonly T[],
  fallback: T,
): T {
  const v = o[key] ?? fallback;
  if (typeof v === "string" && (values as readonly string[]).includes(v)) return v as T;
  const list = values.map((x) => JSON.stringify(x));
  throw new TypeError(
    `option ${key} must be ${list.slice(0, -1).join(", ")} or ${list.at(-1)}, got ${describeValue(v)}`,
  );
}

/**
 * Sets or clears one boolean option's bit. One pass over the given keys
 * (not over every known option) keeps option checking cheap on hot paths.
 */
function applyBoolean(request: Request, key: string, bit: number, v: unknown): Request {
  if (v === true) return request | bit;
  if (v === false) return request & ~bit;
  if (v === undefined) return request;
  throw new TypeError(`option ${key} must be a boolean, got ${describeValue(v)}`);
}

/** Request bit of each query option, by name (no prototype: only these keys). */
const QUERY_BIT: Readonly<Record<string, number>> = Object.assign(
  Object.create(null),
  Object.fromEntries(QUERY_BITS),
);

/** Taken once: a later change to Object.prototype cannot alter option checking. */
const hasOwnProperty = Object.prototype.hasOwnProperty;

/**
 * Checks query options and turns them into a Request. Kept small (a table
 * lookup per key, the errors out of line): it runs on every query, and the
 * engines inline the whole query path only while it fits their budget.
 */
export function checkQueryOptions(opts: unknown): Request {
  if (opts === undefined) return DEFAULT_REQUEST;
  if (typeof opts !== "object" || opts === null || Array.isArray(opts)) checkObject(opts, "query");
  let request = DEFAULT_REQUEST;
  // Own properties only (for-in with hasOwnProperty allocates nothing, unlike Object.keys: this
  // is the per-query path; V8 folds hasOwnProperty.call on a for-in key, not Object.hasOwn,
  // which costs a query 5-10 ns more). Each value is read once, right here.
  for (const key in opts as object) {
    if (!hasOwnProperty.call(opts, key)) continue;
    const v = (opts as Record<string, unknown>)[key];
    const bit = QUERY_BIT[key];
    if (v === true && bit !== undefined) request |= bit;
    else if (v === false && bit !== undefined) request &= ~bit;
    else if (bit === undefined || v !== undefined) throw badQueryOption(key, v);
  }
  return request;
}

function badQueryOption(key: string, v: unknown): TypeError {
  if (QUERY_BIT[key] === undefined) return unknownOption(key, "query", QUERY_BITS.keys());
  return new TypeError(`option ${key} must be a boolean, got ${describeValue(v)}`);
}

/** Checked iteration options. */
export interface IterateRequest {
  request: Request;
  from: bigint;
  to: bigint | undefined;
  signal: AbortSignal | undefined;
}

/** Checks iteration options. */
export function checkIterateOptions(opts: unknown): IterateRequest {
  if (opts === undefined) return { request: DEFAULT_REQUEST, from: 0n, to: undefined, signal: undefined };
  const o = ownOptions(opts, "iteration", ITERATE_KEYS);
  let request = DEFAULT_REQUEST;
  for (const key of Object.keys(o)) {
    const bit = BOOLEAN_BITS.get(key);
    if (bit !== undefined) request = applyBoolean(request, key, bit, o[key]);
  }
  const signal = o.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`option signal must be an AbortSignal, got ${describeValue(signal)}`);
  }
  return {
    request,
    from: o.from === undefined ? 0n : toAddress(o.from, "option from"),
    to: o.to === undefined ? undefined : toAddress(o.to, "option to"),
    signal,
  };
}

// ---------------------------------------------------------------- smaps

/** Options for {@link ProcMaps.smaps} and {@link ProcMaps.smapsSync}. */
export interface SmapsOptions {
  /** Stops the iteration (it throws the signal's reason). */
  signal?: AbortSignal;
}

const SMAPS_KEYS = new Set(["signal"]);

/** The signal of smaps options, checked (TypeError for anything else); throws if it is already aborted. */
export function checkSmapsOptions(opts: unknown): AbortSignal | undefined {
  if (opts === undefined) return undefined;
  const o = ownOptions(opts, "smaps", SMAPS_KEYS);
  const signal = o.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`option signal must be an AbortSignal, got ${describeValue(signal)}`);
  }
  signal?.throwIfAborted();
  return signal;
}

// ---------------------------------------------------------------- resolve

/** How `resolve()` reads the process: per-address ioctl queries, one text snapshot, or the planner's pick. */
export type ResolveStrategy = "auto" | "ioctl" | "text";

/** Options for {@link ProcMaps.resolve}. */
export interface ResolveOptions {
  /** Default `"auto"`: the planner picks by the batch's shape (see {@link ResolvePlan}). */
  strategy?: ResolveStrategy;
  /** Fetch build IDs (once per file). Default true. */
  buildId?: boolean;
  /** Compute ELF virtual addresses (reads each file's program headers once). Default true. */
  elfAddr?: boolean;
}

const STRATEGIES = ["auto", "ioctl", "text"] as const;
const RESOLVE_KEYS = new Set(["strategy", "buildId", "elfAddr"]);

/** Checked resolve() options. */
export interface ResolveRequest {
  strategy: ResolveStrategy;
  buildId: boolean;
  elfAddr: boolean;
}

/** Checks resolve() options. */
export function checkResolveOptions(opts: unknown): ResolveRequest {
  if (opts === undefined) return { strategy: "auto", buildId: true, elfAddr: true };
  const o = ownOptions(opts, "resolve", RESOLVE_KEYS);
  return {
    strategy: choiceOption(o, "strategy", STRATEGIES, "auto"),
    buildId: booleanOption(o, "buildId", true),
    elfAddr: booleanOption(o, "elfAddr", true),
  };
}
