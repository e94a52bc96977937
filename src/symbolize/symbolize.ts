/**
 * `ProcMaps.symbolize()`: resolve a batch, then name each address from the
 * symbol source its mapping calls for (ELF tables of the mapped file, the
 * vDSO image, the target's perf map for JIT code).
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import { booleanOption, choiceOption, describeValue, ownOptions, type Pid, type ResolveStrategy } from "../options.ts";
import type { Resolved } from "../resolve/types.ts";
import { releaseBatch } from "../resolve/batch.ts";
import { type Finished, type LocatedBatch, REASON_TEXT, resolvedAt } from "../resolve/resolve.ts";
import type { Vma } from "../vma.ts";
import { mappedFileOf, openMappedFile } from "../elf/mapped_file.ts";
import { errnoName, isTransient } from "../errors.ts";
import type { ProcessRef } from "../procfs/process.ts";
import { elfAddrOf, loadSegments, segmentForVma } from "../elf/segments.ts";
import { memoryReader } from "../elf/read_at.ts";
import { readSections } from "../elf/sections.ts";
import { sectionBuildId } from "../elf/debug_link.ts";
import { loadModule, type ModuleSymbols, wantsDebugInfo } from "./elf_module.ts";
import type { ModuleLines } from "./module_lines.ts";
import { ascending } from "./ascending.ts";
import {
  account,
  cachedTables,
  checkDebugDirs,
  jitBudget,
  memoryTables,
  moduleTables,
  type NoSymbol,
  symbolInfo,
  Symbolizer,
  whyNot,
  withLines,
} from "./symbolizer.ts";
import { readVdsoImage } from "./vdso.ts";
import type { JitSources } from "./jit.ts";
import { type Symbolized, SymbolizedResult, type SymbolReason } from "./result.ts";
import { fastSymbol, type TableCursor, tableCursor, TWO_32, TWO_52 } from "./table_cursor.ts";
import { below52, toBigint } from "../util/bytes.ts";
import type { RawSymbol, SymbolSource, SymbolTable } from "./types.ts";

/** Options for {@link ProcMaps.symbolize}. */
export interface SymbolizeOptions {
  /** Fill `demangled` with readable C++ and Rust names (default true). */
  demangle?: boolean;
  /**
   * Source lines from DWARF: `symbol.frames` (default true). `false` reads
   * no DWARF at all.
   */
  lines?: boolean;
  /** With `lines`, the inlined calls too: `false` gives one frame, the function's own (default true). */
  inlines?: boolean;
  /** Directories with separate debug files (default: the symbolizer's, `["/usr/lib/debug"]`). */
  debugDirs?: readonly string[];
  /** Name JIT code from the target's `perf-<pid>.map` (default true). */
  perfMap?: boolean;
  /** The Symbolizer whose caches to use (default: one kept by the handle). */
  symbolizer?: Symbolizer;
  /** As for {@link ProcMaps.resolve} (default `"auto"`). */
  strategy?: ResolveStrategy;
}

/** What symbolize() needs from the handle. */
export interface SymbolizeSources {
  libc: Libc;
  pid: Pid;
  /** The handle's pinned process: files are opened relative to it. */
  proc: ProcessRef;
  /** resolve()'s first half: the batch located, its VMAs' headers read. */
  locate(addrs: unknown, opts: { strategy: ResolveStrategy }, temporary?: boolean): LocatedBatch;
  /** The handle's own Symbolizer (made on first use). */
  symbolizer(): Symbolizer;
  /** The handle's JIT tables (perf map, jitdump), kept open across calls. */
  jit(): JitSources;
}

const KEYS = new Set(["demangle", "lines", "inlines", "debugDirs", "perfMap", "symbolizer", "strategy"]);
const STRATEGIES = ["auto", "ioctl", "text"] as const;

/** symbolize()'s options, checked. */
export interface Checked {
  demangle: boolean;
  lines: boolean;
  inlines: boolean;
  debugDirs: readonly string[] | undefined;
  perfMap: boolean;
  symbolizer: Symbolizer | undefined;
  strategy: ResolveStrategy;
}

export function checkOptions(opts: unknown): Checked {
  if (opts === undefined) {
    return {
      demangle: true,
      lines: true,
      inlines: true,
      debugDirs: undefined,
      perfMap: true,
      symbolizer: undefined,
      strategy: "auto",
    };
  }
  const o = ownOptions(opts, "symbolize", KEYS);
  if (o.symbolizer !== undefined && !(o.symbolizer instanceof Symbolizer)) {
    throw new TypeError(`option symbolizer must be a Symbolizer, got ${describeValue(o.symbolizer)}`);
  }
  return {
    demangle: booleanOption(o, "demangle", true),
    lines: booleanOption(o, "lines", true),
    inlines: booleanOption(o, "inlines", true),
    debugDirs: o.debugDirs === undefined ? undefined : checkDebugDirs(o.debugDirs, []),
    perfMap: booleanOption(o, "perfMap", true),
    symbolizer: o.symbolizer as Symbolizer | undefined,
    strategy: choiceOption(o, "strategy", STRATEGIES, "auto"),
  };
}

/** What one VMA of the batch symbolizes with. */
export interface VmaSource {
  module?: ModuleSymbols;
  /** JIT tables, asked in order. */
  tables?: SymbolTable[];
  /** Where the JIT tables come from (says which limit stopped reading them). */
  jit?: JitSources;
  /** For the vDSO: ELF address of an address in the VMA. */
  elfAddr?: (addr: bigint) => bigint | undefined;
  reason?: SymbolReason;
  message?: string;
}

const MESSAGES: Record<string, string> = {
  anonymous: "anonymous memory: no file, so no symbols",
  special: "a kernel-provided area with no symbols",
  jit: "JIT code: the target has no readable perf-<pid>.map or jitdump (start Node with --perf-basic-prof, " +
    "Deno with --v8-flags=--perf-basic-prof, Bun with BUN_JSC_useJITDump=1)",
  jitOff: "JIT code: perf maps were not asked for (perfMap: false)",
  jitMiss: "JIT code that the target's perf map and jitdump do not name (yet)",
  vdso: "the vDSO image could not be read from the process (needs ptrace access to /proc/<pid>/mem)",
};

/**
 * A VMA whose addresses take the fast route: a file's ELF module, one
 * PT_LOAD segment, every quantity a double below 2^52, so that the symbol is
 * found from numbers and only the results' own bigints are made.
 */
export interface Fast extends TableCursor {
  shiftZero: boolean;
  deltaNum: number;
  shiftNum: number;
  segStart: number;
  segEnd: number;
}

/** The fast route for a VMA's addresses, or undefined where the general one must answer. */
function fastFor(f: Finished, s: VmaSource): Fast | undefined {
  const seg = f.segments?.length === 1 ? f.segments[0] : undefined;
  if (!s.module || s.elfAddr || f.delta === undefined || !seg) return undefined;
  if (!below52(f.delta) || !below52(seg.offset) || !below52(seg.end) || !below52(seg.shift)) return undefined;
  return {
    shiftZero: seg.shift === 0n,
    deltaNum: Number(f.delta),
    shiftNum: Number(seg.shift),
    segStart: Number(seg.offset),
    segEnd: Number(seg.end),
    ...tableCursor(s.module.tables),
  };
}

/** What {@link vmaSources} gives: each VMA's source, and the end of the call. */
export interface VmaSources {
  sourceOf: (f: Finished) => VmaSource;
  /** Called once the batch is done: what the JIT tables hold now counts in the symbolizer's cache. */
  end: () => void;
}

/**
 * Per VMA of a batch: the symbol source it calls for, set up on first use
 * (for symbolize() and symbolizeTable()). `wanted`, when given, receives the
 * build IDs of mapped files that a separate debug file would name better
 * (the asynchronous form fetches those).
 */
export function vmaSources(
  src: SymbolizeSources,
  o: Checked,
  symbolizer: Symbolizer,
  wanted?: Set<string>,
): VmaSources {
  const debugDirs = o.debugDirs ?? symbolizer.debugDirs;
  /** Modules of files without a build ID: for this call only. */
  const uncached = new Map<string, ModuleSymbols>();
  let jit: VmaSource | undefined;
  let jitSources: JitSources | undefined;

  const sourceOf = (f: Finished): VmaSource => {
    const vma = f.vma;
    switch (f.kind) {
      case "anonymous":
        return { reason: "anonymous", message: MESSAGES.anonymous };
      case "jit": {
        if (!o.perfMap) return { reason: "jit-no-perf-map", message: MESSAGES.jitOff };
        if (!jit) {
          jitSources = src.jit();
          const { tables, missing } = jitSources.begin(jitBudget(symbolizer));
          // Read through the pinned /proc/<pid> directory: alive now means they were this process's.
          src.proc.requireAlive();
          jit = tables.length
            ? { tables, jit: jitSources }
            : { reason: "jit-no-perf-map", message: `${MESSAGES.jit}: ${missing.join("; ")}` };
        }
        return jit;
      }
      case "special":
        return f.name === "[vdso]"
          ? vdsoSource(src, symbolizer, vma)
          : { reason: "special", message: MESSAGES.special };
    }
    // A file: its ELF tables, through the same checked route resolve() used.
    const fileKey = `${vma.devMajor}:${vma.devMinor}:${vma.inode}`;
    if (!f.buildId && uncached.has(fileKey)) return { module: uncached.get(fileKey) };
    // Warm: the tables are known by identity and build ID, so the file need not be opened.
    const known = f.buildId ? cachedTables(symbolizer, fileKey, f.buildId, debugDirs) : undefined;
    // With lines wanted, a module whose DWARF was never looked for needs its file once more.
    if (known && (!o.lines || known.lines !== undefined)) {
      if (wanted && wantsDebugInfo(known, o.lines)) wanted.add(f.buildId!);
      // Split DWARF of a shared module is looked for in this process's root.
      known.lines?.bind(src.libc, f.kind === "file" ? { procDir: src.proc.dirfd, path: f.name } : undefined);
      return { module: known };
    }
    // Opened relative to the handle's pinned /proc/<pid> directory, as resolve() opens files.
    const fd = openMappedFile(src.libc, src.proc.dirfd, mappedFileOf(vma));
    // Known tables stay usable when only the lines could not be looked for.
    if (fd < 0 && known) {
      if (wanted && wantsDebugInfo(known, o.lines)) wanted.add(f.buildId!);
      return { module: known };
    }
    if (fd < 0) {
      src.proc.requireAlive(); // a process that is gone is ESRCH, not "unreadable"
      return isTransient(-fd)
        ? { reason: "transient", message: `opening ${f.name} failed (${errnoName(-fd)}); try again` }
        : { reason: "file-unreadable", message: `${f.name}: cannot open the mapped file from here` };
    }
    try {
      const module = moduleTables(symbolizer, src.libc, fd, fileKey, {
        buildId: f.buildId,
        path: f.kind === "file" ? f.name : undefined,
        // Debug links next to the file: in the target's root, through the pinned directory.
        procDir: src.proc.dirfd,
        debugDirs,
      }, o.lines);
      if (!f.buildId) uncached.set(fileKey, module);
      else if (wanted && wantsDebugInfo(module, o.lines)) wanted.add(f.buildId);
      return { module };
    } finally {
      src.libc.close(fd);
    }
  };
  return { sourceOf, end: () => jitSources?.end() };
}

/** What one VMA of a batch symbolizes with: its source, the fast route if it applies, why a lookup may miss. */
export interface EntrySource {
  s: VmaSource;
  fast: Fast | undefined;
  miss: NoSymbol | undefined;
}

/**
 * The {@link EntrySource} of `f`, whose tables are about to answer
 * `lookups()` addresses (ELF tables not yet sorted scan for a few, and
 * sort themselves for more).
 */
export function entrySource(sourceOf: (f: Finished) => VmaSource, f: Finished, lookups: () => number): EntrySource {
  const s = sourceOf(f);
  if (s.module) { for (const t of s.module.tables) t.expectLookups(lookups); }
  return { s, fast: fastFor(f, s), miss: s.module && whyNot(s.module) };
}

/** Per VMA entry of a located batch, how many of its distinct addresses land there: made on first use. */
export function lookupsPerEntry(entryOf: Int32Array, entries: number): (e: number) => number {
  let counts: Int32Array | undefined;
  return (e) => {
    if (!counts) {
      counts = new Int32Array(entries);
      for (let i = 0; i < entryOf.length; i++) if (entryOf[i] >= 0) counts[entryOf[i]]++;
    }
    return counts[e];
  };
}

/** Symbolizes a batch; see ProcMaps.symbolize. */
export function symbolizeBatch(
  src: SymbolizeSources,
  addrs: unknown,
  opts: unknown,
  wanted?: Set<string>,
): (Symbolized | null)[] {
  const o = checkOptions(opts);
  const symbolizer = o.symbolizer ?? src.symbolizer();
  // Nothing of the batch outlives this call: its ArrayBuffer serves the next one.
  const { batch, entryOf, finished } = src.locate(addrs, { strategy: o.strategy }, true);
  const { sourceOf, end } = vmaSources(src, o, symbolizer, wanted);

  const { unique, hi: his, lo: los } = batch;
  const want = o.demangle;
  // Arrays filled in index order from empty (JavaScriptCore makes \`new Array(n)\` sparse from n = 100,000).
  const perUnique: (Symbolized | null)[] = [];
  for (let i = 0; i < batch.count; i++) perUnique.push(null);
  // Each VMA's source is set up once, when its first address comes. The distinct addresses are
  // looked up in ascending order (symbolizeFile() too): VMAs, tables and DWARF units met in turn.
  const order = ascending(his, los);
  const perEntry: EntrySource[] = [];
  const lookups = lookupsPerEntry(entryOf, finished.length);
  let lastEntry = -1;
  let f: Finished | undefined;
  let s: VmaSource | undefined;
  let fast: Fast | undefined;
  let miss: NoSymbol | undefined;
  let lines: ModuleLines | undefined;
  /** Modules whose lines were asked: their cache size is updated at the end (units parsed meanwhile). */
  const touched = new Set<ModuleSymbols>();
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    const e = entryOf[i];
    if (e < 0) continue;
    if (e !== lastEntry) {
      lastEntry = e;
      f = finished[e];
      ({ s, fast, miss } = perEntry[e] ??= entrySource(sourceOf, f, () => lookups(e)));
      lines = o.lines ? s.module?.lines ?? undefined : undefined;
      if (lines) touched.add(s.module!);
    }
    const h = his[i];
    if (fast && h < TWO_52 / TWO_32) {
      const addr = unique[i];
      const fo = h * TWO_32 + los[i] + fast.deltaNum;
      if (fo >= fast.segStart && fo < fast.segEnd) {
        // Bigints made from the doubles (exact here): V8 makes one from a typed array
        // element far faster than it adds two.
        const fileOffset = toBigint(fo);
        const ea = fo + fast.shiftNum;
        // Libraries map their code at file offset = ELF address: one bigint serves both.
        const elfAddr = fast.shiftZero ? fileOffset : toBigint(ea);
        const symbol = fastSymbol(fast, ea, elfAddr, want, lines, o.inlines);
        perUnique[i] = new SymbolizedResult(
          addr,
          f!.vma,
          f!.kind,
          f!.name,
          f!.buildId,
          fileOffset,
          elfAddr,
          undefined,
          undefined,
          symbol,
          symbol ? undefined : miss!.reason,
          symbol ? undefined : miss!.message,
        );
        continue;
      }
      // Page padding past the segment: a file offset, no ELF address.
      const reasonText = REASON_TEXT["outside-load"];
      perUnique[i] = new SymbolizedResult(
        addr,
        f!.vma,
        f!.kind,
        f!.name,
        f!.buildId,
        toBigint(fo),
        undefined,
        "outside-load",
        reasonText,
        undefined,
        "no-elf-address",
        reasonText,
      );
      continue;
    }
    perUnique[i] = symbolizeOne(resolvedAt(f!, unique[i]), s!, want, miss, lines, o.inlines);
  }
  for (const m of touched) account(symbolizer, m);
  // What the JIT tables hold now counts in the symbolizer's cache (after a throw, at the next call).
  end();
  // A new array in input order even when every address is distinct: returning perUnique (filled in address
  // order) measured 10-15% slower in Deno, interleaved.
  const out: (Symbolized | null)[] = [];
  for (let i = 0; i < batch.slot.length; i++) out.push(perUnique[batch.slot[i]]);
  releaseBatch(batch);
  return out;
}

/**
 * What the general route finds for one address: the symbol (with the address
 * in its table's space, `at`), or why there is none; and the ELF address
 * (the vDSO's is its image's).
 */
export interface GeneralFound {
  raw: RawSymbol | undefined;
  source: SymbolSource | undefined;
  at: bigint;
  elfAddr: bigint | undefined;
  reason: SymbolReason | undefined;
  message: string | undefined;
}

/** The general route: the symbol of one resolved address, or why it has none. */
export function generalLookup(r: Resolved, s: VmaSource, miss: NoSymbol | undefined): GeneralFound {
  let reason = s.reason, message = s.message;
  let elfAddr = r.elfAddr;
  if (s.tables) {
    for (const t of s.tables) {
      const raw = t.find(r.addr);
      if (raw) return { raw, source: t.source, at: r.addr, elfAddr, reason: undefined, message: undefined };
    }
    reason = "jit-no-perf-map";
    const limited = s.jit?.limited();
    message = limited ? `${MESSAGES.jitMiss}; reading stopped at a limit (${limited})` : MESSAGES.jitMiss;
  } else if (s.module) {
    if (s.elfAddr) elfAddr = s.elfAddr(r.addr);
    if (elfAddr === undefined) {
      reason = "no-elf-address";
      message = r.reasonText ?? "no ELF address";
    } else {
      for (const t of s.module.tables) {
        const raw = t.find(elfAddr);
        if (raw) return { raw, source: t.source, at: elfAddr, elfAddr, reason: undefined, message: undefined };
      }
      ({ reason, message } = miss!);
    }
  }
  return { raw: undefined, source: undefined, at: 0n, elfAddr, reason, message };
}

/** The general route: one resolved address completed with its symbol, or why it has none. */
function symbolizeOne(
  r: Resolved,
  s: VmaSource,
  want: boolean,
  miss: NoSymbol | undefined,
  lines: ModuleLines | undefined,
  inlines: boolean,
): Symbolized {
  const g = generalLookup(r, s, miss);
  let symbol = g.raw && symbolInfo(g.raw, g.source!, g.at, want);
  let { reason, message } = g;
  if (lines && s.module && g.elfAddr !== undefined) {
    // With its frames; where no table covers the address, DWARF's function.
    symbol = withLines(lines, symbol, g.elfAddr, want, inlines);
    if (symbol) reason = message = undefined;
  }
  return new SymbolizedResult(
    r.addr,
    r.vma,
    r.kind,
    r.name,
    r.buildId,
    r.fileOffset,
    g.elfAddr,
    r.reason,
    r.reasonText,
    symbol,
    reason,
    message,
  );
}

/** The vDSO as an ELF module read from the process's memory. */
function vdsoSource(src: SymbolizeSources, symbolizer: Symbolizer, vma: Vma): VmaSource {
  // /proc/<pid>/mem through the pinned directory, so a reused pid cannot answer.
  const image = readVdsoImage(src.libc, `/proc/self/fd/${src.proc.dirfd}`, vma.start, vma.end);
  src.proc.requireAlive();
  if (!image) return { reason: "vdso-unreadable", message: MESSAGES.vdso };
  const read = memoryReader(image);
  const loads = loadSegments(read);
  const seg = loads && segmentForVma(loads, {
    start: vma.start,
    end: vma.end,
    offset: 0n,
    pageSize: vma.pageSize,
    readable: vma.readable,
    writable: vma.writable,
    executable: vma.executable,
  });
  if (!seg) return { reason: "no-elf", message: "the vDSO image has no usable program headers" };
  const elf = readSections(read);
  const id = elf ? sectionBuildId(read, elf) : undefined;
  const module = memoryTables(
    symbolizer,
    id ? `vdso:${id}` : undefined,
    () =>
      loadModule(src.libc, read, () => false, {
        buildId: id,
        path: undefined,
        procDir: undefined,
        debugDirs: [],
        vdso: true,
      }),
  );
  return { module, elfAddr: (a) => elfAddrOf(seg, a - vma.start) };
}
