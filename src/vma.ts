/**
 * The VMA record every backend returns.
 * @module
 */

/** The x86_64 vsyscall gate area: listed by the text maps, never by the ioctl. */
export const VSYSCALL_START = 0xffffffffff600000n;

/** Permission bits as in PROCMAP_QUERY's `vma_flags`. */
export const PERM = { read: 1, write: 2, exec: 4, shared: 8 } as const;

/** `perms` strings indexed by the four permission bits, as the text maps print them. */
const PERMS: readonly string[] = Array.from(
  { length: 16 },
  (_, f) =>
    (f & PERM.read ? "r" : "-") + (f & PERM.write ? "w" : "-") + (f & PERM.exec ? "x" : "-") +
    (f & PERM.shared ? "s" : "p"),
);

/**
 * One virtual memory area of a process: a range of addresses with the same
 * permissions and backing, as `/proc/<pid>/maps` lists it.
 *
 * A VMA holds only what the kernel reported; `perms`, `readable`,
 * `writable`, `executable`, `shared`, `size` and `fileBacked` are computed
 * from those fields when read (so a query that only reads `start` and `end`
 * pays for nothing else).
 */
export class Vma {
  // `declare`: assigned once in the constructor, no field initialisers to run first.
  /** First address of the area. */
  declare readonly start: bigint;
  /** One past the last address of the area. */
  declare readonly end: bigint;
  /**
   * Permission bits as PROCMAP_QUERY's `vma_flags` has them: {@link PERM}
   * `read` (1), `write` (2), `exec` (4), `shared` (8).
   */
  declare readonly flags: number;
  /** Offset in the backing file of `start` (0 for anonymous memory). */
  declare readonly offset: bigint;
  /** Major device number of the backing file (0 for anonymous memory). */
  declare readonly devMajor: number;
  /** Minor device number of the backing file (0 for anonymous memory). */
  declare readonly devMinor: number;
  /** Inode number of the backing file (0 for anonymous memory). */
  declare readonly inode: bigint;
  /**
   * Page size of the area in bytes: the huge page size for hugetlb memory,
   * else the base page size.
   */
  declare readonly pageSize: number;
  /**
   * The name as the text maps print it (with a newline unescaped): a path
   * (with ` (deleted)` when unlinked), `[heap]`, `[stack]`, `[vdso]`,
   * `[anon:<name>]`, ...; `""` when the area has none; `undefined` when the
   * name was not requested. Bytes that are not UTF-8 become U+FFFD.
   */
  declare readonly name: string | undefined;
  /**
   * ELF build ID of the backing file as lowercase hex, when requested and the
   * file has one; otherwise `undefined`.
   */
  declare readonly buildId: string | undefined;

  /** @internal Backends construct VMAs; user code receives them. */
  constructor(
    start: bigint,
    end: bigint,
    flags: number,
    offset: bigint,
    devMajor: number,
    devMinor: number,
    inode: bigint,
    pageSize: number,
    name: string | undefined,
    buildId: string | undefined,
  ) {
    this.start = start;
    this.end = end;
    this.flags = flags & 15;
    this.offset = offset;
    this.devMajor = devMajor;
    this.devMinor = devMinor;
    this.inode = inode;
    this.pageSize = pageSize;
    this.name = name;
    this.buildId = buildId;
  }

  /** Permissions as the text maps print them, e.g. `"r-xp"` or `"rw-s"`. */
  get perms(): string {
    return PERMS[this.flags];
  }

  /** `r`: readable. */
  get readable(): boolean {
    return (this.flags & PERM.read) !== 0;
  }

  /** `w`: writable. */
  get writable(): boolean {
    return (this.flags & PERM.write) !== 0;
  }

  /** `x`: executable. */
  get executable(): boolean {
    return (this.flags & PERM.exec) !== 0;
  }

  /** `s`: shared (may be shared with other processes); `p` otherwise. */
  get shared(): boolean {
    return (this.flags & PERM.shared) !== 0;
  }

  /** Size in bytes (`end - start`). */
  get size(): bigint {
    return this.end - this.start;
  }

  /**
   * True when a file backs the area (a regular file, memfd or shared
   * anonymous memory): the kernel reports a device or inode for it.
   */
  get fileBacked(): boolean {
    return this.inode !== 0n || this.devMajor !== 0 || this.devMinor !== 0;
  }

  /** True when `addr` lies in `[start, end)`. */
  contains(addr: bigint): boolean {
    return addr >= this.start && addr < this.end;
  }

  /** The area as one line of `/proc/<pid>/maps`, a newline in the name escaped as the kernel does (`\012`). */
  toString(): string {
    const hex = (n: bigint | number, w: number) => n.toString(16).padStart(w, "0");
    const head = `${hex(this.start, 8)}-${hex(this.end, 8)} ${this.perms} ${hex(this.offset, 8)} ` +
      `${hex(this.devMajor, 2)}:${hex(this.devMinor, 2)} ${this.inode} `;
    return this.name ? head.padEnd(72, " ") + " " + this.name.replaceAll("\n", "\\012") : head;
  }

  /** JSON form: addresses, offset and inode as `0x`-hex / decimal strings (JSON has no bigint). */
  toJSON(): Record<string, unknown> {
    return {
      start: "0x" + this.start.toString(16),
      end: "0x" + this.end.toString(16),
      perms: this.perms,
      offset: "0x" + this.offset.toString(16),
      dev: `${this.devMajor.toString(16).padStart(2, "0")}:${this.devMinor.toString(16).padStart(2, "0")}`,
      inode: this.inode.toString(),
      pageSize: this.pageSize,
      name: this.name,
      buildId: this.buildId,
    };
  }
}

/**
 * The raw bytes of names that are not UTF-8 (their string holds U+FFFD),
 * for opening the file: the string cannot be encoded back to the path.
 * Only such VMAs have an entry.
 */
const rawNames = new WeakMap<Vma, Uint8Array>();
const encoder = new TextEncoder();

/** Records the raw bytes of a VMA's name (backends do, for names that are not UTF-8). */
export function setRawName(vma: Vma, bytes: Uint8Array): void {
  rawNames.set(vma, bytes);
}

/** The name of `vma` as the kernel's bytes (its path, for opening the file). */
export function nameBytesOf(vma: Vma): Uint8Array {
  return rawNames.get(vma) ?? encoder.encode(vma.name ?? "");
}

/** A copy of `vma` with another name and build ID. */
export function withNameAndBuildId(vma: Vma, name: string | undefined, buildId: string | undefined): Vma {
  const copy = new Vma(
    vma.start,
    vma.end,
    vma.flags,
    vma.offset,
    vma.devMajor,
    vma.devMinor,
    vma.inode,
    vma.pageSize,
    name,
    buildId,
  );
  const raw = name === vma.name ? rawNames.get(vma) : undefined;
  if (raw) rawNames.set(copy, raw);
  return copy;
}
