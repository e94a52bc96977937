/**
 * The DWARF reader: source lines and inlined frames for addresses of an
 * ELF file, from its `.debug_*` sections (see src/dwarf/README.md for the
 * interface and its guarantees). Pure functions over bytes: no I/O, no
 * FFI; the caller finds and reads the sections.
 * @module
 */
export { DwarfInfo } from "./info.ts";
export {
  compressionHeader,
  decompressSection,
  dwarfSectionName,
  ELFCOMPRESS_ZLIB,
  inflatePrefix,
  inflateSectionFrom,
  isCompressed,
  maxDecompressed,
  prefixOutputBytes,
  prefixStreamBytes,
  SHF_COMPRESSED,
} from "./decompress.ts";
export type { DecompressMiss, Inflater, RawSection } from "./decompress.ts";
export type {
  DwarfFrame,
  DwarfFunction,
  DwarfMiss,
  DwarfOptions,
  DwarfReason,
  DwarfSectionName,
  DwarfSections,
  DwoRequest,
  FrameColumns,
  FrameMaker,
} from "./types.ts";
