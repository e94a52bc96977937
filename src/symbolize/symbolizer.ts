/**
 * The Symbolizer: symbol tables of ELF modules, read once and kept in a
 * byte-bounded cache shared by every handle (and call) that uses it.
 * @module
 */
import { emptyFileId, getLibc, type Libc, readEnv } from "../../ffi/mod.ts";
import { S_IFDIR, S_IFMT } from "../../ffi/constants.ts";
import {
  checkDebuginfodOption,
  type DebuginfodConfig,
  type DebuginfodOptions,
  normalBuildId,
  resolveConfig,
} from "../debuginfod/config.ts";
import { findBuildId } from "../elf/build_id.ts";
import { fdReader } from "../elf/read_at.ts";
import { booleanOption, describeValue, ownOptions, toAddress } from "../options.ts";
import { toBatch } from "../resolve/batch.ts";
import { ascending } from "./ascending.ts";
import { type FileSymbolizedTable, fileTable } from "./file_table.ts";
import { ByteLru } from "./cache.ts";
import { loadModule, type ModuleContext, type ModuleSymbols, wantsDebugInfo } from "./elf_module.ts";
import { loadModuleLines, MAX_PARSED_BYTES, type ModuleLines } from "./module_lines.ts";
import { CrcMemo } from "./debug_files.ts";
import type { JitBudget } from "./jit.ts";
import { openTargetFile } from "../procfs/target_files.ts";
import {
  type FileSymbolized,
  FileSymbolizedResult,
  type KernelSymbolized,
  KernelSymbolizedResult,
  SymbolInfoResult,
  type SymbolReason,
} from "./result.ts";
import { type Kallsyms, readKallsyms } from "./kallsyms.ts";
import type { FileOptions, RawSymbol, SymbolInfo, SymbolSource } from "./types.ts";
import { demangledOf, fastSymbol, flagCut, infoWith, tableCursor, TWO_32, TWO_52 } from "./table_cursor.ts";
import { type BuildIdSymbolized, type SymbolizeBuildIdOptions, symbolizeByBuildId } from "./by_build_id.ts";
import {
  type DebuginfodReport,
  fetchAll,
  type FetchOptions,
  type FileSymbolizedAsync,
  reportOf,
  splitFetchOptions,
  withReport,
} from "./fetching.ts";

/** Options for {@link Symbolizer}. */
export interface SymbolizerOptions {
  /**
   * Bound of the symbol-table cache, in bytes (default 128 MiB). Tables are
   * kept by device, inode and build ID (for a file without one: its size
   * and modification and change times); the JIT tables of the handles that
   * use this Symbolizer (perf map, jitdump) count too, and read no more than
   * the bound. The least recently used go first (an evicted JIT table is
   * read again when next needed). 0 keeps nothing across calls.
   */
  maxCacheBytes?: number;
  /** Default debug directories (default `["/usr/lib/debug"]`). */
  debugDirs?: readonly string[];
  /**
   * The debuginfod client's settings, each overriding its environment
   * variable (`DEBUGINFOD_URLS`, `DEBUGINFOD_CACHE_PATH`, ...), or `false`
   * to use neither servers nor cache. Synchronous calls only read the
   * cache (as one more debug directory, by build ID); the `...Async` forms
   * and {@link Symbolizer.symbolizeBuildId} fetch what is missing. Nothing
   * goes to the network unless this option or `DEBUGINFOD_URLS` names a
   * server.
   */
  debuginfod?: DebuginfodOptions | false;
}

/** Options for {@link Symbolizer.symbolizeFile}. */
export interface SymbolizeFileOptions {
  /** Fill `demangled` with readable C++ and Rust names (default true). */
  demangle?: boolean;
  /**
   * Source lines from DWARF: `symbol.frames` (default true). `false` reads
   * no DWARF at all.
   */
  lines?: boolean;
  /** With `lines`, the inlined calls too: `false` gives one frame, the function's own (default true). */
  inlines?: boolean;
  /** Directories with separate debug files (default: the Symbolizer's). */
  debugDirs?: readonly string[];
}

/** Options for {@link Symbolizer.symbolizeFileAsync}: those of `symbolizeFile()`, a signal and a progress callback. */
export interface SymbolizeFileAsyncOptions extends SymbolizeFileOptions, FetchOptions {}

const DEFAULT_CACHE_BYTES = 128 << 20;
const DEFAULT_DEBUG_DIRS: readonly string[] = Object.freeze(["/usr/lib/debug"]);

/** Checks a `debugDirs` option: absolute paths, at most 64. */
export function checkDebugDirs(v: unknown, fallback: readonly string[]): readonly string[] {
  if (v === undefined) return fallback;
  if (!Array.isArray(v) || v.length > 64) {
    throw new TypeError(`option debugDirs must be an array of at most 64 absolute paths, got ${describeValue(v)}`);
  }
  for (const d of v) {
    if (typeof d !== "string" || !d.startsWith("/") || d.length > 4096 || d.includes("\0")) {
      throw new TypeError(`option debugDirs: each entry must be an absolute path, got ${describeValue(d)}`);
    }
  }
  return Object.freeze(v.map((d: string) => d.replace(/\/+$/, "") || "/"));
}

/** Why a module named nothing: a reason and its message. */
export interface NoSymbol {
  reason: SymbolReason;
  message: string;
}
const noSymbol = new WeakMap<ModuleSymbols, NoSymbol>();

/** The reason and message for a module without tables. */
export const MODULE_REASON: Record<string, SymbolReason> = {
  "no-elf": "no-elf",
  "no-symbols": "no-symbols",
  "table-too-big": "table-too-big",
  unreadable: "no-elf",
};

/** A Symbolizer's cache (set by the class's static block). */
let cacheOf: (s: Symbolizer) => ByteLru<ModuleSymbols | undefined>;
/** A Symbolizer's memo of debug-link checksums (set by the class's static block). */
let crcsOf: (s: Symbolizer) => CrcMemo;

/**
 * Symbol tables of ELF files, cached across calls and handles: give one to
 * several {@link ProcMaps.symbolize} calls (option `symbolizer`) so that a
 * profiler reads each library's tables once.
 *
 * @example
 * ```ts
 * const symbolizer = new Symbolizer({ maxCacheBytes: 64 << 20 });
 * const [r] = symbolizer.symbolizeFile("/usr/lib/x86_64-linux-gnu/libc.so.6", [0x9ec80n]);
 * console.log(r.symbol?.name);
 * ```
 */
export class Symbolizer {
  readonly #cache: ByteLru<ModuleSymbols | undefined>;
  readonly #debugDirs: readonly string[];
  /** Checksums of debug-link candidates, so that none is read whole twice while unchanged. */
  readonly #crcs = new CrcMemo();
  readonly #debuginfodOption: DebuginfodOptions | false | undefined;
  /** Resolved on first use (the environment is read then); null until then. */
  #debuginfod: DebuginfodConfig | undefined | null = null;
  #kallsyms: Kallsyms | undefined;

  /**
   * A Symbolizer with an empty cache.
   * @throws {TypeError | RangeError} for bad options.
   */
  constructor(opts?: SymbolizerOptions) {
    if (opts !== undefined && (typeof opts !== "object" || opts === null)) {
      throw new TypeError(`Symbolizer options must be an object, got ${describeValue(opts)}`);
    }
    const max = opts?.maxCacheBytes ?? DEFAULT_CACHE_BYTES;
    if (typeof max !== "number" || !Number.isSafeInteger(max) || max < 0) {
      throw new RangeError(`option maxCacheBytes must be a non-negative safe integer, got ${describeValue(max)}`);
    }
    this.#cache = new ByteLru(max);
    this.#debugDirs = checkDebugDirs(opts?.debugDirs, DEFAULT_DEBUG_DIRS);
    this.#debuginfodOption = checkDebuginfodOption(opts?.debuginfod);
  }

  /** Bytes the cache holds now (approximate). */
  get cacheBytes(): number {
    return this.#cache.bytes;
  }

  /** The cache's bound in bytes. */
  get maxCacheBytes(): number {
    return this.#cache.maxBytes;
  }

  /** The default debug directories. */
  get debugDirs(): readonly string[] {
    return this.#debugDirs;
  }

  /** Forgets every cached table (handles' JIT tables too: they are read again when next needed). */
  clear(): void {
    this.#cache.clear();
  }

  /**
   * @internal The debuginfod settings (options over the environment, read
   * on first use), or undefined when debuginfod is off.
   */
  debuginfodConfig(): DebuginfodConfig | undefined {
    if (this.#debuginfod === null) {
      const libc = getLibc();
      this.#debuginfod = resolveConfig(this.#debuginfodOption, {
        env: readEnv,
        isDirectory: (path) => {
          const id = emptyFileId();
          return libc.stat(path, id) === 0 && (id.mode & S_IFMT) === S_IFDIR;
        },
      });
    }
    return this.#debuginfod;
  }

  /** @internal Forgets the cached tables of modules with this build ID (a debug file for it just arrived). */
  forgetBuildId(buildId: string): void {
    this.#cache.deleteIf((key) => key.includes(`:${buildId}|`));
  }

  /**
   * Symbolizes ELF addresses (as symbol tables and `nm` give them, e.g.
   * `Resolved.elfAddr`) of the file at `path`, without any process: one
   * result per address, in order. The path is the caller's own and is
   * opened as given (it must be a regular file).
   *
   * @throws {TypeError | RangeError} for a bad path, address or option.
   */
  symbolizeFile(path: string, elfAddrs: Iterable<bigint | number>, opts?: SymbolizeFileOptions): FileSymbolized[] {
    checkPath(path);
    const o = checkFileOptions(opts, this.#debugDirs);
    return this.fileResults(this.fileModule(getLibc(), path, o.debugDirs, o.lines), elfAddrs, o);
  }

  /**
   * {@link symbolizeFile} as columns, for large batches (a profiler's
   * samples): one row per distinct address with its symbol, offset, reason
   * and source-frame chain as numbers into tables of distinct symbols and
   * frame chains, and no object per address unless asked for (`at(i)` is
   * `symbolizeFile()`'s result `i`). Takes a BigUint64Array as it is.
   *
   * @throws {TypeError | RangeError} for a bad path, address or option.
   */
  symbolizeFileTable(
    path: string,
    elfAddrs: Iterable<bigint | number> | BigUint64Array,
    opts?: SymbolizeFileOptions,
  ): FileSymbolizedTable {
    checkPath(path);
    const o = checkFileOptions(opts, this.#debugDirs, "symbolizeFileTable");
    const source = this.fileModule(getLibc(), path, o.debugDirs, o.lines);
    const { module } = source;
    const table = fileTable({ ...source, miss: module && whyNot(module) }, elfAddrs, o);
    if (module) account(this, module);
    return table;
  }

  /**
   * {@link symbolizeFile}, after fetching the file's debug file from
   * debuginfod when it has none locally (no `.symtab`, no debug file in
   * `debugDirs` or the debuginfod cache; with `lines`, the default, no
   * DWARF locally) and has a build ID: the answers
   * are what `symbolizeFile()` gives with that file at hand, each with what
   * debuginfod did (`debuginfod`). One download per build ID however many
   * callers want it; a server that fails is a report in the results, never
   * an exception. Nothing goes to the network unless the `debuginfod`
   * option or `DEBUGINFOD_URLS` names a server.
   *
   * @throws {TypeError | RangeError} for a bad path, address or option.
   * @throws the reason of `opts.signal` when it aborts.
   */
  async symbolizeFileAsync(
    path: string,
    elfAddrs: Iterable<bigint | number>,
    opts?: SymbolizeFileAsyncOptions,
  ): Promise<FileSymbolizedAsync[]> {
    const { fetch, rest } = splitFetchOptions(opts, "symbolizeFileAsync");
    checkPath(path);
    const o = checkFileOptions(rest, this.#debugDirs);
    const addrs = Array.from(elfAddrs, (a, i) => toAddress(a, `address [${i}]`));
    fetch.signal?.throwIfAborted();
    const libc = getLibc();
    let source = this.fileModule(libc, path, o.debugDirs, o.lines);
    const id = source.buildId;
    let report: DebuginfodReport | undefined;
    if (
      source.module && wantsDebugInfo(source.module, o.lines) && id && (this.debuginfodConfig()?.urls.length ?? 0) > 0
    ) {
      const outcome = (await fetchAll(this, [id], "debuginfo", fetch)).get(id);
      if (outcome?.status === "downloaded") source = this.fileModule(libc, path, o.debugDirs, o.lines);
      report = reportOf(outcome);
    }
    return this.fileResults(source, addrs, o).map((r) => withReport(r, report));
  }

  /**
   * @internal One result per ELF address of a module, or of a module that
   * could not be had (its reason and message): what {@link symbolizeFile}
   * answers, and the asynchronous and build-ID forms with it.
   */
  fileResults(source: FileModule, elfAddrs: Iterable<bigint | number>, o: FileOptions): FileSymbolized[] {
    // Checked and de-duplicated: each distinct address is looked up once, in
    // ascending order (tables searched forward, DWARF units met in turn: in
    // the callers' order each address may land in another unit).
    const { unique, hi, lo, slot } = toBatch(elfAddrs);
    const { module, reason, message } = source;
    const perUnique: FileSymbolized[] = [];
    if (!module) {
      for (const elfAddr of unique) perUnique.push(new FileSymbolizedResult(elfAddr, undefined, reason, message));
    } else {
      const lines = o.lines ? module.lines ?? undefined : undefined;
      const cursor = tableCursor(module.tables);
      const miss = whyNot(module);
      for (const t of module.tables) t.expectLookups(() => unique.length);
      // Filled in index order from empty first (JavaScriptCore makes `new Array(n)` sparse from n = 100,000).
      for (let i = 0; i < unique.length; i++) perUnique.push(undefined!);
      const order = ascending(hi, lo);
      for (let k = 0; k < order.length; k++) {
        const i = order[k];
        const elfAddr = unique[i];
        // (Its frames found with it: one SymbolInfo per address.)
        let symbol: SymbolInfo | undefined;
        if (hi[i] < TWO_52 / TWO_32) {
          symbol = fastSymbol(cursor, hi[i] * TWO_32 + lo[i], elfAddr, o.demangle, lines, o.inlines);
        } else {
          symbol = findSymbol(module, elfAddr, o.demangle);
          if (lines) symbol = withLines(lines, symbol, elfAddr, o.demangle, o.inlines);
        }
        perUnique[i] = symbol
          ? new FileSymbolizedResult(elfAddr, symbol, undefined, undefined)
          : new FileSymbolizedResult(elfAddr, undefined, miss.reason, miss.message);
      }
      account(this, module);
    }
    const out: FileSymbolized[] = [];
    for (let i = 0; i < slot.length; i++) out.push(perUnique[slot[i]]);
    return out;
  }

  /**
   * Symbolizes addresses of a module known only by its build ID, without
   * the process or the file at hand: what a central symbolizer does with
   * the (build ID, file offset) records an agent took from `resolve()` on
   * another machine. The module's files are found by build ID in the debug
   * directories (`.build-id/NN/REST.debug` and, for the executable,
   * `.build-id/NN/REST`), the debuginfod cache, or else fetched from the
   * debuginfod servers: `/debuginfo` (the full symbol table) and, for
   * `kind: "file-offset"` or when there is no debug file, `/executable`
   * (program headers to turn file offsets into ELF addresses, and its own
   * symbols). Every file is checked to carry that build ID. One result per
   * address, in order: `symbolizeFile()`'s answer for its ELF address, with
   * the build ID, the file offset and what debuginfod did. A server that
   * fails is a report in the results, never an exception.
   *
   * @throws {TypeError | RangeError} for a bad build ID, address or option.
   * @throws the reason of `opts.signal` when it aborts.
   */
  async symbolizeBuildId(
    buildId: string,
    addrs: Iterable<bigint | number>,
    opts: SymbolizeBuildIdOptions,
  ): Promise<BuildIdSymbolized[]> {
    const id = typeof buildId === "string" ? normalBuildId(buildId) : undefined;
    if (id === undefined) {
      throw new TypeError(`build ID must be an even number of hex digits (2 to 126), got ${describeValue(buildId)}`);
    }
    const { fetch, rest } = splitFetchOptions(opts, "symbolizeBuildId");
    if (rest === undefined || rest === null || typeof rest !== "object" || Array.isArray(rest)) {
      throw new TypeError(`symbolizeBuildId options must be an object with kind, got ${describeValue(rest)}`);
    }
    const { kind, ...fileOpts } = rest as Record<string, unknown>;
    if (kind !== "file-offset" && kind !== "elf-address") {
      throw new TypeError(`option kind must be "file-offset" or "elf-address", got ${describeValue(kind)}`);
    }
    const o = checkFileOptions(fileOpts, this.#debugDirs, "symbolizeBuildId");
    const list = Array.from(addrs, (a, i) => toAddress(a, `address [${i}]`));
    return await symbolizeByBuildId(this, id, list, { kind, ...o }, fetch);
  }

  /**
   * Names kernel addresses (as perf samples them) from `/proc/kallsyms`,
   * the kernel's and loaded modules' symbols, read once per Symbolizer
   * (`refresh: true` reads it again, after modules were loaded). Where the
   * kernel hides addresses from this process (`kernel.kptr_restrict`, no
   * CAP_SYSLOG) every result has `symbolReason` `"kernel-hidden"`.
   *
   * @throws {TypeError | RangeError} for a bad address or option.
   */
  symbolizeKernel(addrs: Iterable<bigint | number>, opts?: { refresh?: boolean }): KernelSymbolized[] {
    if (opts !== undefined && (typeof opts !== "object" || opts === null)) {
      throw new TypeError(`symbolizeKernel options must be an object, got ${describeValue(opts)}`);
    }
    if (opts?.refresh !== undefined && typeof opts.refresh !== "boolean") {
      throw new TypeError(`option refresh must be a boolean, got ${describeValue(opts.refresh)}`);
    }
    const list = Array.from(addrs, (a, i) => toAddress(a, `address [${i}]`));
    if (!this.#kallsyms || opts?.refresh || this.#kallsyms.hidden?.reason === "unreadable") {
      this.#kallsyms = readKallsyms(getLibc());
    }
    const k = this.#kallsyms;
    return list.map((addr) => {
      const s = k.hidden ? undefined : k.find(addr);
      if (s) {
        return new KernelSymbolizedResult(addr, symbolInfo(s, "kallsyms", addr, true), s.module, undefined, undefined);
      }
      return k.hidden
        ? new KernelSymbolizedResult(addr, undefined, undefined, "kernel-hidden", k.hidden.message)
        : new KernelSymbolizedResult(addr, undefined, undefined, "no-symbol", "no kernel symbol covers it");
    });
  }

  /**
   * @internal The module of the caller's file at `path` (opened O_PATH and
   * checked first: a FIFO or device at the path is never opened), with its
   * build ID, or why there is none; with `lines`, its DWARF looked for.
   */
  fileModule(libc: Libc, path: string, debugDirs: readonly string[], lines: boolean): FileModule {
    const f = openTargetFile(libc, undefined, path);
    if ("reason" in f) {
      return {
        module: undefined,
        buildId: undefined,
        reason: f.reason === "transient" ? "transient" : "file-unreadable",
        message: f.message,
      };
    }
    try {
      const { id } = f;
      const ctx: ModuleContext = { buildId: undefined, path, procDir: undefined, debugDirs };
      const module = this.module(libc, f.fd, `${id.devMajor}:${id.devMinor}:${id.inode}`, ctx, lines);
      return { module, buildId: ctx.buildId, reason: undefined, message: undefined };
    } finally {
      libc.close(f.fd);
    }
  }

  /** @internal {@link moduleTables} of this Symbolizer (for the file and build-ID forms). */
  module(libc: Libc, fd: number, fileKey: string, ctx: ModuleContext, lines = false): ModuleSymbols {
    return moduleTables(this, libc, fd, fileKey, ctx, lines);
  }

  static {
    // The cache and the checksum memo, for this module's functions below: they are symbolize()'s, not the class's API.
    cacheOf = (s) => s.#cache;
    crcsOf = (s) => s.#crcs;
  }
}

// What symbolize() asks of a Symbolizer: functions of this module, not
// methods, so that they stay out of the published types and the API docs.

/**
 * The tables of the module open on `fd`, cached in `s` by `fileKey` (device
 * and inode) with its build ID (read here when not given), or, for a file
 * without one, with its size and modification and change times (a file
 * changed in place gets another key; the change time cannot be set by
 * anyone). With `lines`, its DWARF is looked for too (once: `m.lines` is
 * then set, null for none).
 */
export function moduleTables(
  s: Symbolizer,
  libc: Libc,
  fd: number,
  fileKey: string,
  ctx: ModuleContext,
  lines = false,
): ModuleSymbols {
  const reader = fdReader(libc, fd);
  if (ctx.buildId === undefined) {
    const b = findBuildId((offset, len) => {
      const got = reader.read(offset, len);
      return got && got.length === len ? got : null;
    });
    // Told back to the caller through ctx.
    ctx.buildId = b ? Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("") : undefined;
  }
  const buildId = ctx.buildId;
  const debuginfodCache = s.debuginfodConfig()?.cachePath;
  const cache = cacheOf(s);
  let key: string | undefined;
  if (buildId) key = moduleKey(fileKey, buildId, ctx.debugDirs, debuginfodCache);
  else {
    const id = emptyFileId();
    if (libc.fstat(fd, id) === 0) {
      key = moduleKey(fileKey, `-${id.size}:${id.mtimeNs}:${id.ctimeNs}`, ctx.debugDirs, debuginfodCache);
    }
  }
  let m = key === undefined ? undefined : cache.get(key);
  if (!m) {
    m = loadModule(libc, reader.read, () => reader.transient, { ...ctx, buildId, debuginfodCache, crcs: crcsOf(s) });
    if (key !== undefined && !m.transient) {
      m.cacheKey = key;
      cache.set(key, m, m.byteSize);
    }
  }
  if (lines && m.lines === undefined) {
    const out = { transient: false };
    const l = loadModuleLines(
      libc,
      reader.read,
      { ...ctx, buildId, debuginfodCache, crcs: crcsOf(s), maxParsedBytes: parsedBudget(s) },
      out,
    );
    // A transient failure is not remembered: the next call looks again.
    if (!out.transient && !reader.transient) {
      m.lines = l;
      account(s, m);
    }
  }
  m.lines?.bind(libc, ctx.path === undefined ? undefined : { procDir: ctx.procDir, path: ctx.path });
  return m;
}

/**
 * Bytes a module's parsed DWARF tables may hold in `s`: half its cache (the
 * module's tables and sections need the rest), between 4 MiB and
 * {@link MAX_PARSED_BYTES}; a Symbolizer that keeps nothing across calls
 * bounds only the call.
 */
function parsedBudget(s: Symbolizer): number {
  const max = s.maxCacheBytes;
  return max === 0 ? MAX_PARSED_BYTES : Math.min(MAX_PARSED_BYTES, Math.max(4 << 20, Math.floor(max / 2)));
}

/** Tells `s`'s cache a module's size now (its lines grow as units are parsed). */
export function account(s: Symbolizer, m: ModuleSymbols): void {
  if (m.cacheKey !== undefined) cacheOf(s).resize(m.cacheKey, m.byteSize + (m.lines?.byteSize ?? 0));
}

/**
 * `symbol` (the tables' symbol at `elfAddr`, if any) with its source
 * frames; where no table covers the address, DWARF's function (source
 * `"dwarf"`).
 */
export function withLines(
  lines: ModuleLines,
  symbol: SymbolInfo | undefined,
  elfAddr: bigint,
  wantDemangled: boolean,
  inlines: boolean,
): SymbolInfo | undefined {
  if (!symbol) return lines.dwarfSymbol(elfAddr, wantDemangled, inlines);
  const frames = lines.frames(elfAddr, inlines, wantDemangled, symbol.name, symbol.demangled);
  return frames ? infoWith(symbol, symbol.demangleReason, frames) : symbol;
}

const jitBudgets = new WeakMap<Symbolizer, JitBudget>();

/**
 * What `s` offers a handle's JIT tables (symbolize/jit.ts): its bound, and
 * entries in its cache that count their bytes; one object per Symbolizer.
 */
export function jitBudget(s: Symbolizer): JitBudget {
  let b = jitBudgets.get(s);
  if (!b) {
    b = {
      get maxCacheBytes() {
        return s.maxCacheBytes;
      },
      charge: (key, bytes, evict) => cacheOf(s).set(key, undefined, bytes, evict),
      release: (key) => cacheOf(s).delete(key),
    };
    jitBudgets.set(s, b);
  }
  return b;
}

/** The tables of a file cached in `s`, if any (no file is opened). */
export function cachedTables(
  s: Symbolizer,
  fileKey: string,
  buildId: string,
  debugDirs: readonly string[],
): ModuleSymbols | undefined {
  return cacheOf(s).get(moduleKey(fileKey, buildId, debugDirs, s.debuginfodConfig()?.cachePath));
}

/** The tables of an in-memory image (the vDSO), cached in `s` by `key` when given. */
export function memoryTables(s: Symbolizer, key: string | undefined, load: () => ModuleSymbols): ModuleSymbols {
  const cache = cacheOf(s);
  const cached = key === undefined ? undefined : cache.get(key);
  if (cached) return cached;
  const m = load();
  if (key !== undefined && !m.transient) {
    m.cacheKey = key;
    cache.set(key, m, m.byteSize);
  }
  return m;
}

/** The symbol at `elfAddr` in a module, or undefined ({@link whyNot} says why). */
export function findSymbol(m: ModuleSymbols, elfAddr: bigint, wantDemangled: boolean): SymbolInfo | undefined {
  const tables = m.tables;
  for (let i = 0; i < tables.length; i++) {
    const raw = tables[i].find(elfAddr);
    if (raw) return symbolInfo(raw, tables[i].source, elfAddr, wantDemangled);
  }
  return undefined;
}

/** Why {@link findSymbol} found nothing in `m`: a reason and its message (made once per module). */
export function whyNot(m: ModuleSymbols): NoSymbol {
  let w = noSymbol.get(m);
  if (!w) {
    if (m.tables.length > 0) w = { reason: "no-symbol", message: `no symbol covers it in ${m.detail}` };
    else if (m.transient) {
      w = { reason: "transient", message: "a read failed for want of a resource (EMFILE, ENOMEM, ...); try again" };
    } else w = { reason: MODULE_REASON[m.problem ?? "no-symbols"], message: m.detail };
    noSymbol.set(m, w);
  }
  return w;
}

/** A SymbolInfo for `addr` in `raw`; demangled names are cached per symbol. */
export function symbolInfo(raw: RawSymbol, source: SymbolSource, addr: bigint, wantDemangled: boolean): SymbolInfo {
  const demangled = wantDemangled ? raw.demangled ?? demangledOf(raw) : raw.name;
  const info = new SymbolInfoResult(raw.name, demangled, raw.version, raw.start, raw.size, addr - raw.start, source);
  return wantDemangled && raw.demangleCut ? flagCut(info) : info;
}

/** Cache key of a file's tables: its identity, build ID (or size and times), the debug directories and debuginfod cache searched. */
function moduleKey(fileKey: string, buildId: string, debugDirs: readonly string[], cache: string | undefined): string {
  return `${fileKey}:${buildId}|${debugDirs.join("\0")}|${cache ?? ""}`;
}

/** A module of the caller's own file, or why there is none. */
export interface FileModule {
  module: ModuleSymbols | undefined;
  /** The file's build ID (lowercase hex), when it has one. */
  buildId: string | undefined;
  reason: SymbolReason | undefined;
  message: string | undefined;
}

function checkPath(path: unknown): void {
  if (typeof path !== "string" || path === "" || path.includes("\0")) {
    throw new TypeError(`path must be a non-empty string, got ${describeValue(path)}`);
  }
}

const FILE_KEYS = new Set(["demangle", "lines", "inlines", "debugDirs"]);

function checkFileOptions(opts: unknown, dirs: readonly string[], what = "symbolizeFile"): FileOptions {
  if (opts === undefined) return { demangle: true, lines: true, inlines: true, debugDirs: dirs };
  const o = ownOptions(opts, what, FILE_KEYS);
  return {
    demangle: booleanOption(o, "demangle", true),
    lines: booleanOption(o, "lines", true),
    inlines: booleanOption(o, "inlines", true),
    debugDirs: checkDebugDirs(o.debugDirs, dirs),
  };
}
