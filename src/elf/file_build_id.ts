/**
 * The build ID of an ELF file open on a descriptor, from wherever it
 * carries one: its note section (debug files keep it; the section headers
 * may use either byte order), else its program headers as the kernel reads
 * them. Used to check that a file found or downloaded by build ID is the
 * one asked for.
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import { findBuildId } from "./build_id.ts";
import { sectionBuildId } from "./debug_link.ts";
import { fdReader } from "./read_at.ts";
import { readSections } from "./sections.ts";
import { toHex } from "../util/names.ts";

/** The build ID (lowercase hex) of the ELF file on `fd`, or undefined. */
export function fdBuildId(libc: Libc, fd: number): string | undefined {
  const reader = fdReader(libc, fd);
  const elf = readSections(reader.read);
  const fromSection = elf ? sectionBuildId(reader.read, elf) : undefined;
  if (fromSection) return fromSection;
  const b = findBuildId((offset, len) => {
    const got = reader.read(offset, len);
    return got && got.length === len ? got : null;
  });
  return b ? toHex(b, b.length) : undefined;
}
