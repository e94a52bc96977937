/**
 * zstd for compressed debug sections, with the npm package `fzstd` (loaded
 * the first time a zstd section is met), bounded for attacker input: the
 * frames' headers are checked first (no window or content size past the
 * size the section header promises, so the decoder allocates no more), and
 * the output is counted as it streams, so a stream longer or shorter than
 * promised is refused rather than cut or padded.
 * @module
 */
import { type PackageFailure, packageFailure, requirePackage } from "../util/packages.ts";
import { firstOutputBytes, grownOutputBytes } from "./output_size.ts";

interface Fzstd {
  Decompress: new (ondata: (chunk: Uint8Array, final: boolean) => void) => {
    push(chunk: Uint8Array, final?: boolean): void;
  };
}

let fzstd: Fzstd | undefined;
/** Why fzstd could not be loaded; a transient failure (EMFILE, ...) is tried again on the next call. */
let failure: PackageFailure | undefined;

function load(): Fzstd | undefined {
  if (fzstd || (failure && !failure.transient)) return fzstd;
  try {
    // A synchronous load that Deno, Bun and Node all resolve from node_modules (util/packages.ts).
    fzstd = requirePackage("fzstd") as Fzstd;
    failure = undefined;
  } catch (e) {
    failure = packageFailure("the zstd decoder (npm fzstd)", e);
  }
  return fzstd;
}

const FRAME_MAGIC = 0xfd2fb528;
/** Window sizes the decoder may allocate however small the output: zstd's minimum window is 1 KiB. */
const MIN_WINDOW_LIMIT = 1 << 20;

/**
 * Why the frames of `data` cannot make `size` bytes (a window or content
 * size past it, a reserved block, a frame cut short), or undefined.
 */
function checkFrames(data: Uint8Array, size: number): string | undefined {
  const v = new DataView(data.buffer, data.byteOffset, data.length);
  // Compressors round the window up to a power of two (plus eighths) above the content size.
  const windowLimit = Math.max(2 * size, MIN_WINDOW_LIMIT);
  let p = 0;
  while (p < data.length) {
    if (p + 8 > data.length) return `frame at ${p} cut short`;
    const magic = v.getUint32(p, true);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      // A skippable frame: magic, u32 size, data.
      p += 8 + v.getUint32(p + 4, true);
      continue;
    }
    if (magic !== FRAME_MAGIC) return `no zstd frame at ${p}`;
    const fhd = data[p + 4];
    const single = (fhd & 0x20) !== 0;
    const fcsField = [single ? 1 : 0, 2, 4, 8][fhd >> 6];
    let q = p + 5;
    if (!single) {
      const wd = data[q++];
      const base = 2 ** (10 + (wd >> 3));
      if (base + (base / 8) * (wd & 7) > windowLimit) return `window past ${windowLimit} bytes`;
    }
    q += [0, 1, 2, 4][fhd & 3]; // dictionary id
    if (q + fcsField > data.length) return `frame header at ${p} cut short`;
    let fcs = -1;
    if (fcsField === 1) fcs = data[q];
    else if (fcsField === 2) fcs = v.getUint16(q, true) + 256;
    else if (fcsField === 4) fcs = v.getUint32(q, true);
    else if (fcsField === 8) fcs = v.getUint32(q + 4, true) * 2 ** 32 + v.getUint32(q, true);
    if (fcs > size) return `frame content size ${fcs} past ${size}`;
    q += fcsField;
    for (;;) {
      if (q + 3 > data.length) return `block at ${q} cut short`;
      const h = data[q] | (data[q + 1] << 8) | (data[q + 2] << 16);
      const type = (h >> 1) & 3;
      if (type === 3) return `reserved block type at ${q}`;
      q += 3 + (type === 1 ? 1 : h >>> 3);
      if (h & 1) break;
    }
    if (fhd & 4) q += 4; // content checksum
    if (q > data.length) return `frame at ${p} cut short`;
    p = q;
  }
  return undefined;
}

/** Decodes `data` (zstd frames) into exactly `size` bytes, or says why not. */
export function zstdDecompress(data: Uint8Array, size: number): Uint8Array | { why: string; unsupported?: true } {
  const z = load();
  if (!z) return { why: failure!.message, unsupported: true };
  const bad = checkFrames(data, size);
  if (bad) return { why: bad };
  // Grown with what the stream gives, not allocated at the size its header claims (which may lie).
  let out = new Uint8Array(firstOutputBytes(data.length, size));
  let n = 0;
  const TOO_LONG = new Error("more bytes than the header says");
  try {
    const d = new z.Decompress((chunk) => {
      if (n + chunk.length > size) throw TOO_LONG;
      if (n + chunk.length > out.length) {
        const grown = new Uint8Array(grownOutputBytes(out.length, n + chunk.length, size));
        grown.set(out.subarray(0, n));
        out = grown;
      }
      out.set(chunk, n);
      n += chunk.length;
    });
    d.push(data, true);
  } catch (e) {
    return { why: e === TOO_LONG ? TOO_LONG.message : `zstd stream: ${(e as Error).message ?? e}` };
  }
  if (n !== size) return { why: `${n} bytes from zstd, the header says ${size}` };
  return out;
}
