/**
 * `Symbolizer.symbolizeBuildId()`: names of addresses in a module known
 * only by its build ID, as a central symbolizer gets them from agents that
 * recorded (build ID, file offset) per frame. The module's files are looked
 * for by build ID, locally first, then on the debuginfod servers:
 * - the executable (`<dir>/.build-id/NN/REST` in a debug directory, as
 *   Fedora links it; `<cache>/<build-id>/executable`; `/executable`): its
 *   program headers turn file offsets into ELF addresses, and its own
 *   symbols (`.dynsym`, MiniDebugInfo, PLT stubs) name what no debug file
 *   names;
 * - the debug file (`<dir>/.build-id/NN/REST.debug`; the cache's
 *   `debuginfo`; `/debuginfo`): the full `.symtab`, local functions
 *   included.
 * Each file is used only when its build ID is the one asked for. The
 * answers come from the same symbolizer as `symbolizeFile()`'s: with the
 * executable at hand, exactly what `symbolizeFile()` on it gives.
 * @module
 */
import { emptyFileId, type FileId, getLibc, type Libc } from "../../ffi/mod.ts";
import { openTargetFile } from "../procfs/target_files.ts";
import type { FetchOutcome } from "../debuginfod/client.ts";
import { fdBuildId } from "../elf/file_build_id.ts";
import { fdReader } from "../elf/read_at.ts";
import { type LoadSegment, loadSegments } from "../elf/segments.ts";
import { openDebugFile } from "./debug_files.ts";
import type { ModuleContext, ModuleSymbols } from "./elf_module.ts";
import type { FileOptions } from "./types.ts";
import {
  type DebuginfodReport,
  extended,
  fetchAll,
  type FetchingSymbolizer,
  type FetchOptions,
  withReport,
} from "./fetching.ts";
import type { FileSymbolized, SymbolReason } from "./result.ts";

/** Options for {@link Symbolizer.symbolizeBuildId}. */
export interface SymbolizeBuildIdOptions extends FetchOptions {
  /**
   * What the addresses are: `"file-offset"` (offsets in the file, as
   * `resolve()` gives `fileOffset`: the executable's program headers turn
   * them into ELF addresses) or `"elf-address"` (ELF virtual addresses, as
   * `resolve()` gives `elfAddr` and symbol tables hold them).
   */
  kind: "file-offset" | "elf-address";
  /** Fill `demangled` with readable C++ and Rust names (default true). */
  demangle?: boolean;
  /** Source lines from DWARF: `symbol.frames` (default true). `false` reads no DWARF at all. */
  lines?: boolean;
  /** With `lines`, the inlined calls too: `false` gives one frame, the function's own (default true). */
  inlines?: boolean;
  /** Directories with debug files by build ID (default: the Symbolizer's). */
  debugDirs?: readonly string[];
}

/** One address of {@link Symbolizer.symbolizeBuildId}: `symbolizeFile()`'s answer, with the module's build ID. */
export interface BuildIdSymbolized extends Omit<FileSymbolized, "elfAddr"> {
  /** The build ID asked about (lowercase hex). */
  readonly buildId: string;
  /** The file offset asked about (kind `"file-offset"`), else undefined. */
  readonly fileOffset: bigint | undefined;
  /**
   * The ELF address: the one asked about, or the file offset's through the
   * executable's `PT_LOAD` headers; undefined when the offset lies in no
   * segment, or the executable could not be had (`symbolReason`
   * `"no-elf-address"`).
   */
  readonly elfAddr: bigint | undefined;
  /** What was done to get the module's files from debuginfod; undefined when nothing was asked. */
  readonly debuginfod: DebuginfodReport | undefined;
}

/** What symbolizeBuildId needs of a Symbolizer. */
export interface BuildIdSymbolizer extends FetchingSymbolizer {
  module(libc: Libc, fd: number, fileKey: string, ctx: ModuleContext, lines: boolean): ModuleSymbols;
  fileResults(
    source: { module: ModuleSymbols | undefined; reason: SymbolReason | undefined; message: string | undefined },
    elfAddrs: readonly bigint[],
    o: FileOptions,
  ): FileSymbolized[];
}

/**
 * Opens `path` when it is a regular ELF file with build ID `buildId` (O_PATH
 * and checked first, as every debug-directory candidate: a FIFO or device
 * there is never opened): a descriptor and its identity, or undefined.
 */
function openVerified(libc: Libc, path: string, buildId: string): { fd: number; id: FileId } | undefined {
  const f = openTargetFile(libc, undefined, path);
  if ("reason" in f) return undefined;
  if (fdBuildId(libc, f.fd) === buildId) return f;
  libc.close(f.fd);
  return undefined;
}

/** The executable with this build ID in the debug directories or the cache, opened and checked. */
function localExecutable(libc: Libc, buildId: string, debugDirs: readonly string[], cache: string | undefined) {
  const paths = debugDirs.map((d) => `${d}/.build-id/${buildId.slice(0, 2)}/${buildId.slice(2)}`);
  if (cache !== undefined) paths.push(`${cache}/${buildId}/executable`);
  for (const path of paths) {
    const f = openVerified(libc, path, buildId);
    if (f) return { ...f, path };
  }
  return undefined;
}

/** The debug file with this build ID in the debug directories or the cache, opened and checked. */
function localDebugFile(libc: Libc, buildId: string, debugDirs: readonly string[], cache: string | undefined) {
  const { file } = openDebugFile(libc, {
    buildId,
    link: undefined,
    path: undefined,
    procDir: undefined,
    debugDirs,
    debuginfodCache: cache,
  });
  if (!file) return undefined;
  const id = emptyFileId();
  if (libc.fstat(file.fd, id) !== 0) {
    libc.close(file.fd);
    return undefined;
  }
  return { fd: file.fd, id, path: file.path };
}

/** The ELF address of a file offset: through the `PT_LOAD` whose file bytes hold it. */
function elfAddrOfOffset(segments: readonly LoadSegment[], offset: bigint): bigint | undefined {
  for (const s of segments) {
    if (offset >= s.offset && offset - s.offset < s.fileSize) return s.vaddr + (offset - s.offset);
  }
  return undefined;
}

/** One report for the outcomes of a build ID's files: the best status, every message. */
function mergedReport(outcomes: FetchOutcome[]): DebuginfodReport | undefined {
  if (outcomes.length === 0) return undefined;
  const rank = ["downloaded", "cached", "failed", "not-found"] as const;
  const status = rank.find((r) => outcomes.some((o) => o.status === r))!;
  return { status, message: outcomes.map((o) => o.message).join("; ") };
}

/** Symbolizes addresses of the module with build ID `buildId` (checked, lowercase); see Symbolizer.symbolizeBuildId. */
export async function symbolizeByBuildId(
  s: BuildIdSymbolizer,
  buildId: string,
  addrs: readonly bigint[],
  o: FileOptions & { kind: "file-offset" | "elf-address" },
  fetch: FetchOptions,
): Promise<BuildIdSymbolized[]> {
  const libc = getLibc();
  const config = s.debuginfodConfig();
  const cache = config?.cachePath;
  const servers = (config?.urls.length ?? 0) > 0;
  const outcomes: FetchOutcome[] = [];
  const fetchOne = async (kind: "debuginfo" | "executable") => {
    const got = (await fetchAll(s, [buildId], kind, fetch)).get(buildId);
    if (got) outcomes.push(got.status === "not-found" ? { ...got, message: `${kind}: ${got.message}` } : got);
    return got?.status === "downloaded" || got?.status === "cached";
  };
  const hasExecutable = () => {
    const f = localExecutable(libc, buildId, o.debugDirs, cache);
    if (f) libc.close(f.fd);
    return f !== undefined;
  };
  const hasDebugFile = () => {
    const f = localDebugFile(libc, buildId, o.debugDirs, cache);
    if (f) libc.close(f.fd);
    return f !== undefined;
  };
  fetch.signal?.throwIfAborted();
  if (servers) {
    const exe = hasExecutable(), debug = hasDebugFile();
    // The debug file for names; the executable for program headers (file offsets), fetched alongside.
    const [gotDebug, gotExe] = await Promise.all([
      debug ? true : fetchOne("debuginfo"),
      exe || o.kind !== "file-offset" ? exe : fetchOne("executable"),
    ]);
    // No debug file anywhere: the executable's own symbols are all there is.
    if (!gotDebug && !gotExe && o.kind === "elf-address") await fetchOne("executable");
  }
  const report = mergedReport(outcomes);
  const exe = localExecutable(libc, buildId, o.debugDirs, cache);
  const file = exe ?? localDebugFile(libc, buildId, o.debugDirs, cache);
  let module: ModuleSymbols | undefined;
  let segments: LoadSegment[] | null = null;
  if (file) {
    try {
      module = s.module(libc, file.fd, `${file.id.devMajor}:${file.id.devMinor}:${file.id.inode}`, {
        buildId,
        path: undefined,
        procDir: undefined,
        debugDirs: o.debugDirs,
        isDebugFile: exe === undefined,
      }, o.lines);
      if (exe) segments = loadSegments(fdReader(libc, exe.fd).read);
    } finally {
      libc.close(file.fd);
    }
  }
  const where = servers ? "the debug directories, the debuginfod cache or the servers" : "the debug directories" +
    (cache !== undefined
      ? " or the debuginfod cache (no debuginfod server is configured)"
      : " (debuginfod is not configured)");
  const unknown = {
    module: undefined,
    reason: "build-id-unknown" as const,
    message: `no file with build ID ${buildId} was found in ${where}`,
  };
  const source = module ? { module, reason: undefined, message: undefined } : unknown;
  // File offsets through the executable's program headers.
  const elfAddrs = addrs.map((
    a,
  ) => (o.kind === "elf-address" ? a : segments ? elfAddrOfOffset(segments, a) : undefined));
  const answers = s.fileResults(source, elfAddrs.filter((a) => a !== undefined), o);
  let next = 0;
  const noAddress = !module ? unknown : {
    module: undefined,
    reason: "no-elf-address" as const,
    message: exe
      ? "the file offset lies in none of the executable's PT_LOAD segments"
      : `file offsets need the executable's program headers, and no executable with build ID ${buildId} was found in ${where}`,
  };
  const [missing] = s.fileResults(noAddress, [0n], o);
  return addrs.map((a, i) => {
    const elfAddr = elfAddrs[i];
    const r = elfAddr === undefined ? missing : answers[next++];
    return withReport(
      extended(r, { buildId, fileOffset: o.kind === "file-offset" ? a : undefined, elfAddr }),
      report,
    );
  });
}
