/**
 * The PROCMAP_QUERY backend: one ioctl per query on the open maps file.
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import { hiOf, loOf, nativeLittleEndian } from "../util/bytes.ts";
import { FLAG, VSYSCALL_START } from "./abi.ts";
import type { Backend, Cursor, Seeker, VmaIndex } from "../backend.ts";
import { ERRNO, errorFromErrno, ProcMapsError } from "../errors.ts";
import type { Pid } from "../options.ts";
import { type Bounds, QueryStruct } from "./query_struct.ts";
import { readMaps, requireOutlived } from "../procfs/read.ts";
import { parseMaps } from "../text/parser.ts";
import type { MapsTable } from "../text/table.ts";
import { KERNEL_FLAGS, type Request, WANT_BUILD_ID, WANT_NAME } from "../backend.ts";
import { type Vma, withNameAndBuildId } from "../vma.ts";

/** Row of the maps text that the ioctl never reports (the gate area). */
interface Gate {
  table: MapsTable;
  row: number;
}

/** Queries the kernel directly; see the module docs. */
export class IoctlBackend implements Backend {
  readonly kind = "ioctl" as const;
  readonly #libc: Libc;
  readonly #fd: number;
  readonly #request: bigint;
  readonly #pid: Pid;
  readonly #path: string;
  readonly #pageSize: number;
  readonly #q: QueryStruct;
  /** undefined until first needed; null when the process has no gate area. */
  #gate: Gate | null | undefined;

  constructor(libc: Libc, fd: number, request: bigint, pid: Pid, path: string, pageSize: number) {
    this.#libc = libc;
    this.#fd = fd;
    this.#request = request;
    this.#pid = pid;
    this.#path = path;
    this.#pageSize = pageSize;
    this.#q = new QueryStruct((b) => libc.addressOf(b), nativeLittleEndian);
  }

  /** One ioctl: 0 or -errno. */
  #call(addr: bigint, request: Request): number {
    this.#q.prepare(addr, request);
    return this.#libc.ioctlAt(this.#fd, this.#request, this.#q.address);
  }

  query(addr: bigint, request: Request): Vma | null {
    const r = this.#call(addr, request);
    if (r >= 0) return (this.#decoded = this.#q.decode(request));
    return this.#failed(-r, addr, request);
  }

  /** The Vma the query struct last described (fallbacks such as the gate area return others). */
  #decoded: Vma | undefined;

  /** `vma`'s bounds as 32-bit halves into `out`: from the struct when it describes `vma`, which costs no bigints. */
  boundsOf(vma: Vma, out: Bounds): void {
    if (vma === this.#decoded) return this.#q.bounds(out);
    out.startHi = hiOf(vma.start);
    out.startLo = loOf(vma.start);
    out.endHi = hiOf(vma.end);
    out.endLo = loOf(vma.end);
  }

  #failed(errno: number, addr: bigint, request: Request): Vma | null {
    if (errno === ERRNO.ENOENT) return this.#gateFor(addr, request);
    if (errno === ERRNO.ENAMETOOLONG && request & WANT_NAME) {
      // The name did not fit: retry with a PATH_MAX buffer, the kernel's cap.
      if (this.#q.growName()) return this.query(addr, request);
      return this.#queryOverlongName(addr, request);
    }
    throw errorFromErrno(errno, this.#pid, "ioctl(PROCMAP_QUERY)", this.#path);
  }

  /**
   * A name longer than PATH_MAX: the ioctl cannot return it (d_path fails),
   * but the text maps print it. Take the VMA from the ioctl and its name from
   * the text, matched by range.
   */
  #queryOverlongName(addr: bigint, request: Request): Vma | null {
    const vma = this.query(addr, request & ~WANT_NAME);
    if (!vma) return null;
    const table = this.#readText();
    for (let i = 0; i < table.count; i++) {
      if (table.start.big[i] === vma.start && table.end.big[i] === vma.end) {
        return withNameAndBuildId(vma, table.name(i), vma.buildId);
      }
    }
    throw new ProcMapsError("ENAMETOOLONG", {
      pid: this.#pid,
      syscall: "ioctl(PROCMAP_QUERY)",
      message: `the name of the VMA at 0x${vma.start.toString(16)} is longer than PATH_MAX and the VMA changed ` +
        `before it could be read from ${this.#path}; query again`,
    });
  }

  /** The whole maps text, parsed; ESRCH unless the process outlived the read. */
  #readText(): MapsTable {
    const r = readMaps(this.#libc, this.#fd, this.#pid, this.#path);
    requireOutlived(this.#libc, this.#fd, this.#pid, this.#path);
    return parseMaps(r.bytes, r.length, this.#pageSize, this.#pid);
  }

  /**
   * After ENOENT: the gate area ([vsyscall] on x86_64) if the query would
   * have matched it. The text maps list it last; the ioctl never returns it.
   * procmap reports it in both backends, so it is looked up once per handle,
   * and only when a query reaches that far.
   */
  #gateFor(addr: bigint, request: Request): Vma | null {
    const next = (request & FLAG.coveringOrNext) !== 0;
    if (!next && addr < VSYSCALL_START) return null;
    if (this.#gate === undefined) this.#gate = this.#findGate();
    const gate = this.#gate;
    if (!gate) return null;
    const { table, row } = gate;
    if (!table.matches(row, request & KERNEL_FLAGS)) return null;
    const end = table.end.big[row];
    if (addr >= end) return null;
    if (!next && addr < table.start.big[row]) return null;
    return table.vma(row, (request & WANT_NAME) !== 0, undefined);
  }

  #findGate(): Gate | null {
    // The text (complete: the process outlived the read) lists the gate last.
    const table = this.#readText();
    const row = table.count - 1;
    // Only the x86_64 vsyscall page is a gate. Any other last row is an
    // ordinary VMA, which may since have been unmapped: never keep it.
    if (table.start.big[row] !== VSYSCALL_START || table.name(row) !== "[vsyscall]") return null;
    // And only if the ioctl does not know it. Errors (ESRCH: it exited) are
    // not "no gate area".
    const r = this.#call(VSYSCALL_START, 0);
    if (r === -ERRNO.ENOENT) return { table, row };
    if (r >= 0) return null;
    throw errorFromErrno(-r, this.#pid, "ioctl(PROCMAP_QUERY)", this.#path);
  }

  cursor(from: bigint, request: Request): Cursor {
    return new IoctlCursor(this, from, request | FLAG.coveringOrNext);
  }

  seeker(): Seeker {
    return new IoctlSeeker(this);
  }

  buildIdOf(vma: Vma): string | undefined {
    if (!vma.fileBacked) return undefined;
    // One more query at its start, asking only for that; the map may have
    // changed meanwhile, so trust only the same file.
    const again = this.query(vma.start, WANT_BUILD_ID);
    if (!again || again.inode !== vma.inode || again.devMajor !== vma.devMajor || again.devMinor !== vma.devMinor) {
      return undefined;
    }
    return again.buildId;
  }

  lastIndex(): VmaIndex | undefined {
    return undefined;
  }

  refresh(): void {}

  dispose(): void {
    this.#gate = undefined;
  }
}

/** resolve()'s seeks: one covering-or-next query each, with the name. */
class IoctlSeeker implements Seeker {
  readonly #backend: IoctlBackend;
  #vma: Vma | null = null;
  startHi = 0;
  startLo = 0;
  endHi = 0;
  endLo = 0;

  constructor(backend: IoctlBackend) {
    this.#backend = backend;
  }

  seek(addr: bigint): boolean {
    const vma = this.#vma = this.#backend.query(addr, FLAG.coveringOrNext | WANT_NAME);
    if (vma === null) return false;
    this.#backend.boundsOf(vma, this);
    return true;
  }

  current(): Vma {
    return this.#vma!;
  }
}

/** A walk: covering-or-next queries, each from the end of the VMA before. */
class IoctlCursor implements Cursor {
  readonly #backend: IoctlBackend;
  readonly #request: Request;
  #addr: bigint;

  constructor(backend: IoctlBackend, from: bigint, request: Request) {
    this.#backend = backend;
    this.#addr = from;
    this.#request = request;
  }

  next(): Vma | null {
    const vma = this.#backend.query(this.#addr, this.#request);
    // The kernel returns VMAs ending above addr, so this always advances.
    if (vma) this.#addr = vma.end;
    return vma;
  }
}
