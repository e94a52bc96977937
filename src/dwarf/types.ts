/**
 * The shapes of the DWARF reader's interface: the sections it reads, the
 * frames it answers and the reasons it gives when it cannot.
 * @module
 */

/**
 * The DWARF sections of one file, already decompressed (see
 * {@link decompressSection}), keyed by their ELF names without the dot
 * (`.debug_info` and `.debug_info.dwo` are both `debug_info`). A missing
 * section is `undefined`. Each property is read at most once, when first
 * needed: define it as a getter to read or decompress a section lazily
 * (a getter may return `undefined` when the section cannot be had).
 */
export interface DwarfSections {
  readonly debug_info?: Uint8Array;
  readonly debug_abbrev?: Uint8Array;
  readonly debug_str?: Uint8Array;
  readonly debug_line?: Uint8Array;
  readonly debug_line_str?: Uint8Array;
  readonly debug_ranges?: Uint8Array;
  readonly debug_rnglists?: Uint8Array;
  readonly debug_addr?: Uint8Array;
  readonly debug_str_offsets?: Uint8Array;
  readonly debug_aranges?: Uint8Array;
  /** A split-DWARF package's (`.dwp`) unit index. */
  readonly debug_cu_index?: Uint8Array;
  /** Byte order of the file (ELF `EI_DATA`); default true. */
  readonly littleEndian?: boolean;
  /**
   * Optional: the first bytes of a section, at least `want` of them (the
   * whole section when it is shorter, or when a prefix cannot be had), or
   * undefined when it is absent. For a compressed section this inflates only
   * the start of its stream; a later call may give a longer prefix. The
   * reader asks `.debug_info` and `.debug_line` this way (units and line
   * programs are found from their offsets, `.debug_aranges` naming the
   * units), and takes the whole section from the property when a prefix is
   * shorter than it asked.
   */
  readonly prefix?: (name: DwarfSectionName, want: number) => Uint8Array | undefined;
}

/** The name of a {@link DwarfSections} property. */
export type DwarfSectionName = Exclude<keyof DwarfSections, "littleEndian" | "prefix">;

/** One frame of an address's inline chain, as `addr2line -f -i` prints it. */
export interface DwarfFrame {
  /**
   * The function: its linkage (mangled) name where DWARF has one, else
   * `DW_AT_name` (through `DW_AT_abstract_origin` / `DW_AT_specification`);
   * `""` when DWARF names none (a line row outside any known function).
   */
  readonly name: string;
  /**
   * The source file as binutils' addr2line prints it: `DW_AT_comp_dir`,
   * the line table's directory and the file name joined (an absolute part
   * restarts the path); `""` when unknown.
   */
  readonly file: string;
  /** Line, 0 when unknown. */
  readonly line: number;
  /** Column, 0 when unknown (or the left edge). */
  readonly column: number;
  /**
   * The discriminator of this frame's location, 0 when it has none: for
   * the first frame, its line-table row's (`DW_LNE_set_discriminator`, which
   * gcc gives the blocks of one line, loops mostly); for a later frame, the
   * call site's `DW_AT_GNU_discriminator` (as llvm-symbolizer reads it;
   * clang writes it with `-fdebug-info-for-profiling`, gcc does not).
   */
  readonly discriminator: number;
  /** True for every frame but the last (the function the code belongs to). */
  readonly inlined: boolean;
}

/**
 * Makes one frame of {@link DwarfInfo.findFrames}' answer from its fields
 * (as {@link DwarfFrame} names them), for a caller with frames of its own shape.
 */
export type FrameMaker<T> = (
  name: string,
  file: string,
  line: number,
  column: number,
  inlined: boolean,
  discriminator: number,
) => T;

/**
 * The frames of a {@link DwarfInfo.lookup} as columns (its first `count`
 * rows, innermost first; every frame but the last inlined), overwritten by
 * the next lookup.
 */
export interface FrameColumns {
  readonly name: string[];
  readonly file: string[];
  readonly line: number[];
  readonly column: number[];
  readonly discriminator: number[];
}

/**
 * Why {@link DwarfInfo.findFrames} has no frame for an address
 * (`message` says it in words):
 * - `"no-dwarf"`: the file has no `.debug_info` (or no unit in it);
 * - `"not-covered"`: no unit, function or line row covers the address;
 * - `"malformed"`: the DWARF covering the address is broken (a lying
 *   length, a bad form, a reference out of bounds): `message` says where;
 * - `"too-large"`: a unit's tables would exceed `maxBytes` or the reader's
 *   bounds (rows, depth);
 * - `"split-missing"`: the address is in a skeleton unit whose `.dwo` /
 *   `.dwp` could not be loaded, and the skeleton has no line for it;
 * - `"wide-address"`: the address is neither below 2^53 nor within 2^53
 *   of 2^64 (the reader's exact range).
 */
export type DwarfReason =
  | "no-dwarf"
  | "not-covered"
  | "malformed"
  | "too-large"
  | "split-missing"
  | "wide-address";

/** No frames, and why. */
export interface DwarfMiss {
  readonly reason: DwarfReason;
  readonly message: string;
}

/** What {@link DwarfOptions.loadDwo} is asked for: one split unit's `.dwo` file. */
export interface DwoRequest {
  /** `DW_AT_dwo_name` (or `DW_AT_GNU_dwo_name`) of the skeleton unit, as written (may be relative). */
  readonly name: string;
  /** `DW_AT_comp_dir` of the skeleton unit (`""` when absent): a relative `name` is relative to it. */
  readonly compDir: string;
  /** The DWO id both the skeleton and the split unit carry. */
  readonly dwoId: bigint;
}

/** Options of {@link DwarfInfo}. */
export interface DwarfOptions {
  /**
   * The dwz supplementary file (`.gnu_debugaltlink`), for
   * `DW_FORM_GNU_ref_alt` / `DW_FORM_GNU_strp_alt` (and DWARF 5's
   * `ref_sup` / `strp_sup`). Without it, names that live there are `""`.
   */
  readonly alt?: DwarfSections;
  /**
   * The `.dwp` package next to the binary (its sections, `debug_cu_index`
   * among them), asked for at most once, the first time a skeleton unit is
   * looked into; it is searched before {@link loadDwo}.
   */
  readonly loadDwp?: () => DwarfSections | undefined;
  /**
   * A skeleton unit's `.dwo` file, asked for at most once per unit; the
   * reader checks the DWO id itself. The caller finds and reads the file
   * (inside the target's root).
   */
  readonly loadDwo?: (request: DwoRequest) => DwarfSections | undefined;
  /**
   * Bytes the parsed tables (unit index, line rows, functions, names) may
   * hold; least recently used units are dropped past it, and a unit larger
   * than it alone gets `"too-large"`. Default 256 MiB.
   */
  readonly maxBytes?: number;
}

/** A function DWARF describes, as {@link DwarfInfo.findFunction} gives it. */
export interface DwarfFunction {
  /** As {@link DwarfFrame.name}. */
  readonly name: string;
  /** First address of the function's range that holds the address. */
  readonly start: bigint;
  /** One past its last address. */
  readonly end: bigint;
}
