/**
 * `ProcMaps.symbolize()`: resolve a batch, then name each address from the
 * symbol source its mapping calls for (ELF tables of the mapped file, the
 * vDSO image, the target's perf map for JIT code).
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import { booleanOption, choiceOption, describeValue, ownOptions, type Pid, type ResolveStrategy } from "../options.ts";
import type { Resolved } from "../resolve/types.ts";
import { type Finished, type LocatedBatch, REASON_TEXT, resolvedAt } from "../resolve/resolve.ts";
import type { ElfSymbol, ElfSymbolTable } from "../elf/symbols.ts";
import type { Vma } from "../vma.ts";
import { nativeLittleEndian } from "../util/bytes.ts";
import { mappedFileOf, openMappedFile } from "../elf/mapped_file.ts";
import { errnoName, isTransient } from "../errors.ts";
import type { ProcessRef } from "../procfs/process.ts";
import { elfAddrOf, loadSegments, segmentForVma } from "../elf/segments.ts";
import { memoryReader } from "../elf/read_at.ts";
import { readSections } from "../elf/sections.ts";
import { sectionBuildId } from "../elf/debug_link.ts";
import { loadModule, type ModuleSymbols } from "./elf_module.ts";
import { checkDebugDirs, demangledOf, type NoSymbol, Symbolizer } from "./symbolizer.ts";
import { readVdsoImage } from "./vdso.ts";
import type { JitSources } from "./jit.ts";
import type { Symbolized, SymbolReason } from "./result.ts";
import type { SymbolInfo, SymbolTable } from "./types.ts";

/** Options for {@link ProcMaps.symbolize}. */
export interface SymbolizeOptions {
  /** Fill `demangled` with readable C++ and Rust names (default true). */
  demangle?: boolean;
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
  locate(addrs: unknown, opts: { strategy: ResolveStrategy }): LocatedBatch;
  /** The handle's own Symbolizer (made on first use). */
  symbolizer(): Symbolizer;
  /** The handle's JIT tables (perf map, jitdump), kept open across calls. */
  jit(): JitSources;
}

const KEYS = new Set(["demangle", "debugDirs", "perfMap", "symbolizer", "strategy"]);
const STRATEGIES = ["auto", "ioctl", "text"] as const;

interface Checked {
  demangle: boolean;
  debugDirs: readonly string[] | undefined;
  perfMap: boolean;
  symbolizer: Symbolizer | undefined;
  strategy: ResolveStrategy;
}

function checkOptions(opts: unknown): Checked {
  if (opts === undefined) {
    return { demangle: true, debugDirs: undefined, perfMap: true, symbolizer: undefined, strategy: "auto" };
  }
  const o = ownOptions(opts, "symbolize", KEYS);
  if (o.symbolizer !== undefined && !(o.symbolizer instanceof Symbolizer)) {
    throw new TypeError(`option symbolizer must be a Symbolizer, got ${describeValue(o.symbolizer)}`);
  }
  return {
    demangle: booleanOption(o, "demangle", true),
    debugDirs: o.debugDirs === undefined ? undefined : checkDebugDirs(o.debugDirs, []),
    perfMap: booleanOption(o, "perfMap", true),
    symbolizer: o.symbolizer as Symbolizer | undefined,
    strategy: choiceOption(o, "strategy", STRATEGIES, "auto"),
  };
}

/** What one VMA of the batch symbolizes with. */
interface VmaSource {
  module?: ModuleSymbols;
  /** JIT tables, asked in order. */
  tables?: SymbolTable[];
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

/** 2^32, and the bound below which addresses and offsets are handled as (exact) doubles. */
const TWO_32 = 2 ** 32;
const TWO_52 = 2 ** 52;
const SAFE_LOW = -(2n ** 52n);
const SAFE_HIGH = 2n ** 52n;

/**
 * A VMA whose addresses take the fast route: a file's ELF module, one
 * PT_LOAD segment, every quantity a double below 2^52, so that the symbol is
 * found from numbers and only the results' own bigints are made.
 */
interface Fast {
  shiftZero: boolean;
  deltaNum: number;
  shiftNum: number;
  segStart: number;
  segEnd: number;
  tables: ElfSymbolTable[];
  /** Per table, the piece of the previous (lower) address: a sorted batch searches forward from it. */
  hints: Int32Array;
}

/** Small offsets as bigints, made once: most addresses lie less than this far into their function. */
const SMALL_OFFSETS = 8192;
let smallOffsets: bigint[] | undefined;

/** `elfAddr - raw.start`, shared when small (bigints are immutable, and allocating one per address shows in GC). */
function offsetBigint(ea: number, raw: ElfSymbol, elfAddr: bigint): bigint {
  const d = ea - raw.at;
  if (d >= 0 && d < SMALL_OFFSETS) {
    // A dense array of small integers' bigints, made on first use (8192 bigints, 200 KB).
    smallOffsets ??= Array.from({ length: SMALL_OFFSETS }, (_, k) => BigInt(k));
    return smallOffsets[d | 0];
  }
  return d >= 0 && d < TWO_52 ? toBigint(d) : elfAddr - raw.start;
}

/** One u64 as two 32-bit words: a bigint made by reading it back allocates nothing else. */
const oneU64 = new BigUint64Array(1);
const oneWords = new Uint32Array(oneU64.buffer);
const LO = nativeLittleEndian ? 0 : 1;

/** The bigint of `v`, a non-negative integer below 2^53. */
function toBigint(v: number): bigint {
  const h = Math.floor(v / TWO_32);
  oneWords[LO] = v - h * TWO_32;
  oneWords[1 - LO] = h;
  return oneU64[0];
}

function isSafe(v: bigint): boolean {
  return v > SAFE_LOW && v < SAFE_HIGH;
}

/** The fast route for a VMA's addresses, or undefined where the general one must answer. */
function fastFor(f: Finished, s: VmaSource): Fast | undefined {
  const seg = f.segments?.length === 1 ? f.segments[0] : undefined;
  if (!s.module || s.elfAddr || f.delta === undefined || !seg) return undefined;
  if (!isSafe(f.delta) || !isSafe(seg.offset) || !isSafe(seg.end) || !isSafe(seg.shift)) return undefined;
  const tables = s.module.tables;
  return {
    shiftZero: seg.shift === 0n,
    deltaNum: Number(f.delta),
    shiftNum: Number(seg.shift),
    segStart: Number(seg.offset),
    segEnd: Number(seg.end),
    tables,
    hints: new Int32Array(tables.length).fill(-1),
  };
}

/** Symbolizes a batch; see ProcMaps.symbolize. */
export function symbolizeBatch(src: SymbolizeSources, addrs: unknown, opts: unknown): (Symbolized | null)[] {
  const o = checkOptions(opts);
  const symbolizer = o.symbolizer ?? src.symbolizer();
  const debugDirs = o.debugDirs ?? symbolizer.debugDirs;
  const { batch, entryOf, finished } = src.locate(addrs, { strategy: o.strategy });
  /** Modules of files without a build ID: for this call only. */
  const uncached = new Map<string, ModuleSymbols>();
  let jit: VmaSource | undefined;

  const sourceOf = (f: Finished): VmaSource => {
    const vma = f.vma;
    switch (f.kind) {
      case "anonymous":
        return { reason: "anonymous", message: MESSAGES.anonymous };
      case "jit": {
        if (!o.perfMap) return { reason: "jit-no-perf-map", message: MESSAGES.jitOff };
        if (!jit) {
          const { tables, missing } = src.jit().tables();
          // The perf map and jitdump are found by pid: alive now means they were this process's.
          src.proc.requireAlive();
          jit = tables.length
            ? { tables }
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
    const known = f.buildId ? symbolizer.cached(fileKey, f.buildId, debugDirs) : undefined;
    if (known) return { module: known };
    // Opened relative to the handle's pinned /proc/<pid> directory, as resolve() opens files.
    const fd = openMappedFile(src.libc, src.proc.dirfd, mappedFileOf(vma));
    if (fd < 0) {
      src.proc.requireAlive(); // a process that is gone is ESRCH, not "unreadable"
      return isTransient(-fd)
        ? { reason: "transient", message: `opening ${f.name} failed (${errnoName(-fd)}); try again` }
        : { reason: "file-unreadable", message: `${f.name}: cannot open the mapped file from here` };
    }
    try {
      const module = symbolizer.module(src.libc, fd, fileKey, {
        buildId: f.buildId,
        path: f.kind === "file" ? f.name : undefined,
        // Debug links next to the file: in the target's root, through the pinned directory.
        root: `/proc/self/fd/${src.proc.dirfd}/root`,
        debugDirs,
      });
      if (!f.buildId) uncached.set(fileKey, module);
      return { module };
    } finally {
      src.libc.close(fd);
    }
  };

  const { unique, hi: his, lo: los } = batch;
  const want = o.demangle;
  // Arrays filled in index order from empty (JavaScriptCore makes \`new Array(n)\` sparse from n = 100,000).
  const perUnique: (Symbolized | null)[] = [];
  // Distinct addresses are sorted, so each VMA's come in one run: its source is set up once.
  let lastEntry = -1;
  let f: Finished | undefined;
  let s: VmaSource | undefined;
  let fast: Fast | undefined;
  let miss: NoSymbol | undefined;
  for (let i = 0; i < unique.length; i++) {
    const e = entryOf[i];
    if (e < 0) {
      perUnique[i] = null;
      continue;
    }
    if (e !== lastEntry) {
      lastEntry = e;
      f = finished[e];
      s = sourceOf(f);
      fast = fastFor(f, s);
      miss = s.module && symbolizer.whyNot(s.module);
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
        const { tables, hints } = fast;
        let symbol: SymbolInfo | undefined;
        for (let t = 0; t < tables.length; t++) {
          const p = tables[t].pieceOf(ea, hints[t]);
          hints[t] = p;
          const raw = tables[t].symbolOfPiece(p);
          if (raw) {
            symbol = {
              name: raw.name,
              demangled: want ? raw.demangled ?? demangledOf(raw) : raw.name,
              start: raw.start,
              size: raw.size,
              offset: offsetBigint(ea, raw, elfAddr),
              source: tables[t].source,
            };
            break;
          }
        }
        perUnique[i] = {
          addr,
          vma: f!.vma,
          kind: f!.kind,
          name: f!.name,
          buildId: f!.buildId,
          fileOffset,
          elfAddr,
          reason: undefined,
          reasonText: undefined,
          symbol,
          symbolReason: symbol ? undefined : miss!.reason,
          symbolMessage: symbol ? undefined : miss!.message,
        };
        continue;
      }
      // Page padding past the segment: a file offset, no ELF address.
      const reasonText = REASON_TEXT["outside-load"];
      perUnique[i] = {
        addr,
        vma: f!.vma,
        kind: f!.kind,
        name: f!.name,
        buildId: f!.buildId,
        fileOffset: toBigint(fo),
        elfAddr: undefined,
        reason: "outside-load",
        reasonText,
        symbol: undefined,
        symbolReason: "no-elf-address",
        symbolMessage: reasonText,
      };
      continue;
    }
    perUnique[i] = symbolizeOne(resolvedAt(f!, unique[i]), s!, symbolizer, want, miss);
  }
  const out: (Symbolized | null)[] = [];
  for (let i = 0; i < batch.slot.length; i++) out.push(perUnique[batch.slot[i]]);
  return out;
}

/** The general route: one resolved address completed with its symbol, or why it has none. */
function symbolizeOne(
  r: Resolved,
  s: VmaSource,
  symbolizer: Symbolizer,
  want: boolean,
  miss: NoSymbol | undefined,
): Symbolized {
  let symbol: SymbolInfo | undefined;
  let reason = s.reason, message = s.message;
  let elfAddr = r.elfAddr;
  if (s.tables) {
    for (const t of s.tables) {
      const raw = t.find(r.addr);
      if (raw) {
        symbol = symbolizer.info(raw, t.source, r.addr, want);
        break;
      }
    }
    if (!symbol) {
      reason = "jit-no-perf-map";
      message = MESSAGES.jitMiss;
    }
  } else if (s.module) {
    if (s.elfAddr) elfAddr = s.elfAddr(r.addr);
    if (elfAddr === undefined) {
      reason = "no-elf-address";
      message = r.reasonText ?? "no ELF address";
    } else {
      symbol = symbolizer.find(s.module, elfAddr, want);
      if (!symbol) ({ reason, message } = miss!);
    }
  }
  return {
    addr: r.addr,
    vma: r.vma,
    kind: r.kind,
    name: r.name,
    buildId: r.buildId,
    fileOffset: r.fileOffset,
    elfAddr,
    reason: r.reason,
    reasonText: r.reasonText,
    symbol,
    symbolReason: symbol ? undefined : reason,
    symbolMessage: symbol ? undefined : message,
  };
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
  const module = symbolizer.memoryModule(
    id ? `vdso:${id}` : undefined,
    () =>
      loadModule(src.libc, read, () => false, { buildId: id, path: undefined, root: "", debugDirs: [], vdso: true }),
  );
  return { module, elfAddr: (a) => elfAddrOf(seg, a - vma.start) };
}
