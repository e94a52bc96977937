/**
 * The PROCMAP_QUERY backend: one ioctl per query on the open maps file.
 *
 * Build IDs: the kernel's parser has no limit on notes, so a hostile file
 * can stall one query for seconds. The kernel is asked about a file only
 * after procmap's bounded parser has vetted it (elf/file_cache.ts, once per
 * file per handle). Each VMA's build ID is asked once per handle (until
 * refresh()), keyed by its file and range, with a query at the VMA's own
 * start that must report the same range and file: the build ID is the one
 * of the VMA it is returned with. (A file freed, and another one created
 * with the same inode number and mapped at the very same range while the
 * handle is open, keeps the first one's build ID until refresh().)
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import { hiOf, loOf, u64 } from "../util/bytes.ts";
import type { Backend, Cursor, Seeker, VmaIndex } from "../backend.ts";
import { ERRNO, ProcMapsError } from "../errors.ts";
import type { Pid } from "../options.ts";
import { type Bounds, QueryStruct } from "./query_struct.ts";
import { readMaps, requireOutlived } from "../procfs/read.ts";
import type { ProcessRef } from "../procfs/process.ts";
import type { MappedFiles } from "../elf/file_cache.ts";
import { parseMaps } from "../text/parser.ts";
import type { MapsTable } from "../text/table.ts";
import { FLAG, KERNEL_FLAGS, type Request, WANT_BUILD_ID, WANT_NAME } from "../request.ts";
import { type Vma, VSYSCALL_START, withNameAndBuildId } from "../vma.ts";
import { mappedFileOf } from "../elf/mapped_file.ts";
import { TableBuilder } from "../table/builder.ts";
import type { VmaTable } from "../table/vma_table.ts";

/**
 * What one walk (or one resolve() batch) shares: the maps text, read at most
 * once for names longer than PATH_MAX (the ioctl cannot return them).
 */
export interface WalkText {
  table: MapsTable | undefined;
}

/** A build ID the kernel gave for the VMA starting at its key. */
interface KnownBuildId {
  end: bigint;
  inode: bigint;
  devMajor: number;
  devMinor: number;
  id: string | undefined;
}

/** Times a query answered EAGAIN is asked again before the error is reported. */
const EAGAIN_RETRIES = 16;

/** VMAs whose build ID is remembered per handle at most. */
const MAX_BUILD_IDS = 8192;

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
  readonly #proc: ProcessRef;
  readonly #path: string;
  readonly #pageSize: number;
  readonly #q: QueryStruct;
  readonly #files: MappedFiles;
  /** Build IDs by "major:minor:inode:start:end", once per VMA per handle (until refresh()). */
  /** Build IDs asked of the kernel, by VMA start (checked against the rest of the VMA's identity). */
  readonly #buildIds = new Map<bigint, KnownBuildId>();
  /** undefined until first needed; null when the process has no gate area. */
  #gate: Gate | null | undefined;
  /** Times the whole maps text was read (tests count them). */
  textReads = 0;

  constructor(
    libc: Libc,
    fd: number,
    request: bigint,
    proc: ProcessRef,
    path: string,
    pageSize: number,
    files: MappedFiles,
  ) {
    this.#libc = libc;
    this.#fd = fd;
    this.#request = request;
    this.#pid = proc.pid;
    this.#proc = proc;
    this.#path = path;
    this.#pageSize = pageSize;
    this.#files = files;
    this.#q = new QueryStruct((b) => libc.addressOf(b));
  }

  /** One ioctl: 0 or -errno. */
  #call(addr: bigint, request: Request): number {
    this.#inStruct = undefined;
    this.#q.prepare(addr, request);
    const r = this.#libc.ioctlAt(this.#fd, this.#request, this.#q.address);
    return r === -ERRNO.EAGAIN ? this.#again() : r;
  }

  /**
   * PROCMAP_QUERY can answer EAGAIN while another thread changes the map
   * (seen on Linux 6.18, where it runs under per-VMA locks): the same query
   * again, a bounded number of times. The kernel wrote nothing back, so the
   * struct is still as prepared.
   */
  #again(): number {
    let r = -ERRNO.EAGAIN;
    for (let i = 0; i < EAGAIN_RETRIES && r === -ERRNO.EAGAIN; i++) {
      r = this.#libc.ioctlAt(this.#fd, this.#request, this.#q.address);
    }
    return r;
  }

  /** The walk step's Vma the struct still describes (no other call since): the next step starts at its end. */
  #inStruct: Vma | undefined;

  /**
   * A walk's step: the first matching VMA ending above `prev` (the step
   * before), or at or after `from` for the first. When the struct still
   * describes `prev`, the query address is its end copied in place.
   */
  walkNext(prev: Vma | undefined, from: bigint, request: Request, walk: WalkText): Vma | null {
    const q = this.#q;
    if (request & WANT_BUILD_ID) return this.query(prev === undefined ? from : prev.end, request, walk);
    if (prev !== undefined && prev === this.#inStruct) q.prepareAfterLast(request);
    else q.prepare(prev === undefined ? from : prev.end, request);
    let r = this.#libc.ioctlAt(this.#fd, this.#request, q.address);
    if (r === -ERRNO.EAGAIN) r = this.#again();
    if (r >= 0) return (this.#inStruct = q.decode(request));
    this.#inStruct = undefined;
    return this.#failed(-r, q.queryAddr(), request, walk);
  }

  query(addr: bigint, request: Request, walk?: WalkText): Vma | null {
    if (request & WANT_BUILD_ID) return this.#queryWithBuildId(addr, request, walk);
    const r = this.#call(addr, request);
    if (r >= 0) return this.#q.decode(request);
    return this.#failed(-r, addr, request, walk);
  }

  /**
   * A seeker's query at the address `hi:lo`: as query(), with the VMA's
   * bounds as 32-bit halves into `out`, from the struct when the kernel
   * answered (no bigint for the address or the bounds).
   */
  seek(hi: number, lo: number, request: Request, walk: WalkText, out: Bounds): Vma | null {
    this.#inStruct = undefined;
    const q = this.#q;
    q.prepareAt(hi, lo, request);
    let r = this.#libc.ioctlAt(this.#fd, this.#request, q.address);
    if (r === -ERRNO.EAGAIN) r = this.#again();
    if (r >= 0) {
      q.bounds(out);
      return q.decode(request);
    }
    const vma = this.#failed(-r, u64(hi, lo), request, walk);
    if (vma !== null) {
      out.startHi = hiOf(vma.start);
      out.startLo = loOf(vma.start);
      out.endHi = hiOf(vma.end);
      out.endLo = loOf(vma.end);
    }
    return vma;
  }

  /** A query wanting a build ID: the VMA first, then its file's build ID (vetted, cached). */
  #queryWithBuildId(addr: bigint, request: Request, walk: WalkText | undefined): Vma | null {
    const vma = this.query(addr, request & ~WANT_BUILD_ID, walk);
    if (!vma || !vma.fileBacked) return vma;
    return withNameAndBuildId(vma, vma.name, this.buildIdOf(vma));
  }

  #failed(errno: number, addr: bigint, request: Request, walk: WalkText | undefined): Vma | null {
    if (errno === ERRNO.ENOENT) return this.#gateFor(addr, request, walk);
    if (errno === ERRNO.ENAMETOOLONG && request & WANT_NAME) {
      // The name did not fit: retry with a PATH_MAX buffer, the kernel's cap.
      if (this.#q.growName()) return this.query(addr, request, walk);
      return this.#queryOverlongName(addr, request, walk ?? { table: undefined });
    }
    throw this.#proc.error(errno, "ioctl(PROCMAP_QUERY)", this.#path);
  }

  /**
   * A name longer than PATH_MAX: the ioctl cannot return it (d_path fails),
   * but the text maps print it. Take the VMA from the ioctl and its name from
   * the text, matched by range. The text is read once per walk: a walk over
   * a thousand such VMAs reads it once, not a thousand times (again only
   * when a VMA is missing from it: it changed since).
   */
  #queryOverlongName(addr: bigint, request: Request, walk: WalkText): Vma | null {
    const vma = this.query(addr, request & ~WANT_NAME);
    if (!vma) return null;
    let table = walk.table;
    const cached = table !== undefined;
    let row = cached ? rowOf(table!, vma) : -1;
    if (row < 0) {
      table = walk.table = this.#readText();
      row = rowOf(table, vma);
    }
    if (row >= 0) return withNameAndBuildId(vma, table!.name(row), vma.buildId);
    throw new ProcMapsError("ENAMETOOLONG", {
      pid: this.#pid,
      syscall: "ioctl(PROCMAP_QUERY)",
      message: `the name of the VMA at 0x${vma.start.toString(16)} is longer than PATH_MAX and the VMA changed ` +
        `before it could be read from ${this.#path}; query again`,
    });
  }

  /** The whole maps text, parsed; ESRCH unless the process outlived the read. */
  #readText(): MapsTable {
    this.textReads++;
    const r = readMaps(this.#libc, this.#fd, this.#proc, this.#path);
    const table = parseMaps(r.bytes, r.length, this.#pageSize, this.#pid);
    if (!table.endsWithGate()) requireOutlived(this.#libc, this.#fd, this.#proc, this.#path);
    return table;
  }

  /**
   * After ENOENT: the gate area ([vsyscall] on x86_64) if the query would
   * have matched it. The text maps list it last; the ioctl never returns it.
   * procmap reports it in both backends, so it is looked up once per handle,
   * and only when a query reaches that far.
   */
  #gateFor(addr: bigint, request: Request, walk: WalkText | undefined): Vma | null {
    const next = (request & FLAG.coveringOrNext) !== 0;
    if (!next && addr < VSYSCALL_START) return null;
    if (this.#gate === undefined) this.#gate = this.#findGate(walk?.table);
    const gate = this.#gate;
    if (!gate) return null;
    const { table, row } = gate;
    if (!table.matches(row, request & KERNEL_FLAGS)) return null;
    const end = table.end.big[row];
    if (addr >= end) return null;
    if (!next && addr < table.start.big[row]) return null;
    return table.vma(row, (request & WANT_NAME) !== 0, undefined);
  }

  #findGate(read: MapsTable | undefined): Gate | null {
    // The text (complete: the process outlived the read) lists the gate last;
    // a walk that read it already (overlong names) lends its copy.
    const table = read ?? this.#readText();
    const row = table.count - 1;
    // Only the x86_64 vsyscall page is a gate. Any other last row is an
    // ordinary VMA, which may since have been unmapped: never keep it.
    if (!table.endsWithGate() || table.name(row) !== "[vsyscall]") return null;
    // And only if the ioctl does not know it. Errors (ESRCH: it exited) are
    // not "no gate area".
    const r = this.#call(VSYSCALL_START, 0);
    if (r === -ERRNO.ENOENT) return { table, row };
    if (r >= 0) return null;
    throw this.#proc.error(-r, "ioctl(PROCMAP_QUERY)", this.#path);
  }

  cursor(from: bigint, request: Request): Cursor {
    return new IoctlCursor(this, from, request | FLAG.coveringOrNext);
  }

  seeker(): Seeker {
    return new IoctlSeeker(this);
  }

  /**
   * A walk straight into columns: each step's query address is the last
   * VMA's end, copied inside the struct, and each row is copied word by
   * word, so the common step makes no bigint and no Vma. What the struct
   * cannot say (build IDs, the gate area, names longer than PATH_MAX) takes
   * the ordinary query path for that row.
   */
  table(from: bigint, to: bigint | undefined, request: Request, signal: AbortSignal | undefined): VmaTable {
    const req = request | FLAG.coveringOrNext;
    const b = new TableBuilder((req & WANT_NAME) !== 0, (req & WANT_BUILD_ID) !== 0, this.#lastTableRows);
    const toHi = to === undefined ? 0 : hiOf(to), toLo = to === undefined ? 0 : loOf(to);
    const walk: WalkText = { table: undefined };
    const q = this.#q;
    const direct = (req & WANT_BUILD_ID) === 0;
    let r = direct ? this.#call(from, req) : -1;
    let addr = from;
    for (let n = 1;; n++) {
      if ((n & 1023) === 0) signal?.throwIfAborted();
      if (r >= 0) {
        if (to !== undefined && q.startsAtOrAbove(toHi, toLo)) break;
        q.appendTo(b, req);
        q.prepareAfterLast(req);
        r = this.#libc.ioctlAt(this.#fd, this.#request, q.address);
        if (r === -ERRNO.EAGAIN) r = this.#again();
        continue;
      }
      // A step the struct alone does not answer: the ordinary query path.
      if (direct) addr = q.queryAddr();
      const vma = direct ? this.#failed(-r, addr, req, walk) : this.query(addr, req, walk);
      if (vma === null || (to !== undefined && vma.start >= to)) break;
      b.appendVma(vma);
      addr = vma.end;
      r = direct ? this.#call(addr, req) : -1;
    }
    this.#lastTableRows = b.length;
    return b.finish();
  }

  /** Rows of the last table, to size the next one's columns. */
  #lastTableRows = 0;

  buildIdOf(vma: Vma): string | undefined {
    if (!vma.fileBacked) return undefined;
    // Keyed by start, compared field by field: no key string (with three bigints) per query.
    const known = this.#buildIds.get(vma.start);
    if (
      known !== undefined && known.end === vma.end && known.inode === vma.inode && known.devMajor === vma.devMajor &&
      known.devMinor === vma.devMinor
    ) {
      return known.id;
    }
    const vetted = this.#files.mayAskKernel(vma, () => mappedFileOf(vma));
    let id: string | undefined;
    if (vetted === true) {
      // One query at the VMA's start, asking only for the build ID; the map
      // may have changed meanwhile, so trust only the same range and file.
      const r = this.#call(vma.start, WANT_BUILD_ID);
      if (r < 0 && r !== -ERRNO.ENOENT) throw this.#proc.error(-r, "ioctl(PROCMAP_QUERY)", this.#path);
      const again = r >= 0 ? this.#q.decode(WANT_BUILD_ID) : null;
      if (
        !again || again.start !== vma.start || again.end !== vma.end || again.inode !== vma.inode ||
        again.devMajor !== vma.devMajor || again.devMinor !== vma.devMinor
      ) {
        // Not the same VMA any more: no answer, and nothing remembered.
        return undefined;
      }
      id = again.buildId;
    } else id = vetted.buildId;
    if (this.#buildIds.size >= MAX_BUILD_IDS) this.#buildIds.clear();
    this.#buildIds.set(vma.start, {
      end: vma.end,
      inode: vma.inode,
      devMajor: vma.devMajor,
      devMinor: vma.devMinor,
      id,
    });
    return id;
  }

  lastIndex(): VmaIndex | undefined {
    return undefined;
  }

  /** Forgets the build IDs asked so far (a file may since have been replaced at the same inode). */
  refresh(): void {
    this.#buildIds.clear();
  }

  dispose(): void {
    this.#gate = undefined;
    this.#buildIds.clear();
  }
}

/** resolve()'s seeks: one covering-or-next query each, with the name. */
class IoctlSeeker implements Seeker {
  readonly #backend: IoctlBackend;
  /** The maps text, read at most once per batch for names longer than PATH_MAX. */
  readonly #walk: WalkText = { table: undefined };
  #vma: Vma | null = null;
  startHi = 0;
  startLo = 0;
  endHi = 0;
  endLo = 0;

  constructor(backend: IoctlBackend) {
    this.#backend = backend;
  }

  seek(hi: number, lo: number): boolean {
    return (this.#vma = this.#backend.seek(hi, lo, FLAG.coveringOrNext | WANT_NAME, this.#walk, this)) !== null;
  }

  current(): Vma {
    return this.#vma!;
  }
}

/** True when row `i` of `table` is `vma` (range and file). */
function isRow(table: MapsTable, i: number, vma: Vma): boolean {
  return table.start.big[i] === vma.start && table.end.big[i] === vma.end && table.inode.big[i] === vma.inode &&
    table.devMajor[i] === vma.devMajor && table.devMinor[i] === vma.devMinor;
}

/** The row of `table` that is `vma`, or -1. */
function rowOf(table: MapsTable, vma: Vma): number {
  const row = table.firstEndingAbove(hiOf(vma.start), loOf(vma.start));
  if (row < table.count && isRow(table, row, vma)) return row;
  // A text read while the map changed may be out of order: look at every row.
  for (let i = 0; i < table.count; i++) if (isRow(table, i, vma)) return i;
  return -1;
}

/** A walk: covering-or-next queries, each from the end of the VMA before. */
class IoctlCursor implements Cursor {
  readonly #backend: IoctlBackend;
  readonly #request: Request;
  readonly #walk: WalkText = { table: undefined };
  readonly #from: bigint;
  #prev: Vma | undefined;

  constructor(backend: IoctlBackend, from: bigint, request: Request) {
    this.#backend = backend;
    this.#from = from;
    this.#request = request;
  }

  next(): Vma | null {
    const vma = this.#backend.walkNext(this.#prev, this.#from, this.#request, this.#walk);
    // The kernel returns VMAs ending above the address asked, so this always advances.
    if (vma) this.#prev = vma;
    return vma;
  }
}
