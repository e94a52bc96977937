/**
 * The Symbolizer: symbol tables of ELF modules, read once and kept in a
 * byte-bounded cache shared by every handle (and call) that uses it.
 * @module
 */
import { emptyFileId, type FileId, getLibc, type Libc } from "../../ffi/mod.ts";
import { findBuildId } from "../elf/build_id.ts";
import { fdReader, TRANSIENT_ERRNOS } from "../elf/read_at.ts";
import { describeValue, toAddress } from "../options.ts";
import { ByteLru } from "./cache.ts";
import { loadModule, type ModuleContext, type ModuleSymbols } from "./elf_module.ts";
import { demangle, isMangled } from "./demangle.ts";
import type { FileSymbolized, KernelSymbolized, SymbolReason } from "./result.ts";
import { type Kallsyms, readKallsyms } from "./kallsyms.ts";
import type { RawSymbol, SymbolInfo, SymbolSource } from "./types.ts";

/** Options for {@link Symbolizer}. */
export interface SymbolizerOptions {
  /**
   * Bound of the symbol-table cache, in bytes (default 128 MiB). Tables are
   * kept by (device, inode, build ID); the least recently used go first.
   * 0 keeps nothing across calls.
   */
  maxCacheBytes?: number;
  /** Default debug directories (default `["/usr/lib/debug"]`). */
  debugDirs?: readonly string[];
}

/** Options for {@link Symbolizer.symbolizeFile}. */
export interface SymbolizeFileOptions {
  /** Fill `demangled` with readable C++ and Rust names (default true). */
  demangle?: boolean;
  /** Directories with separate debug files (default: the Symbolizer's). */
  debugDirs?: readonly string[];
}

const DEFAULT_CACHE_BYTES = 128 << 20;
const DEFAULT_DEBUG_DIRS: readonly string[] = Object.freeze(["/usr/lib/debug"]);
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

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
  readonly #cache: ByteLru<ModuleSymbols>;
  readonly #debugDirs: readonly string[];
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

  /** Forgets every cached table. */
  clear(): void {
    this.#cache.clear();
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
    if (typeof path !== "string" || path === "" || path.includes("\0")) {
      throw new TypeError(`path must be a non-empty string, got ${describeValue(path)}`);
    }
    const o = checkFileOptions(opts, this.#debugDirs);
    const addrs = Array.from(elfAddrs, (a, i) => toAddress(a, `address [${i}]`));
    const libc = getLibc();
    const { module, reason, message } = this.#fileModule(libc, path, o.debugDirs);
    return addrs.map((elfAddr) => {
      if (!module) return { elfAddr, symbol: undefined, symbolReason: reason, symbolMessage: message };
      const symbol = this.find(module, elfAddr, o.demangle);
      if (symbol) return { elfAddr, symbol, symbolReason: undefined, symbolMessage: undefined };
      const w = this.whyNot(module);
      return { elfAddr, symbol: undefined, symbolReason: w.reason, symbolMessage: w.message };
    });
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
        return {
          addr,
          symbol: this.info(s, "kallsyms", addr, true),
          module: s.module,
          symbolReason: undefined,
          symbolMessage: undefined,
        };
      }
      return k.hidden
        ? { addr, symbol: undefined, module: undefined, symbolReason: "kernel-hidden", symbolMessage: k.hidden.message }
        : {
          addr,
          symbol: undefined,
          module: undefined,
          symbolReason: "no-symbol",
          symbolMessage: "no kernel symbol covers it",
        };
    });
  }

  #fileModule(libc: Libc, path: string, debugDirs: readonly string[]) {
    const id: FileId = emptyFileId();
    const r = libc.stat(path, id);
    const fail = (errno: number, what: string) => ({
      module: undefined,
      reason: (TRANSIENT_ERRNOS.has(errno) ? "transient" : "file-unreadable") as SymbolReason,
      message: `${path}: ${what}`,
    });
    if (r < 0) return fail(-r, `cannot stat it (errno ${-r})`);
    if ((id.mode & S_IFMT) !== S_IFREG) return fail(0, "not a regular file");
    const fd = libc.openRead(path);
    if (fd < 0) return fail(-fd, `cannot open it (errno ${-fd})`);
    try {
      if (libc.fstat(fd, id) !== 0 || (id.mode & S_IFMT) !== S_IFREG) return fail(0, "not a regular file");
      const module = this.module(libc, fd, `${id.devMajor}:${id.devMinor}:${id.inode}`, {
        buildId: undefined,
        path,
        root: "",
        debugDirs,
      });
      return { module, reason: undefined, message: undefined };
    } finally {
      libc.close(fd);
    }
  }

  /**
   * @internal The tables of the module open on `fd`, cached by `fileKey`
   * (device and inode) with its build ID (read here when not given); a file
   * without a build ID is not cached, as nothing proves it unchanged.
   */
  module(libc: Libc, fd: number, fileKey: string, ctx: ModuleContext): ModuleSymbols {
    const reader = fdReader(libc, fd);
    let buildId = ctx.buildId;
    if (buildId === undefined) {
      const b = findBuildId((offset, len) => {
        const got = reader.read(offset, len);
        return got && got.length === len ? got : null;
      });
      buildId = b ? Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("") : undefined;
    }
    const key = buildId ? moduleKey(fileKey, buildId, ctx.debugDirs) : undefined;
    const cached = key === undefined ? undefined : this.#cache.get(key);
    if (cached) return cached;
    const m = loadModule(libc, reader.read, () => reader.transient, { ...ctx, buildId });
    if (key !== undefined && !m.transient) this.#cache.set(key, m, m.byteSize);
    return m;
  }

  /** @internal The cached tables of a file, if any (no file is opened). */
  cached(fileKey: string, buildId: string, debugDirs: readonly string[]): ModuleSymbols | undefined {
    return this.#cache.get(moduleKey(fileKey, buildId, debugDirs));
  }

  /** @internal The tables of an in-memory image (the vDSO), cached by `key` when given. */
  memoryModule(key: string | undefined, load: () => ModuleSymbols): ModuleSymbols {
    const cached = key === undefined ? undefined : this.#cache.get(key);
    if (cached) return cached;
    const m = load();
    if (key !== undefined && !m.transient) this.#cache.set(key, m, m.byteSize);
    return m;
  }

  /** @internal The symbol at `elfAddr` in a module, or undefined ({@link whyNot} says why). */
  find(m: ModuleSymbols, elfAddr: bigint, wantDemangled: boolean): SymbolInfo | undefined {
    const tables = m.tables;
    for (let i = 0; i < tables.length; i++) {
      const raw = tables[i].find(elfAddr);
      if (raw) return this.info(raw, tables[i].source, elfAddr, wantDemangled);
    }
    return undefined;
  }

  /** @internal Why {@link find} found nothing in `m`: a reason and its message (made once per module). */
  whyNot(m: ModuleSymbols): NoSymbol {
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

  /** @internal A SymbolInfo for `addr` in `raw`; demangled names are cached per symbol. */
  info(raw: RawSymbol, source: SymbolSource, addr: bigint, wantDemangled: boolean): SymbolInfo {
    const demangled = wantDemangled ? raw.demangled ?? demangledOf(raw) : raw.name;
    return { name: raw.name, demangled, start: raw.start, size: raw.size, offset: addr - raw.start, source };
  }
}

/** The readable name of `raw`, computed once and kept on the symbol. */
export function demangledOf(raw: RawSymbol): string {
  return raw.demangled = isMangled(raw.name) ? demangle(raw.name) : raw.name;
}

/** Cache key of a file's tables: its identity, build ID and the debug directories searched. */
function moduleKey(fileKey: string, buildId: string, debugDirs: readonly string[]): string {
  return `${fileKey}:${buildId}|${debugDirs.join("\0")}`;
}

function checkFileOptions(opts: unknown, dirs: readonly string[]) {
  if (opts === undefined) return { demangle: true, debugDirs: dirs };
  if (typeof opts !== "object" || opts === null || Array.isArray(opts)) {
    throw new TypeError(`symbolizeFile options must be an object, got ${describeValue(opts)}`);
  }
  const o = opts as Record<string, unknown>;
  for (const k in o) {
    if (k !== "demangle" && k !== "debugDirs") {
      throw new TypeError(`unknown symbolizeFile option ${JSON.stringify(k)}; known: demangle, debugDirs`);
    }
  }
  if (o.demangle !== undefined && typeof o.demangle !== "boolean") {
    throw new TypeError(`option demangle must be a boolean, got ${describeValue(o.demangle)}`);
  }
  return { demangle: o.demangle !== false, debugDirs: checkDebugDirs(o.debugDirs, dirs) };
}
