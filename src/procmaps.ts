/**
 * ProcMaps: a handle on one process's memory map.
 * @module
 */
import { FfiPermissionError, getLibc, type Libc } from "../ffi/mod.ts";
import { nativeLittleEndian } from "../ffi/common.ts";
import { FLAG, OFF, QUERY_SIZE, requestFor } from "./ioctl/abi.ts";
import type { Backend, BackendKind } from "./backend.ts";
import { ERRNO, errorFromErrno, type Pid, ProcMapsError } from "./errors.ts";
import { IoctlBackend } from "./ioctl/backend.ts";
import { basePageSize } from "./procfs/page_size.ts";
import { TextBackend } from "./text/backend.ts";
import {
  checkIterateOptions,
  checkKnownKeys,
  checkObject,
  checkPid,
  checkQueryOptions,
  choiceOption,
  type IterateOptions,
  type IterateRequest,
  type QueryOptions,
  toAddress,
} from "./options.ts";
import type { Vma } from "./vma.ts";
import {
  checkResolveOptions,
  planBatch,
  resolveBatch,
  type Resolved,
  type ResolveOptions,
  type ResolvePlan,
  type ResolveSources,
  toBatch,
} from "./resolve/resolve.ts";
import type { LoadSegment } from "./elf/segments.ts";
import { AsyncFromSync } from "./async_iter.ts";
import { symbolizeBatch, type SymbolizeOptions, type SymbolizeSources } from "./symbolize/symbolize.ts";
import type { Symbolized } from "./symbolize/result.ts";
import { Symbolizer } from "./symbolize/symbolizer.ts";
import { JitSources } from "./symbolize/jit.ts";
import { VmaIterator } from "./vma_iterator.ts";

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

/** Per binding: does this kernel answer PROCMAP_QUERY? Probed once. */
const ioctlSupport = new WeakMap<Libc, boolean>();

/** Closes the perf map and jitdump of handles dropped without close(). */
const leakedJit = new FinalizationRegistry<JitSources>((jit) => jit.close());

/** Closes descriptors of handles dropped without close(). */
const leaked = new FinalizationRegistry<{ libc: Libc; fd: number }>(({ libc, fd }) => {
  libc.close(fd);
});

function checkOpenOptions(opts: unknown): BackendChoice {
  if (opts === undefined) return "auto";
  const o = checkObject(opts, "open");
  checkKnownKeys(o, OPEN_KEYS, "open");
  return choiceOption(o, "backend", BACKENDS, "auto");
}

function loadLibc(pid: Pid): Libc {
  try {
    return getLibc();
  } catch (e) {
    if (e instanceof FfiPermissionError) {
      throw new ProcMapsError("EACCES", ERRNO.EACCES, pid, "dlopen", e.message, { cause: e });
    }
    throw new ProcMapsError(
      "ENOSYS",
      ERRNO.ENOSYS,
      pid,
      "dlopen",
      `cannot load the C library: ${(e as Error)?.message}`,
      {
        cause: e,
      },
    );
  }
}

/**
 * Why the ioctl cannot be used here, or undefined when it can (the kernel
 * is probed on `fd`, once per binding).
 */
function ioctlUnavailable(libc: Libc, fd: number, pid: Pid, path: string): ProcMapsError | undefined {
  if (!libc.canIoctl) {
    return new ProcMapsError(
      "ENOTTY",
      ERRNO.ENOTTY,
      pid,
      "ioctl(PROCMAP_QUERY)",
      `the ${libc.runtime} runtime has no built-in FFI, so PROCMAP_QUERY cannot be called; ` +
        `use backend "text" or "auto", or run under Deno or Bun`,
    );
  }
  const request = requestFor(libc.arch);
  if (request === undefined) {
    return new ProcMapsError(
      "EOPNOTSUPP",
      ERRNO.EOPNOTSUPP,
      pid,
      "ioctl(PROCMAP_QUERY)",
      `procmap does not know the PROCMAP_QUERY request number on ${libc.arch} ` +
        `(known: x86_64, aarch64, riscv64); use backend "text" or "auto"`,
    );
  }
  let supported = ioctlSupport.get(libc);
  if (supported === undefined) {
    // Minimal valid query: covering-or-next from 0, no name, no build ID
    // (no buffers, so no addresses: a bare struct rather than a QueryStruct).
    const probe = new Uint8Array(QUERY_SIZE);
    const v = new DataView(probe.buffer);
    v.setBigUint64(OFF.size, BigInt(QUERY_SIZE), nativeLittleEndian);
    v.setBigUint64(OFF.queryFlags, BigInt(FLAG.coveringOrNext), nativeLittleEndian);
    const r = libc.ioctl(fd, request, probe);
    if (r === -ERRNO.ENOTTY) supported = false;
    else if (r >= 0 || r === -ERRNO.ENOENT) supported = true;
    // Any other answer (ESRCH for an exited process, ...) says nothing about the kernel.
    if (supported !== undefined) ioctlSupport.set(libc, supported);
  }
  if (supported === false) return errorFromErrno(ERRNO.ENOTTY, pid, "ioctl(PROCMAP_QUERY)", path);
  return undefined;
}

/**
 * A handle on the memory map of one process, read through PROCMAP_QUERY or
 * the text of `/proc/<pid>/maps`.
 *
 * The handle keeps `/proc/<pid>/maps` open: access is checked once, when it
 * is opened, and it keeps referring to the process it opened even if the pid
 * is later reused (queries then fail with `ESRCH`). Close it with `close()`,
 * or declare it with `using` so it closes at the end of the scope.
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
  readonly #sources: ResolveSources;
  #symbolSources: SymbolizeSources | undefined;
  /** perf map and jitdump of the process, kept open for symbolize(). */
  #jit: JitSources | undefined;

  private constructor(libc: Libc, pid: Pid, path: string, fd: number, backend: Backend, pageSize: number) {
    this.#libc = libc;
    this.pid = pid;
    this.#path = path;
    this.#fd = fd;
    this.#backend = backend;
    this.#pageSize = pageSize;
    this.#text = backend instanceof TextBackend ? backend : undefined;
    this.#sources = {
      libc,
      pid,
      ioctl: backend instanceof IoctlBackend ? backend : undefined,
      text: () => this.#textBackend(),
      segments: new Map<string, LoadSegment[] | null>(),
    };
    leaked.register(this, { libc, fd }, this);
  }

  #textBackend(): TextBackend {
    this.#open();
    return (this.#text ??= new TextBackend(this.#libc, this.#fd, this.pid, this.#path, this.#pageSize));
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
      throw new ProcMapsError(
        "ENOSYS",
        ERRNO.ENOSYS,
        id,
        "open",
        `procmap reads /proc/<pid>/maps, which only Linux has (this is ${libc.os})`,
      );
    }
    const path = `/proc/${id}/maps`;
    const fd = libc.openRead(path);
    if (fd < 0) throw errorFromErrno(-fd, id, "open", path);
    try {
      const pageSize = basePageSize(libc);
      let backend: Backend;
      const unavailable = choice === "text" ? undefined : ioctlUnavailable(libc, fd, id, path);
      if (choice === "ioctl" && unavailable) throw unavailable;
      if (choice === "text" || unavailable) {
        backend = new TextBackend(libc, fd, id, path, pageSize);
      } else {
        backend = new IoctlBackend(libc, fd, requestFor(libc.arch)!, id, path, pageSize);
      }
      return new ProcMaps(libc, id, path, fd, backend, pageSize);
    } catch (e) {
      libc.close(fd);
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

  #open(): Backend {
    const b = this.#backend;
    if (b === undefined) {
      throw new ProcMapsError(
        "EBADF",
        ERRNO.EBADF,
        this.pid,
        "use",
        `the handle on ${this.#path} is closed; open a new one with ProcMaps.open()`,
      );
    }
    return b;
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
   * Addresses are sorted and de-duplicated first (equal addresses share one
   * result object). With the ioctl, consecutive addresses in one VMA cost
   * one query and gaps are skipped with covering-or-next; build IDs and ELF
   * headers are read once per file. `strategy: "auto"` (default) picks ioctl
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
    this.#symbolSources ??= {
      libc: this.#libc,
      pid: this.pid,
      resolve: (a, o) => resolveBatch(this.#sources, a, o),
      symbolizer: (() => {
        let own: Symbolizer | undefined;
        return () => (own ??= new Symbolizer());
      })(),
      jit: () => {
        if (!this.#jit) leakedJit.register(this, this.#jit = new JitSources(this.#libc, this.pid), this.#jit);
        return this.#jit;
      },
    };
    return symbolizeBatch(this.#symbolSources, addrs, opts);
  }

  /** Which strategy `resolve(addrs, opts)` would use, and why. */
  planResolve(addrs: Iterable<bigint | number> | BigUint64Array, opts?: ResolveOptions): ResolvePlan {
    this.#open();
    const o = checkResolveOptions(opts);
    return planBatch(this.#sources, toBatch(addrs), o.strategy);
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
    if (this.#jit) {
      leakedJit.unregister(this.#jit);
      this.#jit.close();
      this.#jit = undefined;
    }
    leaked.unregister(this);
    this.#libc.close(this.#fd);
    this.#fd = -1;
  }

  /** Same as {@link close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
