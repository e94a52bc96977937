/**
 * The interned entities of a profile: each mapping, function and location
 * once, with pprof's 1-based ids, and the `has_*` flags of each mapping
 * worked out from the locations in it.
 * @module
 */
import type { ProfileFunction, ProfileLine, ProfileLocation, ProfileMapping } from "./types.ts";

/** A mapping as the store keeps it: the public fields and what its locations told. */
export interface MappingRecord extends ProfileMapping {
  memoryStart: bigint;
  memoryLimit: bigint;
  /** ELF address minus address, for the dead-process fallback; undefined when unknown. */
  bias: bigint | undefined;
  /** Locations in it. */
  locations: number;
  /** ... with at least one line. */
  named: number;
  /** Lines of its locations, and of those how many have a file and a line number. */
  lines: number;
  withFile: number;
  withLine: number;
  /** Locations whose lines had inline frames expanded. */
  inlined: number;
}

/** A line before interning: the function's names and file, and the position. */
export interface LineSpec {
  name: string;
  systemName: string;
  file: string;
  line: number;
  column: number;
}

/** pprof's truthful `has_*` flags of a mapping: each says "every location in it has this". */
export interface MappingFlags {
  /** Every location in the mapping has a function. */
  hasFunctions: boolean;
  /** ... and every line of them a source file. */
  hasFilenames: boolean;
  /** ... and every line a line number. */
  hasLineNumbers: boolean;
  /** Every location had its inline frames expanded (DWARF). */
  hasInlineFrames: boolean;
}

/** The flags of `m`: true only where every one of its locations (and lines) has the thing. */
export function mappingFlags(m: MappingRecord): MappingFlags {
  const hasFunctions = m.locations > 0 && m.named === m.locations;
  return {
    hasFunctions,
    hasFilenames: hasFunctions && m.withFile === m.lines,
    hasLineNumbers: hasFunctions && m.withLine === m.lines,
    hasInlineFrames: hasFunctions && m.inlined === m.locations,
  };
}

/** Mappings, functions and locations, each interned by what identifies it. */
export class ProfileStore {
  readonly mappings: MappingRecord[] = [];
  readonly functions: ProfileFunction[] = [];
  readonly locations: ProfileLocation[] = [];
  readonly #mappingIds = new Map<string, MappingRecord>();
  readonly #functionIds = new Map<string, ProfileFunction>();
  readonly #locationIds = new Map<string, ProfileLocation>();

  /**
   * The mapping under `key`, made by `make` the first time (its id and
   * counters filled in here); kernel mappings widen to cover `[start, limit)`.
   */
  mapping(key: string, make: () => Omit<ProfileMapping, "id">, bias?: bigint): MappingRecord {
    let m = this.#mappingIds.get(key);
    if (!m) {
      m = {
        ...make(),
        id: this.mappings.length + 1,
        bias,
        locations: 0,
        named: 0,
        lines: 0,
        withFile: 0,
        withLine: 0,
        inlined: 0,
      };
      this.mappings.push(m);
      this.#mappingIds.set(key, m);
    } else if (m.bias === undefined && bias !== undefined) m.bias = bias;
    return m;
  }

  /** The function with these names and file. */
  function(name: string, systemName: string, filename: string, startLine = 0): ProfileFunction {
    const key = `${name}\0${systemName}\0${filename}\0${startLine}`;
    let f = this.#functionIds.get(key);
    if (!f) {
      f = { id: this.functions.length + 1, name, systemName, filename, startLine };
      this.functions.push(f);
      this.#functionIds.set(key, f);
    }
    return f;
  }

  /**
   * The location of `address` in `mapping` (or in process `pid` when
   * unmapped) with these lines: one per distinct address and naming, so an
   * address whose code changed between batches (JIT) gets a second one.
   */
  location(
    pid: number,
    mapping: MappingRecord | undefined,
    address: bigint,
    specs: readonly LineSpec[],
    inlineFrames: boolean,
    kernel: boolean,
  ): ProfileLocation {
    let key = `${mapping ? `m${mapping.id}` : `p${pid}`}:${address.toString(16)}:${inlineFrames ? 1 : 0}`;
    for (const s of specs) key += `\0${s.name}\0${s.systemName}\0${s.file}\0${s.line}\0${s.column}`;
    let loc = this.#locationIds.get(key);
    if (loc) return loc;
    const lines: ProfileLine[] = specs.map((s) => ({
      function: this.function(s.name, s.systemName, s.file),
      line: s.line,
      column: s.column,
    }));
    loc = { id: this.locations.length + 1, mapping, address, lines, inlineFrames, kernel };
    this.locations.push(loc);
    this.#locationIds.set(key, loc);
    if (mapping) {
      mapping.locations++;
      if (lines.length > 0) mapping.named++;
      if (inlineFrames) mapping.inlined++;
      mapping.lines += lines.length;
      for (const l of lines) {
        if (l.function.filename !== "") mapping.withFile++;
        if (l.line > 0) mapping.withLine++;
      }
      if (kernel) {
        // The kernel's mappings span the addresses seen in them, page by page.
        const start = address & ~0xfffn;
        if (start < mapping.memoryStart) mapping.memoryStart = start;
        if (start + 0x1000n > mapping.memoryLimit) mapping.memoryLimit = start + 0x1000n;
      }
    }
    return loc;
  }
}
