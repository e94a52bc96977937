/**
 * Batch address resolution for profilers and symbolizers: each address to
 * its VMA, file offset, ELF virtual address, path and build ID, in input
 * order, choosing per batch between ioctl queries and one text snapshot.
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import { FLAG } from "../ioctl/abi.ts";
import {
  booleanOption,
  checkKnownKeys,
  checkObject,
  choiceOption,
  describeValue,
  toAddress,
  WANT_BUILD_ID,
  WANT_NAME,
} from "../options.ts";
import type { IoctlBackend } from "../ioctl/backend.ts";
import type { TextBackend } from "../text/backend.ts";
import type { MapsTable } from "../text/parser.ts";
import { ERRNO, type Pid, ProcMapsError } from "../errors.ts";
import { type Vma, withNameAndBuildId } from "../vma.ts";
import { type LoadSegment, loadSegments, segmentForVma } from "../elf/segments.ts";
import { openMappedFile } from "../elf/mapped_file.ts";

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

/**
 * What backs an address:
 * - `"file"`: a file reachable by its path;
 * - `"deleted"`: a file unlinked since it was mapped (`... (deleted)`);
 * - `"memory-file"`: a file with no path on disk (memfd, shared anonymous
 *   memory, SysV shared memory, hugetlb memory, AIO rings, dma-bufs):
 *   offsets are into that in-memory file;
 * - `"anonymous"`: no file (heap, stack, `[anon:...]`, plain anonymous);
 * - `"jit"`: anonymous executable memory, as JIT compilers make;
 * - `"special"`: a kernel-provided area (`[vdso]`, `[vvar]`, `[vsyscall]`, ...).
 */
export type MappingKind = "file" | "deleted" | "memory-file" | "anonymous" | "jit" | "special";

/** One resolved address. */
export interface Resolved {
  /** The address asked about. */
  readonly addr: bigint;
  /** The VMA that covers it (with its name, and build ID when asked for). */
  readonly vma: Vma;
  /** What backs it. */
  readonly kind: MappingKind;
  /** The VMA's name (`""` for plain anonymous memory). */
  readonly name: string;
  /** Build ID of the backing file, when it has one and it was asked for. */
  readonly buildId: string | undefined;
  /** `addr - vma.start + vma.offset` where a file backs the VMA; otherwise undefined. */
  readonly fileOffset: bigint | undefined;
  /** The address as the ELF file's own virtual address (through its PT_LOAD headers). */
  readonly elfAddr: bigint | undefined;
  /** Why `fileOffset` or `elfAddr` is undefined; undefined when both are set. */
  readonly reason: string | undefined;
}

/** The planner's decision for one batch, from {@link ProcMaps.planResolve}. */
export interface ResolvePlan {
  strategy: "ioctl" | "text";
  /** Distinct addresses in the batch. */
  uniqueAddresses: number;
  /** VMAs in the process's last text snapshot on this handle, if one was taken. */
  knownVmas: number | undefined;
  /** ioctl queries the batch needs, counted against that snapshot. */
  estimatedQueries: number | undefined;
  /** With the ioctl strategy: after this many queries the rest is read from text. */
  queryBudget: number;
  /** Why. */
  reason: string;
}

/**
 * Costs measured on the reference machine (bench/RESULTS.md cases 1-4;
 * 2-core AMD EPYC VM, Linux 6.18, Deno 2.9 and Bun 1.4 alike), in
 * microseconds. Only their ratios matter: with them, the ioctl wins while a
 * batch needs fewer queries than about 3/4 of the process's VMAs.
 */
export const RESOLVE_COSTS = {
  /** One PROCMAP_QUERY with the name, from JS, with its Vma (case 1: 0.69-0.73). */
  ioctlQuery: 0.7,
  /** Reading one line of maps text (the kernel's part, case 2 C: 0.30) and parsing it (case 3: 0.065). */
  textPerVma: 0.37,
  /** Making the Vma of a text row the batch touches. */
  textPerTouchedVma: 0.2,
  /** Placing one sorted address in a text snapshot. */
  textPerAddress: 0.02,
  /**
   * With no snapshot to count against, the ioctl runs for at most this many
   * queries (about the cost of reading a 10,000-VMA text) before the rest of
   * the batch is read from text: never much worse than either alone.
   */
  blindQueryBudget: 4096,
} as const;

/** What resolve() needs from the handle. */
export interface ResolveSources {
  libc: Libc;
  pid: Pid;
  /** The ioctl backend, when the kernel and runtime have it. */
  ioctl: IoctlBackend | undefined;
  /** The text backend on the same descriptor (created on demand). */
  text(): TextBackend;
  /** ELF program headers by (device, inode, build ID), kept for the handle's life. */
  segments: Map<string, LoadSegment[] | null>;
}

const STRATEGIES = ["auto", "ioctl", "text"] as const;
const RESOLVE_KEYS = new Set(["strategy", "buildId", "elfAddr"]);

interface CheckedOptions {
  strategy: ResolveStrategy;
  buildId: boolean;
  elfAddr: boolean;
}

/** Checks resolve() options. */
export function checkResolveOptions(opts: unknown): CheckedOptions {
  if (opts === undefined) return { strategy: "auto", buildId: true, elfAddr: true };
  const o = checkObject(opts, "resolve");
  checkKnownKeys(o, RESOLVE_KEYS, "resolve");
  return {
    strategy: choiceOption(o, "strategy", STRATEGIES, "auto"),
    buildId: booleanOption(o, "buildId", true),
    elfAddr: booleanOption(o, "elfAddr", true),
  };
}

/** The batch's distinct addresses, sorted, and where each input lands among them. */
export interface Batch {
  /** Distinct addresses in ascending order. */
  unique: bigint[];
  /** Their high and low 32 bits, for comparisons that allocate nothing. */
  hi: Uint32Array;
  lo: Uint32Array;
  /** For each input position, its index in `unique`. */
  slot: Uint32Array;
}

const TWO_32 = 4294967296;

const TWO_53_NUMBER = 2 ** 53;

/**
 * Checks and sorts a batch. Each address is split into 32-bit halves (a
 * double carries user-space addresses exactly, so no bigint arithmetic) and
 * the positions are radix-sorted by them: linear, and several times faster
 * than the engines' typed-array sorts on 10,000 addresses. Distinct
 * addresses keep the caller's own bigint objects.
 */
export function toBatch(addrs: unknown): Batch {
  let list: bigint[];
  if (addrs instanceof BigUint64Array) list = Array.from(addrs);
  else if (Array.isArray(addrs)) list = addrs;
  else if (addrs !== null && typeof addrs === "object" && Symbol.iterator in addrs) {
    list = Array.from(addrs as Iterable<bigint>);
  } else {
    throw new TypeError(
      `addresses must be an iterable of bigints/numbers or a BigUint64Array, got ${describeValue(addrs)}`,
    );
  }
  const n = list.length;
  const hiOf = new Uint32Array(n);
  const loOf = new Uint32Array(n);
  let own: bigint[] | undefined; // a copy, made only if some entry needs converting
  for (let i = 0; i < n; i++) {
    const a = list[i];
    // One conversion checks the common case: a bigint in [0, 2^53) (all of
    // user space) is exact as a double; anything else goes through toAddress,
    // which refuses bad values (naming their index) and splits big ones.
    const k = typeof a === "bigint" ? Number(a) : -1;
    if (k >= 0 && k < TWO_53_NUMBER) {
      const h = Math.floor(k / TWO_32);
      hiOf[i] = h;
      loOf[i] = k - h * TWO_32;
      continue;
    }
    const b = toAddress(a, `address [${i}]`);
    if (b !== a) (own ??= list.slice())[i] = b;
    hiOf[i] = Number(b >> 32n);
    loOf[i] = Number(b & 0xffffffffn);
  }
  if (own) list = own;
  const order = sortByHalves(hiOf, loOf);
  const unique: bigint[] = [];
  const uhi: number[] = [];
  const ulo: number[] = [];
  const slot = new Uint32Array(n);
  for (let j = 0; j < n; j++) {
    const i = order[j];
    const h = hiOf[i], l = loOf[i];
    const u = unique.length;
    if (u === 0 || uhi[u - 1] !== h || ulo[u - 1] !== l) {
      unique.push(list[i]);
      uhi.push(h);
      ulo.push(l);
    }
    slot[i] = unique.length - 1;
  }
  return { unique, hi: Uint32Array.from(uhi), lo: Uint32Array.from(ulo), slot };
}

const RADIX_BITS = 11;
const RADIX = 1 << RADIX_BITS;
const RADIX_MASK = RADIX - 1;

/**
 * Positions 0..n-1 ordered by (hi, lo): an LSD radix sort, 11 bits at a
 * time through lo and then hi, skipping digits that are the same in every
 * key (most of the high ones: a process's addresses share their top bits).
 */
function sortByHalves(hi: Uint32Array, lo: Uint32Array): Uint32Array {
  const n = hi.length;
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (n < 2) return order;
  let next = new Uint32Array(n);
  const count = new Uint32Array(RADIX);
  for (const half of [lo, hi]) {
    // Bits that differ between keys: OR of each key XOR the first.
    let diff = 0;
    for (let i = 1; i < n; i++) diff |= half[i] ^ half[0];
    for (let shift = 0; shift < 32; shift += RADIX_BITS) {
      if (((diff >>> shift) & RADIX_MASK) === 0) continue;
      count.fill(0);
      for (let j = 0; j < n; j++) count[(half[order[j]] >>> shift) & RADIX_MASK]++;
      let sum = 0;
      for (let d = 0; d < RADIX; d++) {
        const c = count[d];
        count[d] = sum;
        sum += c;
      }
      for (let j = 0; j < n; j++) {
        const i = order[j];
        next[count[(half[i] >>> shift) & RADIX_MASK]++] = i;
      }
      const t = order;
      order = next;
      next = t;
    }
  }
  return order;
}

/**
 * How many ioctl queries the batch would take against `table`: one per
 * distinct "VMA at or after the address", as resolveByIoctl() walks. Binary
 * search for few addresses, one merged pass for many.
 */
function countQueries(batch: Batch, table: MapsTable): number {
  const { hi, lo } = batch;
  const n = hi.length;
  let queries = 0;
  let last = -1;
  if (n * Math.log2(table.count + 1) < n + table.count) {
    for (let i = 0; i < n; i++) {
      const row = table.firstEndingAbove(hi[i], lo[i]);
      if (row !== last) {
        queries++;
        last = row;
      }
    }
    return queries;
  }
  let row = 0;
  for (let i = 0; i < n; i++) {
    row = table.advancePast(row, hi[i], lo[i]);
    if (row !== last) {
      queries++;
      last = row;
    }
  }
  return queries;
}

/** Picks the strategy for a batch. */
export function planBatch(src: ResolveSources, batch: Batch, strategy: ResolveStrategy): ResolvePlan {
  const unique = batch.unique;
  const base = { uniqueAddresses: unique.length, knownVmas: undefined, estimatedQueries: undefined };
  if (strategy === "text") return { ...base, strategy: "text", queryBudget: 0, reason: "strategy text was asked for" };
  if (!src.ioctl) {
    if (strategy === "ioctl") {
      throw new ProcMapsError(
        "ENOTTY",
        ERRNO.ENOTTY,
        src.pid,
        "resolve",
        `strategy "ioctl" needs a handle on the ioctl backend (this one reads the text: opened with backend "text", ` +
          `or PROCMAP_QUERY is missing here); use strategy "auto" or "text"`,
      );
    }
    return { ...base, strategy: "text", queryBudget: 0, reason: "this handle reads the text (no PROCMAP_QUERY)" };
  }
  if (strategy === "ioctl") {
    return { ...base, strategy: "ioctl", queryBudget: Infinity, reason: "strategy ioctl was asked for" };
  }
  const table = src.text().lastSnapshot;
  if (!table) {
    return {
      ...base,
      strategy: "ioctl",
      queryBudget: RESOLVE_COSTS.blindQueryBudget,
      reason:
        `the process's size is not known yet: ioctl for up to ${RESOLVE_COSTS.blindQueryBudget} queries, then text`,
    };
  }
  const queries = countQueries(batch, table);
  // A query touches one VMA, so the text strategy makes about as many Vmas.
  const ioctlCost = queries * RESOLVE_COSTS.ioctlQuery;
  const textCost = table.count * RESOLVE_COSTS.textPerVma + queries * RESOLVE_COSTS.textPerTouchedVma +
    unique.length * RESOLVE_COSTS.textPerAddress;
  const known = { ...base, knownVmas: table.count, estimatedQueries: queries };
  return ioctlCost <= textCost
    ? {
      ...known,
      strategy: "ioctl",
      // The snapshot may be stale: if the batch needs far more queries than counted, text is cheaper.
      queryBudget: Math.max(2 * queries, 64),
      reason: `about ${queries} queries (${
        ioctlCost.toFixed(0)
      } us) cost less than reading ${table.count} VMAs of text (${textCost.toFixed(0)} us)`,
    }
    : {
      ...known,
      strategy: "text",
      queryBudget: 0,
      reason: `reading ${table.count} VMAs of text (${
        textCost.toFixed(0)
      } us) costs less than about ${queries} queries (${ioctlCost.toFixed(0)} us)`,
    };
}

/** A distinct VMA the batch touched, with what was learned about its file. */
interface Entry {
  vma: Vma;
  /** Row in the text snapshot, for build IDs read by the text backend; -1 from the ioctl. */
  row: number;
  table: MapsTable | undefined;
}

/** Resolution of distinct addresses: entry index per address (-1: unmapped). */
interface Found {
  entryOf: Int32Array;
  entries: Entry[];
}

/**
 * ioctl strategy: queries with covering-or-next, in address order. One query
 * answers every following address inside the VMA it returns, and every
 * address in the gap before it. Returns how many addresses it resolved
 * before the budget ran out.
 */
function resolveByIoctl(ioctl: IoctlBackend, unique: readonly bigint[], found: Found, budget: number): number {
  const request = FLAG.coveringOrNext | WANT_NAME;
  let cur: Vma | null = null;
  let curEntry = -1;
  let queries = 0;
  for (let i = 0; i < unique.length; i++) {
    const a = unique[i];
    if (cur === null || a >= cur.end) {
      if (queries >= budget) return i;
      cur = ioctl.query(a, request);
      queries++;
      if (cur === null) {
        found.entryOf.fill(-1, i);
        return unique.length;
      }
      found.entries.push({ vma: cur, row: -1, table: undefined });
      curEntry = found.entries.length - 1;
    }
    found.entryOf[i] = a >= cur.start ? curEntry : -1;
  }
  return unique.length;
}

/** text strategy: one fresh snapshot, walked alongside the sorted addresses. */
function resolveByText(text: TextBackend, batch: Batch, found: Found, from: number): void {
  const table = text.snapshot();
  const { hi, lo } = batch;
  const entryOfRow = new Int32Array(table.count).fill(-1);
  let row = 0;
  for (let i = from; i < hi.length; i++) {
    row = table.advancePast(row, hi[i], lo[i]);
    if (row < table.count && table.startsAtOrBelow(row, hi[i], lo[i])) {
      let e = entryOfRow[row];
      if (e < 0) {
        e = found.entries.length;
        found.entries.push({ vma: table.vma(row, true, undefined), row, table });
        entryOfRow[row] = e;
      }
      found.entryOf[i] = e;
    } else {
      found.entryOf[i] = -1;
    }
  }
}

/**
 * Names of files with no path on disk: memfd, shared anonymous memory, SysV
 * shared memory, hugetlb memory, AIO rings, dma-bufs.
 */
const MEMORY_FILE_PREFIXES = [
  "/memfd:",
  "/dev/zero (deleted)",
  "[anon_shmem:",
  "/SYSV",
  "/anon_hugepage",
  "/[aio]",
  "/dmabuf:",
];

/** What backs a VMA, judged from its name and permissions as the kernel reports them. */
export function mappingKind(vma: Vma): MappingKind {
  const name = vma.name ?? "";
  if (vma.fileBacked) {
    if (!name.startsWith("/") || MEMORY_FILE_PREFIXES.some((p) => name.startsWith(p))) return "memory-file";
    return name.endsWith(" (deleted)") ? "deleted" : "file";
  }
  if (name === "" || name.startsWith("[anon:") || name === "[heap]" || name.startsWith("[stack")) {
    return vma.executable ? "jit" : "anonymous";
  }
  return "special";
}

/** A PT_LOAD segment as resolve() uses it: file bytes [offset, end) sit at file offset + shift. */
interface Shifted {
  offset: bigint;
  end: bigint;
  shift: bigint;
}

/** What resolve() knows about a distinct VMA of the batch. */
interface Finished {
  vma: Vma;
  kind: MappingKind;
  name: string;
  buildId: string | undefined;
  /** `vma.offset - vma.start`, where a file offset applies. */
  delta: bigint | undefined;
  segments: Shifted[] | null;
  why: string | undefined;
}

const NO_ELF_ASKED = "elfAddr was not asked for";
const NO_ELF_HEADERS = "the file's ELF program headers could not be read (not ELF, or not readable here)";
const OUTSIDE_LOADS = "the file offset lies outside the file's PT_LOAD segments";

const NO_OFFSET_REASON: Record<string, string> = {
  anonymous: "anonymous memory: no file behind it",
  jit: "anonymous executable memory (JIT-compiled code): no file behind it",
  special: "provided by the kernel, not a file",
};

const encoder = new TextEncoder();

/** Resolves a batch; see ProcMaps.resolve. */
export function resolveBatch(src: ResolveSources, addrs: unknown, opts: unknown): (Resolved | null)[] {
  const o = checkResolveOptions(opts);
  const batch = toBatch(addrs);
  const unique = batch.unique;
  const plan = planBatch(src, batch, o.strategy);
  const found: Found = { entryOf: new Int32Array(unique.length), entries: [] };
  let done = 0;
  if (plan.strategy === "ioctl") done = resolveByIoctl(src.ioctl!, unique, found, plan.queryBudget);
  if (done < unique.length) resolveByText(src.text(), batch, found, done);

  // Per distinct VMA: build ID (once per file), ELF headers (once per file), kind.
  const used = new Uint8Array(found.entries.length);
  for (const e of found.entryOf) if (e >= 0) used[e] = 1;
  const buildIds = new Map<string, string | undefined>();
  const segmentsThisCall = new Map<string, LoadSegment[] | null>();
  const finished: Finished[] = [];
  found.entries.forEach((entry, i) => {
    if (!used[i]) return;
    const vma = entry.vma;
    const kind = mappingKind(vma);
    let buildId: string | undefined;
    const fileKey = `${vma.devMajor}:${vma.devMinor}:${vma.inode}`;
    if (o.buildId && vma.fileBacked) {
      if (buildIds.has(fileKey)) buildId = buildIds.get(fileKey);
      else {
        // The kernel's answer where there is one, so every strategy reports the same build IDs.
        buildId = src.ioctl ? buildIdByIoctl(src.ioctl, vma) : src.text().buildIdOf(entry.table!, entry.row);
        buildIds.set(fileKey, buildId);
      }
    }
    const hasOffset = NO_OFFSET_REASON[kind] === undefined;
    let segments: Shifted[] | null = null;
    let why: string | undefined = hasOffset ? (o.elfAddr ? undefined : NO_ELF_ASKED) : NO_OFFSET_REASON[kind];
    if (o.elfAddr && hasOffset) {
      const loads = segmentsOf(src, vma, buildId, fileKey, segmentsThisCall);
      if (loads) {
        // Only through the segment this VMA maps (padding, .bss: see segmentForVma).
        const s = segmentForVma(loads, vma, (a) => {
          const v = (src.ioctl ?? src.text()).query(a, 0);
          return v && v.inode === vma.inode && v.devMajor === vma.devMajor && v.devMinor === vma.devMinor
            ? a - v.start + v.offset
            : undefined;
        });
        segments = s ? [{ offset: s.fileStart, end: s.fileEnd, shift: s.shift }] : [];
      } else why = NO_ELF_HEADERS;
    }
    finished[i] = {
      vma: o.buildId ? withNameAndBuildId(vma, vma.name, buildId) : vma,
      kind,
      name: vma.name ?? "",
      buildId,
      delta: hasOffset ? vma.offset - vma.start : undefined,
      segments,
      why,
    };
  });

  // Per distinct address: two bigint additions at most.
  const perUnique: (Resolved | null)[] = new Array(unique.length);
  for (let i = 0; i < unique.length; i++) {
    const e = found.entryOf[i];
    if (e < 0) {
      perUnique[i] = null;
      continue;
    }
    const f = finished[e];
    const addr = unique[i];
    let fileOffset: bigint | undefined;
    let elfAddr: bigint | undefined;
    let reason = f.why;
    if (f.delta !== undefined) {
      fileOffset = addr + f.delta;
      if (f.segments) {
        reason = OUTSIDE_LOADS;
        for (const seg of f.segments) {
          if (fileOffset >= seg.offset && fileOffset < seg.end) {
            elfAddr = fileOffset + seg.shift;
            reason = undefined;
            break;
          }
        }
      }
    }
    perUnique[i] = { addr, vma: f.vma, kind: f.kind, name: f.name, buildId: f.buildId, fileOffset, elfAddr, reason };
  }
  const out: (Resolved | null)[] = new Array(batch.slot.length);
  for (let i = 0; i < out.length; i++) out[i] = perUnique[batch.slot[i]];
  return out;
}

/** The kernel's build ID for a VMA's file: one more query, at its start, asking only for that. */
function buildIdByIoctl(ioctl: IoctlBackend, vma: Vma): string | undefined {
  const again = ioctl.query(vma.start, WANT_BUILD_ID);
  // The map may have changed meanwhile: trust only the same file.
  if (!again || again.inode !== vma.inode || again.devMajor !== vma.devMajor || again.devMinor !== vma.devMinor) {
    return undefined;
  }
  return again.buildId;
}

/**
 * PT_LOAD headers of a VMA's file. Cached for the handle's life by (device,
 * inode, build ID): the build ID proves it is the same file. Files without
 * one are cached for this call only.
 */
function segmentsOf(
  src: ResolveSources,
  vma: Vma,
  buildId: string | undefined,
  fileKey: string,
  thisCall: Map<string, LoadSegment[] | null>,
): LoadSegment[] | null {
  const cache = buildId ? src.segments : thisCall;
  const key = buildId ? `${fileKey}:${buildId}` : fileKey;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const fd = openMappedFile(src.libc, src.pid, {
    start: vma.start,
    end: vma.end,
    devMajor: vma.devMajor,
    devMinor: vma.devMinor,
    inode: vma.inode,
    path: encoder.encode(vma.name ?? ""),
  });
  let segments: LoadSegment[] | null = null;
  if (fd >= 0) {
    try {
      segments = loadSegments((offset, len) => {
        const buf = new Uint8Array(len);
        const n = src.libc.pread(fd, buf, offset);
        return n < 0 ? null : buf.subarray(0, n);
      });
    } finally {
      src.libc.close(fd);
    }
  }
  cache.set(key, segments);
  return segments;
}
