/**
 * Naming one batch of samples: every distinct address of a process looked
 * up in one `symbolize()` call through its handle, every distinct kernel
 * address in one `symbolizeKernel()` call, and each answer turned into an
 * interned pprof location. A process that is gone by the time its batch is
 * named falls back to the mappings earlier batches found for it (their
 * files read by path, outside the process), or keeps bare addresses.
 * @module
 */
import type { Symbolized } from "../symbolize/result.ts";
import type { SymbolFrame, SymbolInfo } from "../symbolize/types.ts";
import type { SymbolizeOptions } from "../symbolize/symbolize.ts";
import type { Symbolizer } from "../symbolize/symbolizer.ts";
import type { ProcessHandles } from "./handles.ts";
import type { LineSpec, MappingRecord, ProfileStore } from "./store.ts";
import type { ProfileLocation } from "./types.ts";

/** A sample waiting to be named. */
export interface PendingSample {
  pid: number;
  tid: number | undefined;
  stack: bigint[];
  kernelFrames: number;
  values: number[];
  labels: Readonly<Record<string, string | number>> | undefined;
}

/** What naming needs from the builder. */
export interface NamingContext {
  store: ProfileStore;
  symbolizer: Symbolizer;
  handles: ProcessHandles;
  symbolizeOptions: SymbolizeOptions;
  demangle: boolean;
  debugDirs: readonly string[] | undefined;
  returnAddresses: boolean;
  /** Reports something the user should know, once per distinct message. */
  warn(message: string): void;
}

/** Counts of one batch. */
export interface BatchCounts {
  userAddresses: number;
  kernelAddresses: number;
  unnamed: number;
}

const U64_MAX = (1n << 64n) - 1n;

/**
 * The key of one frame: its address, and whether it is looked up as a return
 * address (at address - 1). Frame 0 of each part (kernel, user) is the
 * interrupted instruction itself.
 */
function frameKey(addr: bigint, ret: boolean): bigint {
  return (addr << 1n) | (ret ? 1n : 0n);
}

/** The lines of a symbol: its DWARF frames when it has them (innermost first), else the symbol itself. */
export function lineSpecs(symbol: SymbolInfo): { specs: LineSpec[]; inline: boolean } {
  const frames: readonly SymbolFrame[] | undefined = symbol.frames;
  if (frames && frames.length > 0) {
    return {
      specs: frames.map((f) => ({
        name: f.demangled,
        systemName: f.name,
        file: f.file ?? "",
        line: f.line,
        column: f.column,
      })),
      inline: true,
    };
  }
  return { specs: [{ name: symbol.demangled, systemName: symbol.name, file: "", line: 0, column: 0 }], inline: false };
}

/** Names every frame of `samples`; returns their locations, innermost first, sample by sample. */
export function nameBatch(ctx: NamingContext, samples: readonly PendingSample[]): {
  stacks: ProfileLocation[][];
  counts: BatchCounts;
} {
  const counts: BatchCounts = { userAddresses: 0, kernelAddresses: 0, unnamed: 0 };
  const kernelKeys = new Map<bigint, ProfileLocation | undefined>();
  const byPid = new Map<number, Map<bigint, ProfileLocation | undefined>>();
  for (const s of samples) {
    let user = byPid.get(s.pid);
    if (!user) byPid.set(s.pid, user = new Map());
    for (let i = 0; i < s.stack.length; i++) {
      const kernel = i < s.kernelFrames;
      const ret = ctx.returnAddresses && i !== 0 && i !== s.kernelFrames;
      (kernel ? kernelKeys : user).set(frameKey(s.stack[i], ret), undefined);
    }
  }
  nameKernel(ctx, kernelKeys, counts);
  for (const [pid, keys] of byPid) nameProcess(ctx, pid, keys, counts);
  const stacks = samples.map((s) => {
    const user = byPid.get(s.pid)!;
    const out = new Array<ProfileLocation>(s.stack.length);
    for (let i = 0; i < s.stack.length; i++) {
      const kernel = i < s.kernelFrames;
      const ret = ctx.returnAddresses && i !== 0 && i !== s.kernelFrames;
      out[i] = (kernel ? kernelKeys : user).get(frameKey(s.stack[i], ret))!;
    }
    return out;
  });
  return { stacks, counts };
}

/** The address to look a frame up at. */
function lookupOf(key: bigint): bigint {
  const addr = key >> 1n;
  return (key & 1n) === 1n && addr > 0n ? addr - 1n : addr;
}

function nameKernel(ctx: NamingContext, keys: Map<bigint, ProfileLocation | undefined>, counts: BatchCounts): void {
  if (keys.size === 0) return;
  const list = [...keys.keys()];
  counts.kernelAddresses += list.length;
  const results = ctx.symbolizer.symbolizeKernel(list.map(lookupOf));
  let hidden: string | undefined;
  for (let i = 0; i < list.length; i++) {
    const r = results[i];
    const addr = list[i] >> 1n;
    const module = r.module;
    const filename = module === undefined ? "[kernel.kallsyms]" : `[${module}]`;
    const start = addr & ~0xfffn;
    const mapping = ctx.store.mapping(`kernel:${filename}`, () => ({
      pid: undefined,
      kind: "kernel",
      memoryStart: start,
      memoryLimit: start + 0x1000n > U64_MAX ? U64_MAX : start + 0x1000n,
      fileOffset: 0n,
      filename,
      buildId: "",
    }));
    let specs: LineSpec[] = [];
    let inline = false;
    if (r.symbol) ({ specs, inline } = lineSpecs(r.symbol));
    else {
      counts.unnamed++;
      if (r.symbolReason === "kernel-hidden") hidden = r.symbolMessage;
    }
    keys.set(list[i], ctx.store.location(0, mapping, addr, specs, inline, true));
  }
  if (hidden) ctx.warn(`kernel frames keep their addresses: ${hidden}`);
}

/** The pprof mapping of one symbolize() result. */
function mappingOf(ctx: NamingContext, pid: number, r: Symbolized, lookup: bigint): MappingRecord {
  const v = r.vma;
  const filename = r.name !== "" ? r.name : r.kind === "jit" ? "[jit]" : "[anon]";
  const fileBacked = r.kind === "file" || r.kind === "deleted" || r.kind === "memory-file";
  const bias = r.elfAddr !== undefined ? r.elfAddr - lookup : undefined;
  return ctx.store.mapping(`${pid}:${v.start}:${v.end}:${v.offset}:${filename}`, () => ({
    pid,
    kind: r.kind,
    memoryStart: v.start,
    memoryLimit: v.end,
    fileOffset: fileBacked ? v.offset : 0n,
    filename,
    buildId: r.buildId ?? "",
  }), bias);
}

function nameProcess(
  ctx: NamingContext,
  pid: number,
  keys: Map<bigint, ProfileLocation | undefined>,
  counts: BatchCounts,
): void {
  const list = [...keys.keys()];
  counts.userAddresses += list.length;
  const lookups = list.map(lookupOf);
  const results = ctx.handles.with(pid, (maps) => {
    // Each batch asks the kernel afresh: nothing of the map is kept between batches.
    maps.refresh();
    return maps.symbolize(lookups, ctx.symbolizeOptions);
  });
  if (!results) {
    fallback(ctx, pid, list, lookups, keys, counts);
    return;
  }
  for (let i = 0; i < list.length; i++) {
    const r = results[i];
    const addr = list[i] >> 1n;
    if (!r) {
      counts.unnamed++;
      keys.set(list[i], ctx.store.location(pid, undefined, addr, [], false, false));
      continue;
    }
    const mapping = mappingOf(ctx, pid, r, lookups[i]);
    let specs: LineSpec[] = [];
    let inline = false;
    if (r.symbol) ({ specs, inline } = lineSpecs(r.symbol));
    else counts.unnamed++;
    keys.set(list[i], ctx.store.location(pid, mapping, addr, specs, inline, false));
  }
}

/**
 * Names the addresses of a process that cannot be read any more through the
 * file mappings earlier batches found in it, by path; the rest keep their
 * address.
 */
function fallback(
  ctx: NamingContext,
  pid: number,
  list: bigint[],
  lookups: bigint[],
  keys: Map<bigint, ProfileLocation | undefined>,
  counts: BatchCounts,
): void {
  const gone = ctx.handles.gone(pid);
  const known = ctx.store.mappings.filter((m) => m.pid === pid);
  const byMapping = new Map<MappingRecord, number[]>();
  let unknown = 0;
  for (let i = 0; i < list.length; i++) {
    const a = lookups[i];
    const m = known.find((k) => a >= k.memoryStart && a < k.memoryLimit);
    if (m) {
      let idx = byMapping.get(m);
      if (!idx) byMapping.set(m, idx = []);
      idx.push(i);
    } else {
      unknown++;
      counts.unnamed++;
      keys.set(list[i], ctx.store.location(pid, undefined, list[i] >> 1n, [], false, false));
    }
  }
  for (const [m, idx] of byMapping) {
    const canRead = m.bias !== undefined && m.kind === "file";
    const named = canRead
      ? ctx.symbolizer.symbolizeFile(
        m.filename,
        idx.map((i) => lookups[i] + m.bias!),
        {
          demangle: ctx.demangle,
          lines: ctx.symbolizeOptions.lines,
          inlines: ctx.symbolizeOptions.inlines,
          ...(ctx.debugDirs ? { debugDirs: ctx.debugDirs } : {}),
        },
      )
      : undefined;
    idx.forEach((i, j) => {
      const symbol = named?.[j].symbol;
      const { specs, inline } = symbol ? lineSpecs(symbol) : { specs: [], inline: false };
      if (!symbol) counts.unnamed++;
      keys.set(list[i], ctx.store.location(pid, m, list[i] >> 1n, specs, inline, false));
    });
  }
  const why = gone ? `${gone.code}: ${gone.message}` : "it cannot be read";
  ctx.warn(
    `process ${pid} could not be read when its samples were named (${why}); ` +
      `addresses in files it had mapped were named from those files by path` +
      (unknown > 0 ? `, others keep their addresses` : ""),
  );
}
