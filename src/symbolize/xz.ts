/**
 * xz decompression for MiniDebugInfo (`.gnu_debugdata`: the xz-compressed
 * symbol table Fedora and RHEL put into stripped binaries), with the
 * WebAssembly build of xz-embedded in the npm package `xz-decompress`
 * (found by util/packages.ts: from procmap's own node_modules, also for a
 * Deno script outside procmap's project).
 *
 * The package only offers an asynchronous `ReadableStream`; its wasm (about
 * 12 KB, embedded in the package's script as a base64 data URL) has a small
 * synchronous interface, which this module drives directly: the wasm is
 * read from the package through the Libc interface, compiled and
 * instantiated synchronously on first use.
 *
 * Bounded: at most `maxBytes` of output (more gives null), the dictionary
 * at most 64 MiB (the package's limit; a stream asking for more gives null),
 * every call makes progress or the stream is rejected, so no input hangs.
 * @module
 */
import { getLibc } from "../../ffi/mod.ts";
import { errnoName } from "../errors.ts";
import { readWhole } from "../procfs/read.ts";
import { type PackageFailure, packageFailure, resolvePackageFile } from "../util/packages.ts";

interface XzExports {
  memory: { buffer: ArrayBuffer };
  /** A decoder context: u32 fields bufsize, in, in_pos, in_size, out, out_pos, out_size, then the buffers. */
  create_context(): number;
  destroy_context(ctx: number): void;
  /** Sets in_pos = 0, in_size = n (the caller has written n bytes at `in`). */
  supply_input(ctx: number, n: number): void;
  /** xz_dec_run on the context's buffers: an xz_ret. */
  get_next_output(ctx: number): number;
}

const XZ_OK = 0;
const XZ_STREAM_END = 1;
/** Integrity check of a kind not built in: decoding goes on without it. */
const XZ_UNSUPPORTED_CHECK = 2;
/** An instance whose memory grew past this is dropped after use (wasm memory never shrinks). */
const KEEP_MEMORY_MAX = 16 << 20;
const MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];

const WHAT = "the MiniDebugInfo decoder (npm xz-decompress)";

let module: WebAssembly.Module | undefined;
let instance: XzExports | undefined;
/** Why the decoder could not be loaded; a transient failure is tried again on the next call. */
let failure: PackageFailure | undefined;

function load(): XzExports | undefined {
  if (instance) return instance;
  if (failure && !failure.transient) return undefined;
  try {
    if (!module) module = compile();
    instance = new WebAssembly.Instance(module, {}).exports as unknown as XzExports;
    failure = undefined;
    return instance;
  } catch (e) {
    // A package that cannot be found or compiled stays so for this process; EMFILE and the like do not.
    failure = packageFailure(WHAT, e);
    return undefined;
  }
}

/** The package's wasm, embedded in its script as a base64 data URL. */
function compile(): WebAssembly.Module {
  const path = resolvePackageFile("xz-decompress");
  const libc = getLibc();
  const fd = libc.openRead(path);
  if (fd < 0) throw errnoError(-fd, `cannot open ${path}`);
  let file;
  try {
    file = readWhole(libc, fd);
  } finally {
    libc.close(fd);
  }
  if (typeof file === "number") throw errnoError(-file, `cannot read ${path}`);
  const text = new TextDecoder().decode(file.bytes.subarray(0, file.length));
  const prefix = '"data:application/wasm;base64,';
  const at = text.indexOf(prefix);
  const end = at < 0 ? -1 : text.indexOf('"', at + prefix.length);
  if (end < 0) throw new Error(`no embedded wasm in ${path}`);
  const bin = atob(text.slice(at + prefix.length, end));
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new WebAssembly.Module(bytes);
}

/** An Error with `code` set to the errno's name, as Node.js's fs errors have. */
function errnoError(errno: number, what: string): Error {
  const name = errnoName(errno);
  return Object.assign(new Error(`${what}: ${name}`), { code: name });
}

/**
 * Why xz decompression is unavailable (the package and the error), or
 * undefined while it works or was not needed yet.
 */
export function xzUnavailable(): string | undefined {
  return failure?.message;
}

/** Whether the last failure to load the decoder may pass (EMFILE, ENOMEM, ...): a result that lacks it must not be kept. */
export function xzUnavailableTransient(): boolean {
  return failure?.transient === true;
}

/**
 * Decompresses a whole .xz file (one or more concatenated streams, stream
 * padding allowed). Returns null when the input is not valid xz (corrupt,
 * truncated, trailing garbage, an unsupported filter, a SHA-256 integrity
 * check (CRC32, CRC64 and none are supported) or a dictionary over 64 MiB), when the output would exceed `maxBytes`, or when the decoder
 * cannot be loaded ({@link xzUnavailable} says why).
 */
export function xzDecompress(data: Uint8Array, maxBytes: number): Uint8Array | null {
  if (!(data instanceof Uint8Array)) throw new TypeError("xzDecompress: data must be a Uint8Array");
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
    throw new RangeError(`xzDecompress: maxBytes must be a non-negative safe integer, got ${maxBytes}`);
  }
  if (!hasMagic(data, 0)) return null;
  const x = load();
  if (!x) return null;
  const chunks: Uint8Array[] = [];
  try {
    if (!decode(x, data, maxBytes, chunks)) return null;
  } catch {
    // A trap inside the decoder: its heap may be damaged, start afresh next time.
    instance = undefined;
    return null;
  } finally {
    if (instance && instance.memory.buffer.byteLength > KEEP_MEMORY_MAX) instance = undefined;
  }
  let total = 0;
  for (const c of chunks) total += c.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function hasMagic(data: Uint8Array, at: number): boolean {
  if (data.length - at < MAGIC.length) return false;
  for (let i = 0; i < MAGIC.length; i++) if (data[at + i] !== MAGIC[i]) return false;
  return true;
}

/**
 * Runs the decoder over all of `data`, appending its output to `chunks`;
 * false when the input is invalid or the output exceeds `budget` bytes. The
 * package builds xz-embedded with concatenated-stream support: an empty
 * input supply marks the end, after which it checks padding and trailing
 * bytes itself.
 */
function decode(x: XzExports, data: Uint8Array, budget: number, chunks: Uint8Array[]): boolean {
  const ctx = x.create_context();
  if (ctx === 0) return false;
  try {
    let f = new Uint32Array(x.memory.buffer, ctx, 7);
    const bufSize = f[0];
    const inOff = f[1];
    const outOff = f[4];
    let fed = 0; // input handed to the decoder so far
    let produced = 0;
    let stalls = 0;
    let ended = false;
    for (;;) {
      f = new Uint32Array(x.memory.buffer, ctx, 7);
      if (f[2] === f[3] && !ended) {
        // An empty supply tells the decoder the input has ended.
        const n = Math.min(bufSize, data.length - fed);
        new Uint8Array(x.memory.buffer, inOff, n).set(data.subarray(fed, fed + n));
        x.supply_input(ctx, n);
        fed += n;
        ended = n === 0;
      }
      f = new Uint32Array(x.memory.buffer, ctx, 7);
      const inBefore = f[2];
      const ret = x.get_next_output(ctx);
      f = new Uint32Array(x.memory.buffer, ctx, 7);
      const outN = f[5];
      if (outN > 0) {
        produced += outN;
        if (produced > budget) return false;
        chunks.push(new Uint8Array(x.memory.buffer, outOff, outN).slice());
        f[5] = 0;
      }
      if (ret === XZ_STREAM_END) return true;
      if (ret !== XZ_OK && ret !== XZ_UNSUPPORTED_CHECK) return false;
      // xz-embedded reports XZ_BUF_ERROR after two calls without progress;
      // this guard does not rely on it.
      if (outN === 0 && f[2] === inBefore && ended) {
        if (++stalls > 2) return false;
      } else stalls = 0;
    }
  } finally {
    x.destroy_context(ctx);
  }
}
