/**
 * ProcMaps: a handle on one process's memory map.
 * @module
 */
import { FfiPermissionError, getLibc, type Libc } from "../ffi/mod.ts";
import { requestFor } from "./ioctl/abi.ts";
import type { Backend } from "./backend.ts";
import type { BackendKind } from "./options.ts";
import { ProcMapsError } from "./errors.ts";
import { IoctlBackend } from "./ioctl/backend.ts";
import { ioctlUnavailable } from "./ioctl/probe.ts";
import { basePageSize } from "./procfs/page_size.ts";
import { TextBackend } from "./text/backend.ts";
import { MappedFiles } from "./elf/file_cache.ts";
import { ProcessRef } from "./procfs/process.ts";
import { EmptyBackend } from "./empty_backend.ts";
import {
  checkIterateOptions,
  checkOpenOptions,
  checkPid,
  checkQueryOptions,
  checkSmapsOptions,
  type IterateOptions,
  type IterateRequest,
  type OpenOptions,
  type Pid,
  type QueryOptions,
  type ResolveOptions,
  toAddress,
} from "./options.ts";
import type { Vma } from "./vma.ts";
import type { VmaTable } from "./table/vma_table.ts";
import { locateBatch, planFor, type ResolveSources } from "./resolve/resolve.ts";
import { resolveBatch, type ResolvedTable, resolveTable } from "./resolve/table.ts";
import type { Resolved, ResolvePlan } from "./resolve/types.ts";
import { AsyncFromSync } from "./async_iter.ts";
import { symbolizeBatch, type SymbolizeOptions, type SymbolizeSources } from "./symbolize/symbolize.ts";
import type { Symbolized } from "./symbolize/result.ts";
import { type SymbolizedTable, symbolizeTable } from "./symbolize/table.ts";
import { Symbolizer } from "./symbolize/symbolizer.ts";
import { type SymbolizeAsyncOptions, symbolizeBatchAsync, type SymbolizedAsync } from "./symbolize/symbolize_async.ts";
import { JitSources } from "./symbolize/jit.ts";
import { VmaIterator } from "./vma_iterator.ts";
import { SmapsSource } from "./smaps/source.ts";
import type { SmapsEntry, SmapsOptions, SmapsRollup } from "./smaps/types.ts";

/** Closes the perf map and jitdump of handles dropped without close(). */
const leakedJit = new FinalizationRegistry<JitSources>((jit) => jit.close());

/** Closes descriptors of handles dropped without close(). */
const leaked = new FinalizationRegistry<{ libc: Libc; fd: number; proc: ProcessRef }>(({ libc, fd, proc }) => {
  libc.close(fd);
  proc.close();
});

function loadLibc(pid: Pid): Libc {
  try {
    return getLibc();
  } catch (e) {
    if (e instanceof FfiPermissionError) {
      throw new ProcMapsError("EACCES", { pid, syscall: "dlopen", message: e.message, cause: e });
    }
    throw new ProcMapsError("ENOSYS", {
      pid,
      syscall: "dlopen",
      message: `cannot load the C library: ${(e as Error)?.message}`,
      cause: e,
    });
  }
}

/**
 * A handle on the memory map of one process, read through PROCMAP_QUERY or
 * the text of `/proc/<pid>/maps`.
 *
 * The handle keeps `/proc/<pid>` and its `maps` open: access is checked
 * once, when it is opened, and it keeps referring to the process (and the
 * address space) it opened, even if the process replaces its program or
 * the pid is later reused: queries then fail with `ESRCH`, whose `reason`
 * says which (`"exited"`, `"exec"`, `"reused"`). Every file procmap reads
 * besides (`map_files/`, `root/`, `mountinfo`, `smaps`, `stat`) is opened
 * relative to that directory. A kernel thread has no user memory: its
 * handle has no VMAs (`query()` returns null). Close the handle with
 * `close()`, or declare it with `using` so it closes at the end of the
 * scope (this matters in Workers: terminating a Worker does not run
 * finalizers, so every handle it did not close keeps two descriptors open
 * for the life of the process).
 *
 * @example
 * ```ts
 * using maps = ProcMaps.open("self");
 * const vma = maps.query(0x7f0000001000n);
 * for (const v of maps.vmasSync({ executable: true })) console.log(v.toString());
 * ```
 */
export class ProcMaps implements Disposable {
  /** The process this handle reads. */
  readonly pid: Pid;
  readonly #libc: Libc;
  readonly #path: string;
  readonly #pageSize: number;
  #fd: number;
  #backend: Backend | undefined;
  /** The text backend on the same descriptor: the primary one, or made for resolve(). */
  #text: TextBackend | undefined;
  readonly #files: MappedFiles;
  readonly #proc: ProcessRef;
  readonly #sources: ResolveSources;
  #smapsSource: SmapsSource | undefined;
  #symbolSources: SymbolizeSources | undefined;
  /** perf map and jitdump of the process, kept open for symbolize(). */
  #jit: JitSources | undefined;

  private constructor(
    libc: Libc,
    proc: ProcessRef,
    path: string,
    fd: number,
    backend: Backend,
    pageSize: number,
    files: MappedFiles,
  ) {
    this.#libc = libc;
    this.pid = proc.pid;
    this.#proc = proc;
    this.#path = path;
    this.#fd = fd;
    this.#backend = backend;
    this.#pageSize = pageSize;
    this.#files = files;
    this.#text = backend instanceof TextBackend ? backend : undefined;
    const text = backend instanceof EmptyBackend ? () => backend : () => this.#textBackend();
    this.#sources = { pid: proc.pid, libc, backend, text, files };
    leaked.register(this, { libc, fd, proc }, this);
  }

  #textBackend(): TextBackend {
    this.#open();
    return (this.#text ??= new TextBackend(this.#libc, this.#fd, this.#proc, this.#path, this.#pageSize, this.#files));
  }

  /**
   * Opens the memory map of `pid` (default: this process).
   *
   * @throws {TypeError | RangeError} for a pid that is not a positive
   *   integer or `"self"`, or bad options (before any system call).
   * @throws {ProcMapsError} `ESRCH` when the process does not exist,
   *   `EACCES`/`EPERM` without permission (or, under Deno, without
   *   `--allow-ffi`), `ENOTTY` when backend `"ioctl"` was forced where
   *   PROCMAP_QUERY is missing, `EOPNOTSUPP` when it was forced on a CPU whose
   *   request number is not known, `ENOSYS` when this is not Linux or libc
   *   cannot be loaded.
   */
  static open(pid: number | "self" = "self", opts?: OpenOptions): ProcMaps {
    const id = checkPid(pid);
    const choice = checkOpenOptions(opts);
    const libc = loadLibc(id);
    if (libc.os !== "linux") {
      throw new ProcMapsError("ENOSYS", {
        pid: id,
        syscall: "open",
        message: `procmap reads /proc/<pid>/maps, which only Linux has (this is ${libc.os})`,
      });
    }
    const path = `/proc/${id}/maps`;
    // The directory first, then maps through it: both are the same process.
    const proc = ProcessRef.open(libc, id);
    let fd = -1;
    try {
      fd = proc.openAt("maps");
      if (fd < 0) throw proc.error(-fd, "open", path);
      proc.mapsFd = fd;
      const pageSize = basePageSize(libc);
      const files = new MappedFiles(libc, proc);
      let backend: Backend;
      const unavailable = choice === "text" ? undefined : ioctlUnavailable(libc, fd, id, path);
      if (choice === "ioctl" && unavailable) throw unavailable;
      if (proc.kernelThread) {
        backend = new EmptyBackend(choice === "text" || unavailable ? "text" : "ioctl");
      } else if (choice === "text" || unavailable) {
        backend = new TextBackend(libc, fd, proc, path, pageSize, files);
      } else {
        backend = new IoctlBackend(libc, fd, requestFor(libc.arch)!, proc, path, pageSize, files);
      }
      return new ProcMaps(libc, proc, path, fd, backend, pageSize, files);
    } catch (e) {
      if (fd >= 0) libc.close(fd);
      proc.close();
      throw e;
    }
  }

  /** Which backend answers: `"ioctl"` or `"text"`. */
  get backend(): BackendKind {
    return this.#open().kind;
  }

  /** True once {@link close} has run. */
  get closed(): boolean {
    return this.#backend === undefined;
  }

  // Tiny, the error out of line: every query runs it, and V8 inlines a query's whole path only while it fits.
  #open(): Backend {
    return this.#backend ?? this.#closedError();
  }

  #closedError(): never {
    throw new ProcMapsError("EBADF", {
      pid: this.pid,
      syscall: "use",
      message: `the handle on ${this.#path} is closed; open a new one with ProcMaps.open()`,
    });
  }

  /**
   * The VMA covering `addr`, or null when none does (or none passes the
   * filters). With `coveringOrNext`, the first matching VMA at or above
   * `addr` instead.
   *
   * @throws {TypeError | RangeError} for an address that is not a bigint in
   *   [0, 2^64) or a non-negative safe integer, or bad options.
   * @throws {ProcMapsError} `ESRCH` when the process has exited.
   */
  query(addr: bigint | number, opts?: QueryOptions): Vma | null {
    const a = typeof addr === "bigint" && addr >= 0n && addr <= 0xffffffffffffffffn ? addr : toAddress(addr);
    const request = checkQueryOptions(opts);
    return this.#open().query(a, request);
  }

  /**
   * Every VMA (matching the filters) in address order, as an async
   * iterator. VMAs are read as the loop asks for them: `break` stops the
   * reading, and `signal` aborts it (the loop then throws the signal's
   * reason). Long iterations let the event loop run every few milliseconds.
   */
  vmas(opts?: IterateOptions): AsyncIterableIterator<Vma> {
    const req = checkIterateOptions(opts);
    req.signal?.throwIfAborted();
    return new AsyncFromSync(this.#walk(req), req.signal);
  }

  /**
   * Every VMA (matching the filters) in address order, synchronously. An
   * aborted `signal` stops it at the next step (it throws the reason).
   */
  vmasSync(opts?: IterateOptions): IterableIterator<Vma> {
    const req = checkIterateOptions(opts);
    req.signal?.throwIfAborted();
    return this.#walk(req);
  }

  /**
   * The VMAs {@link vmasSync} would give for the same options, as columns:
   * a {@link VmaTable} of typed arrays (`start`, `end`, `offset`, `inode`,
   * `flags`, `devMajor`, `devMinor`, `pageSize`) and de-duplicated names,
   * filled straight from the kernel's answers without a `Vma` per row.
   * The cheapest way to take a whole map; `table.at(i)` gives a `Vma`,
   * `table.find(addr)` binary-searches it. An aborted `signal` stops it.
   *
   * @throws {TypeError | RangeError} for bad options.
   * @throws {ProcMapsError} `ESRCH` when the process has exited.
   */
  table(opts?: IterateOptions): VmaTable {
    const req = checkIterateOptions(opts);
    req.signal?.throwIfAborted();
    return this.#open().table(req.from, req.to, req.request, req.signal);
  }

  #walk(req: IterateRequest): VmaIterator {
    this.#open();
    // Checked at every step: a closed handle must not touch its (maybe reused) descriptor.
    return new VmaIterator(() => this.#open(), req.from, req.to, req.request, req.signal);
  }

  /**
   * Resolves a batch of addresses, as a profiler or symbolizer needs them:
   * one result per input address, in input order, or null where nothing is
   * mapped. Each result gives the VMA, what backs it (`kind`), the file
   * offset (`addr - vma.start + vma.offset`), the ELF virtual address (what
   * symbol tables use), the path and the build ID; where no file offset
   * applies (anonymous, JIT, `[vdso]`), `reason` says why.
   *
   * Addresses are de-duplicated first (equal addresses share one result
   * object). With the ioctl, one covering-or-next query answers every
   * address in the VMA it returns and in the gap below it (a batch costs a
   * query per VMA or gap it touches); build IDs and ELF headers are read
   * once per file. The results are views of {@link resolveTable}'s columns. `strategy: "auto"` (default) picks ioctl
   * queries or one text snapshot by the batch's shape; see
   * {@link planResolve}. Every strategy gives the same answers.
   *
   * @throws {TypeError | RangeError} for a bad address (naming its index) or option.
   * @throws {ProcMapsError} `ESRCH` when the process has exited.
   */
  resolve(addrs: Iterable<bigint | number> | BigUint64Array, opts?: ResolveOptions): (Resolved | null)[] {
    this.#open();
    return resolveBatch(this.#sources, addrs, opts);
  }

  /**
   * {@link resolve} as columns, for large batches (a profiler's 10^5-10^6
   * addresses a second): a {@link ResolvedTable} with one row per distinct
   * address (in order of first appearance) and `index` mapping each input
   * position to its row; typed-array columns `addr`, `vma` (a row of the table's `vmas`, a
   * {@link VmaTable} of the VMAs the batch lands in, with names and build
   * IDs), `fileOffset`, `elfAddr`, `kind`, `reason`. No object and no
   * bigint is made per address (give a `BigUint64Array` and none is read
   * either); `at(i)` gives input position `i` as the object
   * {@link resolve} returns. Same options, same answers.
   *
   * @throws {TypeError | RangeError} for a bad address (naming its index) or option.
   * @throws {ProcMapsError} `ESRCH` when the process has exited.
   */
  resolveTable(addrs: Iterable<bigint | number> | BigUint64Array, opts?: ResolveOptions): ResolvedTable {
    this.#open();
    return resolveTable(this.#sources, addrs, opts);
  }

  /**
   * Symbolizes a batch of addresses: one result per input address, in input
   * order, null where nothing is mapped. Each result is what
   * {@link resolve} gives plus `symbol` (`name`, `demangled`, `start`,
   * `size`, `offset`, `source`), or `symbolReason` and `symbolMessage` saying
   * why there is none. ELF files are named from `.symtab`, else their debug
   * file (by build ID or `.gnu_debuglink` under `debugDirs`), else `.dynsym`
   * and MiniDebugInfo, plus `name@plt` for PLT stubs; JIT code from the
   * target's `perf-<pid>.map`; the vDSO from its image. Symbol tables are
   * cached in a {@link Symbolizer} (the handle's own, or `opts.symbolizer` to
   * share one between handles).
   *
   * @throws {TypeError | RangeError} for a bad address (naming its index) or option.
   * @throws {ProcMapsError} `ESRCH` when the process has exited.
   */
  symbolize(addrs: Iterable<bigint | number> | BigUint64Array, opts?: SymbolizeOptions): (Symbolized | null)[] {
    this.#open();
    return symbolizeBatch(this.#symbolizeSources(), addrs, opts);
  }

  /**
   * {@link symbolize} as columns, for large batches: a
   * {@link SymbolizedTable} holding {@link resolveTable}'s columns
   * (`resolved`: one row per distinct address, `index` back from each
   * input position) and per row `symbol` (a row of `symbols`, the table of
   * the distinct symbols with their names, demangled names, start, size
   * and source), `symbolOffset` and `symbolReason`. No object per address;
   * `at(i)` gives input position `i` as the object {@link symbolize}
   * returns. Same options, same answers: with `lines` (default true) a
   * row's DWARF frames are `framesAt(row)` and in the objects'
   * `symbol.frames`.
   *
   * @throws {TypeError | RangeError} for a bad address (naming its index) or option.
   * @throws {ProcMapsError} `ESRCH` when the process has exited.
   */
  symbolizeTable(addrs: Iterable<bigint | number> | BigUint64Array, opts?: SymbolizeOptions): SymbolizedTable {
    this.#open();
    return symbolizeTable(this.#symbolizeSources(), addrs, opts);
  }

  /**
   * {@link symbolize}, after fetching from debuginfod the debug files the
   * batch's modules lack locally (a module without `.symtab` and without a
   * debug file in `debugDirs` or the debuginfod cache; with `lines`, the
   * default, also one without DWARF locally): in parallel across
   * build IDs, one download per build ID however many callers want it,
   * into the cache gdb and `debuginfod-find` share. The answers are what
   * `symbolize()` gives with those files at hand, and each says what
   * debuginfod did for its module (`debuginfod`: `"downloaded"`,
   * `"cached"`, `"not-found"`, `"failed"` with why). A server that fails is
   * a report in the results, never an exception. Nothing goes to the
   * network unless the Symbolizer's `debuginfod` option or
   * `DEBUGINFOD_URLS` names a server.
   *
   * @throws {TypeError | RangeError} for a bad address (naming its index) or option.
   * @throws {ProcMapsError} `ESRCH` when the process has exited.
   * @throws the reason of `opts.signal` when it aborts.
   */
  async symbolizeAsync(
    addrs: Iterable<bigint | number> | BigUint64Array,
    opts?: SymbolizeAsyncOptions,
  ): Promise<(SymbolizedAsync | null)[]> {
    this.#open();
    return await symbolizeBatchAsync(this.#symbolizeSources(), addrs, opts);
  }

  #symbolizeSources(): SymbolizeSources {
    return this.#symbolSources ??= {
      libc: this.#libc,
      pid: this.pid,
      proc: this.#proc,
      locate: (a, o, temporary) => locateBatch(this.#sources, a, o, temporary),
      symbolizer: (() => {
        let own: Symbolizer | undefined;
        return () => (own ??= new Symbolizer());
      })(),
      jit: () => {
        if (!this.#jit) leakedJit.register(this, this.#jit = new JitSources(this.#libc, this.#proc), this.#jit);
        return this.#jit;
      },
    };
  }

  /** Which strategy `resolve(addrs, opts)` would use, and why. */
  planResolve(addrs: Iterable<bigint | number> | BigUint64Array, opts?: ResolveOptions): ResolvePlan {
    this.#open();
    return planFor(this.#sources, addrs, opts);
  }

  /**
   * Every VMA with its memory figures from `/proc/<pid>/smaps` (resident,
   * proportional, dirty, swapped sizes in bytes, `vmFlags`), in address
   * order, as an async iterator. The whole text is read at the first step
   * (the kernel walks the page tables of every VMA for it) and checked to
   * be complete; `break` drops it, `signal` aborts the loop. A kernel
   * thread has no entries.
   *
   * @throws {ProcMapsError} `EACCES`/`EPERM` when the caller lacks
   *   ptrace-read access to the process (smaps checks it when opened, so an
   *   open handle does not carry it), `ESRCH` when the process has exited or
   *   exec'd, `EBADF` when the handle is closed.
   */
  smaps(opts?: SmapsOptions): AsyncIterableIterator<SmapsEntry> {
    const signal = checkSmapsOptions(opts);
    return new AsyncFromSync(this.#smaps().entries(() => this.#open(), signal), signal);
  }

  /** Same as {@link smaps}, synchronously. */
  smapsSync(opts?: SmapsOptions): IterableIterator<SmapsEntry> {
    const signal = checkSmapsOptions(opts);
    return this.#smaps().entries(() => this.#open(), signal);
  }

  /**
   * The process's memory figures summed over every VMA, from
   * `/proc/<pid>/smaps_rollup` (cheaper than summing {@link smaps}: the
   * kernel formats one entry). A kernel thread, which maps nothing, gives
   * no figures and `start` = `end` = 0.
   *
   * @throws {ProcMapsError} as {@link smaps}.
   */
  rollup(): SmapsRollup {
    return this.#smaps().rollup();
  }

  #smaps(): SmapsSource {
    this.#open();
    return (this.#smapsSource ??= new SmapsSource(this.#libc, this.#proc, this.#pageSize));
  }

  /**
   * Drops the text backend's snapshot so the next query reads the process
   * afresh. The ioctl backend always answers live; there it does nothing.
   */
  refresh(): void {
    this.#open().refresh();
  }

  /** Closes the descriptor. Idempotent. */
  close(): void {
    const b = this.#backend;
    if (b === undefined) return;
    this.#backend = undefined;
    b.dispose();
    this.#text?.dispose();
    this.#text = undefined;
    this.#files.clear();
    this.#smapsSource = undefined; // drops its spare buffers
    if (this.#jit) {
      leakedJit.unregister(this.#jit);
      this.#jit.close();
      this.#jit = undefined;
    }
    leaked.unregister(this);
    this.#libc.close(this.#fd);
    this.#fd = -1;
    this.#proc.close();
  }

  /** Same as {@link close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
