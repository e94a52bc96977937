/**
 * Compressed debug sections: ELF `SHF_COMPRESSED` (an `Elf32_Chdr` /
 * `Elf64_Chdr` then a zlib or zstd stream) and the legacy GNU
 * `.zdebug_*` sections ("ZLIB", a big-endian u64 size, a zlib stream).
 * zlib is `node:zlib` (in every runtime, loaded the first time a zlib
 * section is met); zstd is zstd.ts (the npm package `fzstd`, loaded the
 * first time a zstd section is met).
 *
 * Bounded: the header's size is checked against `maxBytes` before any
 * work, the output must be exactly that size, and a broken stream is a
 * reason, never an exception.
 * @module
 */
import { builtinModule } from "../util/builtin.ts";
import type { DwarfSectionName } from "./types.ts";
import { firstOutputBytes, grownOutputBytes } from "./output_size.ts";
import { zstdDecompress } from "./zstd.ts";

/** `SHF_COMPRESSED` in an ELF section header's flags. */
export const SHF_COMPRESSED = 0x800;
/** `ELFCOMPRESS_ZLIB`: an `Elf*_Chdr`'s type for a zlib stream. */
export const ELFCOMPRESS_ZLIB = 1;
const ELFCOMPRESS_ZSTD = 2;

/** A section as the ELF file holds it. */
export interface RawSection {
  /** The ELF section name (`.zdebug_*` marks the legacy format). */
  readonly name: string;
  /** The section header's `sh_flags`. */
  readonly flags: bigint | number;
  /** Its bytes as in the file. */
  readonly bytes: Uint8Array;
  /** ELF64 (else ELF32): the size of the compression header. */
  readonly is64: boolean;
  /** The file's byte order. */
  readonly littleEndian: boolean;
}

/**
 * Why a section could not be decompressed: `"malformed"` (a broken header
 * or stream, or a stream of another size than its header says),
 * `"too-large"` (over `maxBytes`), `"unsupported-compression"` (neither
 * zlib nor zstd, or the zstd decoder cannot be loaded).
 */
export interface DecompressMiss {
  readonly reason: "malformed" | "too-large" | "unsupported-compression";
  readonly message: string;
}

/**
 * An inflate to use instead of `node:zlib`'s (the shape of ffi/zlib.ts's,
 * which the symbolizer passes where the runtime's FFI reaches libz): the
 * zlib stream (or its start) in `src` inflated into `out` until `out` is
 * full or the input or the stream ends; the bytes written and whether the
 * stream ended, or a negative zlib error.
 */
export interface Inflater {
  inflateInto(src: Uint8Array, out: Uint8Array): { written: number; ended: boolean } | number;
  /**
   * The same with the stream given in pieces by `next` (undefined at its
   * end), each valid until the next call: the caller can read a section
   * from its file into one small buffer, as far as the inflate goes.
   */
  inflateFrom?(next: () => Uint8Array | undefined, out: Uint8Array): { written: number; ended: boolean } | number;
}

/**
 * The most a stream of `streamBytes` bytes can decompress to: deflate's
 * limit is 1032 to 1 (258-byte matches at under two bits each); zstd's is
 * 32768 to 1 (a 4-byte RLE block of 128 KiB), plus a block. A header that
 * claims more lies, and is refused before any output is allocated: a
 * buffer the size of a lie (a gigabyte for a 10 KiB stream) would be the
 * cost of the lie.
 */
export function maxDecompressed(type: number, streamBytes: number): number {
  return type === ELFCOMPRESS_ZSTD ? streamBytes * 32768 + (128 << 10) : streamBytes * 1032 + 1024;
}

/** Whether the section is compressed (SHF_COMPRESSED, or a `.zdebug_*` name). */
export function isCompressed(s: Pick<RawSection, "name" | "flags">): boolean {
  return (BigInt(s.flags) & BigInt(SHF_COMPRESSED)) !== 0n || s.name.startsWith(".zdebug");
}

/**
 * An `SHF_COMPRESSED` section's `Elf*_Chdr` (compression type, uncompressed
 * size) and the stream after it, from the section's bytes (or their start);
 * undefined when they are shorter than the header.
 */
export function compressionHeader(
  b: Uint8Array,
  is64: boolean,
  littleEndian: boolean,
): { type: number; size: bigint; data: Uint8Array } | undefined {
  const hdr = is64 ? 24 : 12;
  if (b.length < hdr) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  const size = is64 ? v.getBigUint64(8, littleEndian) : BigInt(v.getUint32(4, littleEndian));
  return { type: v.getUint32(0, littleEndian), size, data: b.subarray(hdr) };
}

/**
 * The section's contents, decompressed when it is compressed (the input
 * itself when it is not), or why not. `maxBytes` bounds the output.
 */
export function decompressSection(s: RawSection, maxBytes: number, inflater?: Inflater): Uint8Array | DecompressMiss {
  if (!(s.bytes instanceof Uint8Array)) throw new TypeError("decompressSection: bytes must be a Uint8Array");
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
    throw new RangeError(`decompressSection: maxBytes must be a non-negative safe integer, got ${maxBytes}`);
  }
  const b = s.bytes;
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  const what = `${s.name || "section"}`;
  if ((BigInt(s.flags) & BigInt(SHF_COMPRESSED)) !== 0n) {
    const h = compressionHeader(s.bytes, s.is64, s.littleEndian);
    if (!h) return miss("malformed", `${what}: compression header cut short`);
    const { type, size, data } = h;
    const known = type === ELFCOMPRESS_ZLIB || type === ELFCOMPRESS_ZSTD;
    const claim = claimMiss(what, type, size, known ? data.length : Infinity, maxBytes);
    if (claim) return claim;
    if (type === ELFCOMPRESS_ZLIB) return inflate(data, Number(size), what, inflater);
    if (type === ELFCOMPRESS_ZSTD) return unzstd(data, Number(size), what);
    return miss("unsupported-compression", `${what}: compression type ${type} is not zlib (1) or zstd (2)`);
  }
  if (s.name.startsWith(".zdebug")) {
    if (b.length < 12 || b[0] !== 0x5a || b[1] !== 0x4c || b[2] !== 0x49 || b[3] !== 0x42) {
      // A .zdebug section may also be stored uncompressed (no "ZLIB" magic): binutils reads it as is.
      return b;
    }
    const size = v.getBigUint64(4, false);
    const claim = claimMiss(what, ELFCOMPRESS_ZLIB, size, b.length - 12, maxBytes);
    if (claim) return claim;
    return inflate(b.subarray(12), Number(size), what, inflater);
  }
  return b;
}

/**
 * Why a header's claim of `size` bytes is not taken: more than `maxBytes`,
 * or more than a stream of `streamBytes` bytes of `type` can decompress to
 * (Infinity: a type whose limit is not known); undefined when it may hold.
 */
function claimMiss(
  what: string,
  type: number,
  size: bigint,
  streamBytes: number,
  maxBytes: number,
): DecompressMiss | undefined {
  if (size > BigInt(maxBytes)) return miss("too-large", `${what}: ${size} bytes uncompressed, more than ${maxBytes}`);
  if (streamBytes !== Infinity && size > maxDecompressed(type, streamBytes)) {
    return miss(
      "malformed",
      `${what}: a ${streamBytes}-byte stream cannot decompress to the ${size} bytes its header says`,
    );
  }
  return undefined;
}

interface Zlib {
  inflateSync(
    data: Uint8Array,
    opts: { maxOutputLength: number; chunkSize: number; finishFlush?: number },
  ): Uint8Array;
}
let zlib: Zlib | undefined;
/** zlib's Z_SYNC_FLUSH: a stream cut short gives what its bytes hold instead of an error. */
const Z_SYNC_FLUSH = 2;

/**
 * How many bytes of a zlib stream of `streamLength` bytes that inflates to
 * `size` bytes to inflate for its first `want` bytes: the mean ratio's
 * share, with room to spare (the ratio varies along a section; a short
 * prefix costs another try, then the whole). Undefined when a prefix would
 * not save anything: `want` past the section, or the share is the whole.
 */
export function prefixStreamBytes(want: number, streamLength: number, size: number): number | undefined {
  if (!(want >= 0) || !(size > 0) || want > size) return undefined;
  const n = Math.ceil(((want + 65536) * streamLength / size) * 1.25) + 1024;
  return n < streamLength ? n : undefined;
}

/**
 * The first bytes of an `SHF_COMPRESSED` zlib section, at least `want` of
 * them, from a prefix of its stream (a zlib stream has no random access: a
 * unit near the start of `.debug_info` needs only the bytes before it
 * inflated, not the whole section). `s.bytes` may hold only the start of
 * the section when `streamLength` (the whole stream's length) is given.
 * Undefined when a prefix would not save anything (see
 * {@link prefixStreamBytes}), when the section is not zlib-compressed, or
 * when the prefix did not reach `want`: the caller then takes the whole
 * section from {@link decompressSection}, which checks the stream's size
 * and end. Bounded as that: by the header's size (checked against
 * `maxBytes`), the output never past it.
 */
export function inflatePrefix(
  s: RawSection,
  want: number,
  maxBytes: number,
  streamLength?: number,
  inflater?: Inflater,
): Uint8Array | undefined {
  if ((BigInt(s.flags) & BigInt(SHF_COMPRESSED)) === 0n) return undefined;
  const h = compressionHeader(s.bytes, s.is64, s.littleEndian);
  if (!h || h.type !== ELFCOMPRESS_ZLIB || h.size > BigInt(maxBytes)) return undefined;
  const size = Number(h.size);
  const data = h.data;
  const n = prefixStreamBytes(want, streamLength ?? data.length, size);
  if (n === undefined) return undefined;
  if (inflater) {
    // Output as far as asked and a little more (the next lookup may need it): inflate stops there.
    const out = new Uint8Array(prefixOutputBytes(want, size));
    const r = inflater.inflateInto(data.subarray(0, n), out);
    return typeof r === "number" || r.written < want ? undefined : out.subarray(0, r.written);
  }
  zlib ??= builtinModule<Zlib>("node:zlib");
  if (!zlib) return undefined;
  let out: Uint8Array;
  try {
    out = zlib.inflateSync(data.subarray(0, n), {
      maxOutputLength: Math.max(size, 1),
      // One chunk for the output expected (the prefix's share of the section, and some).
      chunkSize: Math.min(Math.max(Math.ceil((n * size / (streamLength ?? data.length)) * 1.25), 64), size, 16 << 20),
      finishFlush: Z_SYNC_FLUSH,
    });
  } catch {
    return undefined;
  }
  if (out.length < want) return undefined;
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/**
 * How many bytes an inflater that stops at a byte count gives for a prefix
 * of at least `want` bytes of a section of `size`: as far as asked and a
 * little more (the next lookup may need it), at most the section.
 */
export function prefixOutputBytes(want: number, size: number): number {
  return Math.min(size, want + 65536 + Math.ceil(want / 16));
}

/**
 * A zlib-compressed section of `size` bytes (its header's) inflated from
 * its stream given in pieces (see {@link Inflater.inflateFrom}): with
 * `want`, its first {@link prefixOutputBytes} bytes (undefined when that is
 * the whole section, or the stream gave fewer than `want`: the caller then
 * takes the whole); without, the whole, checked as {@link decompressSection}
 * checks it (exactly `size` bytes and the stream's end there), or why not.
 * With `rewind` (which starts `next` over) and the stream's length, the
 * output grows with what the stream holds (see `growing`), not with `size`.
 */
export function inflateSectionFrom(
  next: () => Uint8Array | undefined,
  size: number,
  maxBytes: number,
  what: string,
  inflater: Required<Inflater>,
  want?: number,
  rewind?: () => void,
  streamBytes?: number,
): Uint8Array | DecompressMiss | undefined {
  if (!Number.isSafeInteger(size) || size < 0) return miss("malformed", `${what}: compressed size ${size}`);
  if (size > maxBytes) return miss("too-large", `${what}: ${size} bytes uncompressed, more than ${maxBytes}`);
  if (want !== undefined) {
    const n = prefixOutputBytes(want, size);
    if (!(want >= 0) || n >= size) return undefined;
    const out = new Uint8Array(n);
    const r = inflater.inflateFrom(next, out);
    return typeof r === "number" || r.written < want ? undefined : out.subarray(0, r.written);
  }
  if (!rewind) {
    // One byte more than the header says: a stream that inflates past it fills it.
    const out = new Uint8Array(size + 1);
    return checked(inflater.inflateFrom(next, out), out, size, what);
  }
  return growing((out) => (rewind(), inflater.inflateFrom(next, out)), size, streamBytes ?? 0, what);
}

/**
 * A one-shot inflate `attempt` run into buffers that grow with what the
 * stream proves it holds, not with what its header claims (output_size.ts:
 * an honest section's size at once, then four times larger while the
 * stream fills them), up to one byte past the header's size. A lie of a
 * gigabyte costs at most four times what the stream inflates to; an honest
 * stream of a high ratio, a third more inflating.
 */
function growing(
  attempt: (out: Uint8Array) => { written: number; ended: boolean } | number,
  size: number,
  streamBytes: number,
  what: string,
): Uint8Array | DecompressMiss {
  let cap = firstOutputBytes(streamBytes, size + 1);
  for (;;) {
    const out = new Uint8Array(cap);
    const r = attempt(out);
    if (typeof r === "number" || r.ended || r.written < cap || cap === size + 1) return checked(r, out, size, what);
    cap = grownOutputBytes(cap, 0, size + 1);
  }
}

function checked(
  r: { written: number; ended: boolean } | number,
  out: Uint8Array,
  size: number,
  what: string,
): Uint8Array | DecompressMiss {
  if (typeof r === "number") return miss("malformed", `${what}: zlib stream: zlib error ${r}`);
  if (!r.ended || r.written !== size) {
    const got = r.ended ? `${r.written}` : `${r.written} (unended)`;
    return miss("malformed", `${what}: ${got} bytes inflated, the header says ${size}`);
  }
  return out.subarray(0, size);
}

function inflate(data: Uint8Array, size: number, what: string, inflater?: Inflater): Uint8Array | DecompressMiss {
  if (inflater) return growing((out) => inflater.inflateInto(data, out), size, data.length, what);
  zlib ??= builtinModule<Zlib>("node:zlib");
  if (!zlib) return miss("unsupported-compression", `${what}: no node:zlib in this runtime`);
  let out: Uint8Array;
  try {
    // maxOutputLength makes a stream that inflates past the header's size fail early; output in
    // one chunk of the size the header says (up to 16 MiB: a lying header allocates no more)
    // spares the concatenation of 16 KiB pieces (15-40% of the inflate in Deno and Bun).
    out = zlib.inflateSync(data, {
      maxOutputLength: Math.max(size, 1),
      chunkSize: Math.min(Math.max(size, 64), 16 << 20),
    });
  } catch (e) {
    return miss("malformed", `${what}: zlib stream: ${(e as Error).message ?? e}`);
  }
  if (out.length !== size) return miss("malformed", `${what}: ${out.length} bytes inflated, the header says ${size}`);
  // Buffer -> plain Uint8Array view of the same bytes.
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

function unzstd(data: Uint8Array, size: number, what: string): Uint8Array | DecompressMiss {
  const r = zstdDecompress(data, size);
  if (r instanceof Uint8Array) return r;
  return miss(r.unsupported ? "unsupported-compression" : "malformed", `${what}: ${r.why}`);
}

function miss(reason: DecompressMiss["reason"], message: string): DecompressMiss {
  return { reason, message };
}

const SECTION_NAMES: ReadonlySet<string> = new Set<DwarfSectionName>([
  "debug_info",
  "debug_abbrev",
  "debug_str",
  "debug_line",
  "debug_line_str",
  "debug_ranges",
  "debug_rnglists",
  "debug_addr",
  "debug_str_offsets",
  "debug_aranges",
  "debug_cu_index",
]);

/**
 * The {@link DwarfSections} key an ELF section name stands for
 * (`.debug_info`, `.zdebug_info`, `.debug_info.dwo` -> `debug_info`), or
 * undefined for a section the reader does not use.
 */
export function dwarfSectionName(elfName: string): DwarfSectionName | undefined {
  let n = elfName;
  if (n.startsWith(".zdebug_")) n = n.slice(2);
  else if (n.startsWith(".debug_")) n = n.slice(1);
  else return undefined;
  if (n.endsWith(".dwo")) n = n.slice(0, -4);
  return SECTION_NAMES.has(n) ? n as DwarfSectionName : undefined;
}
