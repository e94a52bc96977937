/**
 * ELF symbol tables (`.symtab`, `.dynsym`), read once per file into typed
 * arrays, sorted for binary search when lookups call for it
 * (symbol_table.ts, symbol_sort.ts; PLT stubs: plt.ts).
 *
 * Which symbols: `STT_FUNC`, `STT_GNU_IFUNC` and sized `STT_OBJECT`
 * defined in a section that is loaded (SHF_ALLOC; not undefined, absolute
 * or common; not TLS, whose values are offsets in a TLS block). An address belongs to a symbol when it
 * lies in `[value, value + size)`. A zero-sized symbol (an assembly function
 * without `.size`, such as libGL's dispatch stubs) reaches up to the next
 * symbol and the end of its section, in `.symtab` and `.dynsym` alike (as
 * perf and llvm-symbolizer size it; they do not stop at the section's end).
 * A symbol nested in another (or overlapping its end) wins inside its own
 * range; the outer one resumes after it.
 *
 * Symbol versions: glibc's `.symtab` names compatibility symbols with their
 * version (`memcpy@GLIBC_2.2.5`, the default one with `@@`). The name stays
 * as the table has it; the version is also given apart, and the readable
 * name is made from the name without it.
 *
 * Aliases (several symbols at one address, e.g. libc's global
 * `__strsep_1c@GLIBC_2.2.5` and local `__old_strsep_1c`): one is picked, by
 * these rules in order: a sized symbol over a zero-sized one; global (and
 * GNU unique) over weak over local; a function over an object; then perf's
 * rules for the name it prints (`choose_best_symbol`): fewer leading
 * underscores, then the longer name; then the earlier entry in the table.
 * nm lists them all; perf and gdb print one.
 *
 * Everything is attacker input: tables are read whole with one read each,
 * up to {@link MAX_TABLE_BYTES}; entries pointing outside their string table
 * or at an unterminated string are dropped; names longer than 64 KiB give
 * no symbol.
 * @module
 */
import type { SymbolSource } from "../symbol.ts";
import type { ReadAt } from "./segments.ts";
import { nativeLittleEndian } from "../util/bytes.ts";
import { type ElfSections, type Section, sectionBytes, SHT_NOBITS } from "./sections.ts";
import { Columns } from "./symbol_sort.ts";
import { RawEntries } from "./symbol_entries.ts";
import { ElfSymbolTable } from "./symbol_table.ts";

export { type ElfSymbol, ElfSymbolTable } from "./symbol_table.ts";

/** Symbol, string and relocation tables larger than this are refused (64 MiB: 2.8 million ELF64 symbols). */
export const MAX_TABLE_BYTES = 64 << 20;

const SHF_ALLOC = 2n;
const TWO_53 = 2 ** 53;

/** Why a table could not be read. */
export type TableProblem = "none" | "unreadable" | "too-big";

/**
 * Reads the symbol table in section `sym` (`.symtab` or `.dynsym`) with its
 * string table, or says why not.
 */
export function readSymbolTable(
  read: ReadAt,
  elf: ElfSections,
  sym: Section,
  source: SymbolSource,
): ElfSymbolTable | TableProblem {
  if (sym.type === SHT_NOBITS || sym.size === 0n) return "none";
  if (sym.size > BigInt(MAX_TABLE_BYTES)) return "too-big";
  if (sym.link >= elf.sections.length) return "unreadable";
  const strSec = elf.sections[sym.link];
  if (strSec.size > BigInt(MAX_TABLE_BYTES)) return "too-big";
  const bytes = sectionBytes(read, sym, MAX_TABLE_BYTES);
  const strtab = sectionBytes(read, strSec, MAX_TABLE_BYTES);
  if (!bytes || !strtab) return "unreadable";
  const secEnds = elf.sections.map((s) => (s.flags & SHF_ALLOC) !== 0n ? s.addr + s.size : -1n);
  const secStarts = elf.sections.map((s) => s.addr);
  // The same bounds as doubles where exact (NaN where not: those take the bigint route).
  const exact = (v: bigint) => (v < BigInt(TWO_53) ? Number(v) : NaN);
  const raw = new RawEntries(entryWords(bytes, elf.is64, elf.le), strtab, {
    starts: secStarts,
    ends: secEnds,
    startsNum: secStarts.map(exact),
    endsNum: secEnds.map((e) => (e < 0n ? -1 : exact(e))),
  });
  // Filtered when the table is sorted; a table that keeps nothing is empty now (the module then looks elsewhere).
  if (!raw.anyKept()) {
    return new ElfSymbolTable(source, { columns: new Columns(0), strtab, sectionEnds: secEnds, plt: false });
  }
  return new ElfSymbolTable(source, { raw, strtab, sectionEnds: secEnds, plt: false });
}

/**
 * The entries of a symbol table as ELF64 little-endian entries in native
 * 32-bit words, six per entry (st_name; st_info | st_shndx << 16, st_other
 * in bits 8-15 or 0; st_value low, high; st_size low, high): the table's own
 * bytes where they are laid out so (ELF64 little-endian on a little-endian
 * host, 4-byte aligned), else a copy.
 */
function entryWords(bytes: Uint8Array, is64: boolean, le: boolean): Uint32Array {
  const entsize = is64 ? 24 : 16;
  const count = Math.floor(bytes.length / entsize);
  if (is64 && le && nativeLittleEndian && bytes.byteOffset % 4 === 0) {
    return new Uint32Array(bytes.buffer, bytes.byteOffset, count * 6);
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const w = new Uint32Array(count * 6);
  for (let i = 0; i < count; i++) {
    const at = i * entsize, q = 6 * i;
    w[q] = v.getUint32(at, le);
    if (is64) {
      w[q + 1] = bytes[at + 4] | (v.getUint16(at + 6, le) << 16);
      w[q + 2] = v.getUint32(at + (le ? 8 : 12), le);
      w[q + 3] = v.getUint32(at + (le ? 12 : 8), le);
      w[q + 4] = v.getUint32(at + (le ? 16 : 20), le);
      w[q + 5] = v.getUint32(at + (le ? 20 : 16), le);
    } else {
      w[q + 1] = bytes[at + 12] | (v.getUint16(at + 14, le) << 16);
      w[q + 2] = v.getUint32(at + 4, le);
      w[q + 4] = v.getUint32(at + 8, le);
    }
  }
  return w;
}
