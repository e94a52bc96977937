/**
 * `ProcMaps.symbolize()`: resolve a batch, then name each address from the
 * symbol source its mapping calls for (ELF tables of the mapped file, the
 * vDSO image, the target's perf map for JIT code).
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import { booleanOption, choiceOption, describeValue, ownOptions, type Pid, type ResolveStrategy } from "../options.ts";
import type { Resolved } from "../resolve/types.ts";
import type { Vma } from "../vma.ts";
import { mappedFileOf, openMappedFile } from "../elf/mapped_file.ts";
import { errnoName, isTransient } from "../errors.ts";
import type { ProcessRef } from "../procfs/process.ts";
import { elfAddrOf, loadSegments, segmentForVma } from "../elf/segments.ts";
import { memoryReader } from "../elf/read_at.ts";
import { readSections } from "../elf/sections.ts";
import { sectionBuildId } from "../elf/debug_link.ts";
import { loadModule, type ModuleSymbols } from "./elf_module.ts";
import { checkDebugDirs, Symbolizer } from "./symbolizer.ts";
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
  resolve(addrs: unknown, opts: { strategy: ResolveStrategy }): (Resolved | null)[];
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

/** Symbolizes a batch; see ProcMaps.symbolize. */
export function symbolizeBatch(src: SymbolizeSources, addrs: unknown, opts: unknown): (Symbolized | null)[] {
  const o = checkOptions(opts);
  const symbolizer = o.symbolizer ?? src.symbolizer();
  const debugDirs = o.debugDirs ?? symbolizer.debugDirs;
  const resolved = src.resolve(addrs, { strategy: o.strategy });
  const byVma = new Map<Vma, VmaSource>();
  /** Modules of files without a build ID: for this call only. */
  const uncached = new Map<string, ModuleSymbols>();
  let jit: VmaSource | undefined;

  const sourceOf = (r: Resolved): VmaSource => {
    const vma = r.vma;
    switch (r.kind) {
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
        return r.name === "[vdso]"
          ? vdsoSource(src, symbolizer, vma)
          : { reason: "special", message: MESSAGES.special };
    }
    // A file: its ELF tables, through the same checked route resolve() used.
    const fileKey = `${vma.devMajor}:${vma.devMinor}:${vma.inode}`;
    if (!r.buildId && uncached.has(fileKey)) return { module: uncached.get(fileKey) };
    // Warm: the tables are known by identity and build ID, so the file need not be opened.
    const known = r.buildId ? symbolizer.cached(fileKey, r.buildId, debugDirs) : undefined;
    if (known) return { module: known };
    // Opened relative to the handle's pinned /proc/<pid> directory, as resolve() opens files.
    const fd = openMappedFile(src.libc, src.proc.dirfd, mappedFileOf(vma));
    if (fd < 0) {
      src.proc.requireAlive(); // a process that is gone is ESRCH, not "unreadable"
      return isTransient(-fd)
        ? { reason: "transient", message: `opening ${r.name} failed (${errnoName(-fd)}); try again` }
        : { reason: "file-unreadable", message: `${r.name}: cannot open the mapped file from here` };
    }
    try {
      const module = symbolizer.module(src.libc, fd, fileKey, {
        buildId: r.buildId,
        path: r.kind === "file" ? r.name : undefined,
        // Debug links next to the file: in the target's root, through the pinned directory.
        root: `/proc/self/fd/${src.proc.dirfd}/root`,
        debugDirs,
      });
      if (!r.buildId) uncached.set(fileKey, module);
      return { module };
    } finally {
      src.libc.close(fd);
    }
  };

  // Each Resolved object is this call's own (equal addresses share one):
  // completed in place, which saves a copy per address.
  const out = resolved as (Symbolized | null)[];
  let lastVma: Vma | undefined;
  let lastSource: VmaSource | undefined;
  for (let i = 0; i < out.length; i++) {
    const r = out[i] as Writable | null;
    if (r === null || r.symbolReason !== undefined || r.symbol !== undefined) continue;
    // Consecutive samples often share a VMA: remember the last one.
    let s: VmaSource | undefined = r.vma === lastVma ? lastSource : byVma.get(r.vma);
    if (!s) byVma.set(r.vma, s = sourceOf(r));
    lastVma = r.vma;
    lastSource = s;
    let symbol: SymbolInfo | undefined;
    let reason = s.reason, message = s.message;
    if (s.tables) {
      for (const t of s.tables) {
        const raw = t.find(r.addr);
        if (raw) {
          symbol = symbolizer.info(raw, t.source, r.addr, o.demangle);
          break;
        }
      }
      if (!symbol) {
        reason = "jit-no-perf-map";
        message = MESSAGES.jitMiss;
      }
    } else if (s.module) {
      if (s.elfAddr) r.elfAddr = s.elfAddr(r.addr);
      if (r.elfAddr === undefined) {
        reason = "no-elf-address";
        message = r.reason ?? "no ELF address";
      } else {
        symbol = symbolizer.find(s.module, r.elfAddr, o.demangle);
        if (!symbol) ({ reason, message } = symbolizer.whyNot(s.module));
      }
    }
    r.symbol = symbol;
    r.symbolReason = symbol ? undefined : reason;
    r.symbolMessage = symbol ? undefined : message;
  }
  return out;
}

/** A result being completed. */
type Writable = { -readonly [K in keyof Symbolized]: Symbolized[K] };

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
