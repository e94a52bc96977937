/**
 * Line-number programs (`.debug_line`, 6.2), versions 2 to 5: the header's
 * directory and file tables (v5's entry formats, file index 0) and the
 * rows, kept as sorted sequences in typed arrays for binary search.
 *
 * Bounded: a program of N bytes makes at most N rows (each row takes an
 * opcode), the arrays grow as rows come, and the caller's byte budget
 * stops a program too large for it.
 * @module
 */
import * as C from "./constants.ts";
import { addrAdd, Cursor, DwarfError, isTombstone, stringAt, unsignedLess } from "./cursor.ts";
import { type Encoding, K_CONST, K_STRING, readValue, skipForm, valueKind } from "./forms.ts";
import type { StrRef, Unit } from "./unit.ts";

/** A file of the line table: its name and directory index, resolved to a path on demand. */
interface FileEntry extends StrRef {
  dir: number;
}

/** One unit's line table. */
export class LineTable {
  readonly version: number;
  readonly #unit: Unit;
  readonly #sec: Uint8Array;
  readonly #dirs: StrRef[];
  readonly #files: FileEntry[];
  readonly #paths: (string | undefined)[] = [];
  /** Sequences sorted by start: [start, end) and their rows [row0, row1). */
  readonly seqStart: number[] = [];
  readonly seqEnd: number[] = [];
  readonly seqRow0: number[] = [];
  readonly seqRow1: number[] = [];
  /** Rows: address, file index, line, column. */
  readonly addr: number[];
  readonly file: number[];
  readonly line: number[];
  readonly column: number[];
  /**
   * The rows with a discriminator, ascending, and their discriminators:
   * kept apart (most rows have none) so that a row costs no fifth slot.
   */
  readonly #discRow: number[];
  readonly #discValue: number[];
  readonly byteSize: number;
  readonly #ascending: boolean;
  /** The sequence and the row past the previous answer: a sorted batch's next row is mostly a few rows on. */
  #hintSeq = -1;
  #hintRow = 0;

  constructor(unit: Unit, offset: number, maxBytes: number) {
    this.#unit = unit;
    // (For split DWARF, the skeleton: its file has the line table.)
    // Only the section's bytes up to this program are asked for (a prefix of a compressed section).
    let sec = unit.file.prefix("debug_line", offset + 12);
    if (!sec) throw new DwarfError(`unit at ${unit.offset}: DW_AT_stmt_list without .debug_line`);
    if (!(offset >= 0 && offset + 4 <= sec.length)) throw new DwarfError(`.debug_line offset ${offset} out of bounds`);
    let c = new Cursor(sec, unit.file.le, offset);
    let len = c.u32();
    let offSize = 4;
    if (len === 0xffffffff) {
      len = c.u64();
      offSize = 8;
    } else if (len >= 0xfffffff0) {
      throw new DwarfError(`.debug_line at ${offset}: reserved length 0x${len.toString(16)}`);
    }
    const end = c.pos + len;
    if (end > sec.length) {
      // The prefix held the header but not the program: the whole section, which may not decompress (a
      // stream that breaks past the prefix, or a size that lies).
      const whole = unit.file.prefix("debug_line", end);
      if (!whole) throw new DwarfError(`.debug_line at ${offset}: the section cannot be read past ${sec.length} bytes`);
      sec = whole;
      c = new Cursor(sec, unit.file.le, c.pos);
    }
    if (end > sec.length) throw new DwarfError(`.debug_line at ${offset}: length ${len} runs past the section`);
    this.#sec = sec;
    const version = c.u16();
    if (version < 2 || version > 5) throw new DwarfError(`.debug_line at ${offset}: version ${version}`);
    this.version = version;
    let addrSize = unit.addrSize;
    if (version >= 5) {
      addrSize = c.u8();
      c.u8(); // segment selector size
    }
    const headerLength = c.offset(offSize);
    const programStart = c.pos + headerLength;
    if (programStart > end) throw new DwarfError(`.debug_line at ${offset}: header runs past the program`);
    const minInst = c.u8();
    const maxOps = version >= 4 ? c.u8() || 1 : 1;
    c.u8(); // default_is_stmt: every row is used, is_stmt or not (as gimli and binutils do)
    const lineBase = (c.u8() << 24) >> 24;
    const lineRange = c.u8();
    const opcodeBase = c.u8();
    const stdLengths = new Uint8Array(opcodeBase + 1);
    for (let i = 1; i < opcodeBase; i++) stdLengths[i] = c.u8();
    const enc: Encoding = { version, addrSize, offSize };
    this.#dirs = [];
    this.#files = [];
    if (version >= 5) {
      this.#readEntries(c, enc, programStart, false);
      this.#readEntries(c, enc, programStart, true);
    } else {
      while (c.pos < programStart && sec[c.pos] !== 0) {
        this.#dirs.push({ kind: K_STRING, value: c.pos });
        c.skipCString();
      }
      c.pos++;
      while (c.pos < programStart && sec[c.pos] !== 0) {
        const at = c.pos;
        c.skipCString();
        const dir = c.uleb();
        c.uleb();
        c.uleb();
        this.#files.push({ kind: K_STRING, value: at, dir });
      }
    }

    // The program.
    const rows = new RowBuilder(maxBytes);
    c.pos = programStart;
    let address = 0, opIndex = 0, file = 1, line = 1, column = 0, disc = 0;
    let seqRow0 = 0, discarded = false;
    const seqs: number[] = []; // start, end, row0, row1 per sequence
    const advance = (n: number) => {
      if (discarded) return;
      if (maxOps === 1) address = addrAdd(address, minInst * n, addrSize);
      else {
        const ops = opIndex + n;
        address = addrAdd(address, minInst * Math.floor(ops / maxOps), addrSize);
        opIndex = ops % maxOps;
      }
    };
    while (c.pos < end) {
      const op = sec[c.pos++];
      if (op >= opcodeBase) {
        if (lineRange === 0) throw new DwarfError(`.debug_line at ${offset}: special opcode with line_range 0`);
        const adj = op - opcodeBase;
        advance(Math.floor(adj / lineRange));
        line = lineAdd(line, lineBase + (adj % lineRange));
        if (!discarded) rows.push(address, file, line, column, disc, seqRow0);
        disc = 0; // reset by every row (6.2.5.1)
        continue;
      }
      switch (op) {
        case 0: {
          const n = c.uleb();
          const next = c.pos + n;
          if (n === 0) continue;
          const sub = sec[c.pos++];
          if (sub === C.DW_LNE_end_sequence) {
            // The end_sequence row only marks where the sequence ends (one past its last byte).
            if (rows.count > seqRow0 && rows.addr[seqRow0] < address && !discarded) {
              seqs.push(rows.addr[seqRow0], address, seqRow0, rows.count);
            } else rows.truncate(seqRow0);
            seqRow0 = rows.count;
            address = 0, opIndex = 0, file = 1, line = 1, column = 0, disc = 0, discarded = false;
          } else if (sub === C.DW_LNE_set_address) {
            const size = n - 1;
            if (size === 1 || size === 2 || size === 4 || size === 8) {
              const a = c.addr(size);
              // Code the linker discarded (gimli's rule): a tombstone, or an address going
              // backwards (linkers that write 0 or keep the addend); rows wait for the next address.
              discarded = isTombstone(a, size) || a !== a || unsignedLess(a, address);
              if (!discarded) {
                address = a;
                opIndex = 0;
              }
            }
          } else if (sub === C.DW_LNE_set_discriminator) {
            // 32 bits at most (binutils' and LLVM's width): a wider one is no compiler's, dropped.
            disc = c.uleb();
            if (!(disc <= 0xffffffff)) disc = 0;
          } else if (sub === C.DW_LNE_define_file && version < 5) {
            const at = c.pos;
            c.skipCString();
            const dir = c.uleb();
            this.#files.push({ kind: K_STRING, value: at, dir });
          }
          c.pos = next;
          continue;
        }
        case C.DW_LNS_copy:
          if (!discarded) rows.push(address, file, line, column, disc, seqRow0);
          disc = 0;
          continue;
        case C.DW_LNS_advance_pc:
          advance(c.uleb());
          continue;
        case C.DW_LNS_advance_line:
          line = lineAdd(line, c.sleb());
          continue;
        case C.DW_LNS_set_file:
          file = c.uleb();
          continue;
        case C.DW_LNS_set_column:
          // 32 bits at most, as discriminators: a wider column is no compiler's, and unknown (0).
          column = c.uleb();
          if (!(column <= 0xffffffff)) column = 0;
          continue;
        case C.DW_LNS_const_add_pc:
          if (lineRange === 0) throw new DwarfError(`.debug_line at ${offset}: const_add_pc with line_range 0`);
          advance(Math.floor((255 - opcodeBase) / lineRange));
          continue;
        case C.DW_LNS_fixed_advance_pc: {
          const d = c.u16();
          if (!discarded) address = addrAdd(address, d, addrSize);
          opIndex = 0;
          continue;
        }
        default:
          // Opcodes without operands (negate_stmt, basic_block, prologue_end, ...) and unknown ones.
          for (let i = stdLengths[op] ?? 0; i > 0; i--) c.uleb();
      }
    }
    const nseq = seqs.length / 4;
    const order: number[] = [];
    for (let i = 0; i < nseq; i++) order.push(i);
    order.sort((a, b) => seqs[4 * a] - seqs[4 * b]);
    for (let i = 0; i < nseq; i++) {
      const s = 4 * order[i];
      this.seqStart.push(seqs[s]);
      this.seqEnd.push(seqs[s + 1]);
      this.seqRow0.push(seqs[s + 2]);
      this.seqRow1.push(seqs[s + 3]);
    }
    // Rows after the last end_sequence belong to no sequence.
    rows.truncate(seqRow0);
    const n = rows.count;
    this.addr = rows.addr;
    this.file = rows.file;
    this.line = rows.line;
    this.column = rows.column;
    this.#discRow = rows.discRow;
    this.#discValue = rows.discValue;
    // Whether every sequence's rows ascend (an address program can wrap): only then may a search
    // start at the previous answer and give the binary search's row.
    let ascending = true;
    for (let q = 0; q < this.seqStart.length && ascending; q++) {
      for (let r = this.seqRow0[q] + 1; r < this.seqRow1[q]; r++) {
        if (!(rows.addr[r - 1] <= rows.addr[r])) {
          ascending = false;
          break;
        }
      }
    }
    this.#ascending = ascending;
    this.byteSize = 256 + n * ROW_BYTES + rows.discRow.length * 16 + nseq * 32 +
      (this.#files.length + this.#dirs.length) * 48;
  }

  #readEntries(c: Cursor, enc: Encoding, limit: number, files: boolean): void {
    const nformats = c.u8();
    const types: number[] = [], forms: number[] = [];
    for (let i = 0; i < nformats; i++) {
      types.push(c.uleb());
      forms.push(c.uleb());
    }
    const count = c.uleb();
    // Every entry takes at least a byte unless its formats take none: either way a count past the header is a lie.
    if (count > limit - c.pos + 1) {
      throw new DwarfError(`.debug_line: ${count} entries in a header of ${limit - c.pos} bytes`);
    }
    for (let i = 0; i < count; i++) {
      let name: StrRef = { kind: 0, value: 0 };
      let dir = 0;
      for (let j = 0; j < nformats; j++) {
        if (types[j] === C.DW_LNCT_path) {
          const v = readValue(c, forms[j], enc, 0, 0);
          name = { kind: valueKind, value: v };
        } else if (types[j] === C.DW_LNCT_directory_index) {
          const v = readValue(c, forms[j], enc, 0, 0);
          if (valueKind === K_CONST) dir = v;
        } else skipForm(c, forms[j], enc);
      }
      if (c.pos > limit) throw new DwarfError(".debug_line: directory or file table runs past the header");
      if (files) this.#files.push({ kind: name.kind, value: name.value, dir });
      else this.#dirs.push(name);
    }
  }

  #str(r: StrRef | undefined): string | undefined {
    if (!r) return undefined;
    return r.kind === K_STRING ? stringAt(this.#sec, r.value) : this.#unit.str(r.kind, r.value);
  }

  /**
   * The path of file `index` (as rows and DW_AT_call_file number them), as
   * binutils' addr2line builds it; `""` when there is no such file.
   */
  path(index: number): string {
    const cached = this.#paths[index];
    if (cached !== undefined) return cached;
    const p = this.#buildPath(index);
    if (index < 1 << 16) this.#paths[index] = p;
    return p;
  }

  #buildPath(index: number): string {
    const v5 = this.version >= 5;
    const f = this.#files[v5 ? index : index - 1];
    if (!f) return "";
    const name = this.#str(f);
    if (name === undefined) return "";
    if (name.startsWith("/")) return name;
    let sub = v5 ? this.#str(this.#dirs[f.dir]) : f.dir === 0 ? undefined : this.#str(this.#dirs[f.dir - 1]);
    let dir: string | undefined = sub && sub.startsWith("/") ? undefined : this.#unit.compDir || undefined;
    if (!dir) {
      dir = sub;
      sub = undefined;
    }
    if (!dir) return name;
    return sub ? `${dir}/${sub}/${name}` : `${dir}/${name}`;
  }

  /** The discriminator of row `row` (DW_LNE_set_discriminator), 0 when it has none. */
  discriminator(row: number): number {
    const rs = this.#discRow;
    let lo = 0, hi = rs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (rs[mid] < row) lo = mid + 1;
      else hi = mid;
    }
    return lo < rs.length && rs[lo] === row ? this.#discValue[lo] : 0;
  }

  /**
   * Set by {@link find}: up to this address (excluded) from its `addr` on,
   * the same row (the next row's or sequence's start, or the sequence's end).
   */
  until = 0;

  /** The row covering `addr`, or -1; sets {@link until}. */
  find(addr: number): number {
    const ss = this.seqStart;
    let lo = 0, hi = ss.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ss[mid] <= addr) lo = mid + 1;
      else hi = mid;
    }
    let until = lo < ss.length ? ss[lo] : Infinity;
    // Sequences may overlap (hostile input, discarded code at 0): the nearest few before the address.
    for (let s = lo - 1, tries = 0; s >= 0 && tries < 4; s--, tries++) {
      if (addr >= this.seqEnd[s]) continue;
      const a = this.addr;
      const r0 = this.seqRow0[s], r1 = this.seqRow1[s];
      let l = r0, h = r1;
      const hint = this.#hintRow;
      if (s === this.#hintSeq && this.#ascending && hint > r0 && hint <= r1 && a[hint - 1] <= addr) {
        // Galloping on from the previous answer: the first row above addr lies in [l, h].
        l = h = hint;
        for (let step = 1; h < r1 && a[h] <= addr; step *= 2) {
          l = h + 1;
          h += step;
        }
        if (h > r1) h = r1;
      }
      while (l < h) {
        const mid = (l + h) >>> 1;
        if (a[mid] <= addr) l = mid + 1;
        else h = mid;
      }
      this.#hintSeq = s;
      this.#hintRow = l;
      if (l > r0) {
        if (this.seqEnd[s] < until) until = this.seqEnd[s];
        if (l < r1 && a[l] < until) until = a[l];
        this.until = until;
        return l - 1;
      }
      // No row of this sequence yet: its first may start before the next answer does.
      if (r0 < r1 && a[r0] < until) until = a[r0];
    }
    this.until = until;
    return -1;
  }
}

/** The line register after an advance: it stops at 0 going down (as gimli) and wraps at 2^32. */
function lineAdd(line: number, d: number): number {
  const r = line + d;
  return r < 0 ? 0 : r % 4294967296;
}

/**
 * Rows as they are decoded, in plain arrays (doubles and small integers:
 * cheaper to grow than typed arrays), bounded by the byte budget.
 */
class RowBuilder {
  readonly addr: number[] = [];
  readonly file: number[] = [];
  readonly line: number[] = [];
  readonly column: number[] = [];
  /** Rows with a discriminator (ascending) and theirs. */
  readonly discRow: number[] = [];
  readonly discValue: number[] = [];
  readonly #maxRows: number;
  readonly #maxBytes: number;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
    this.#maxRows = Math.floor(maxBytes / ROW_BYTES);
  }

  get count(): number {
    return this.addr.length;
  }

  /** Drops the rows from `n` on (a sequence that ended empty). */
  truncate(n: number): void {
    this.addr.length =
      this.file.length =
      this.line.length =
      this.column.length =
        n;
    const d = this.discRow;
    while (d.length > 0 && d[d.length - 1] >= n) {
      d.pop();
      this.discValue.pop();
    }
  }

  /** Appends a row; one at the same address as the sequence's last row replaces it (the last one wins, as in binutils and gimli). */
  push(address: number, file: number, line: number, column: number, disc: number, seqRow0: number): void {
    const i = this.addr.length;
    if (i > seqRow0 && this.addr[i - 1] === address) {
      this.file[i - 1] = file;
      this.line[i - 1] = line;
      this.column[i - 1] = column;
      const d = this.discRow;
      const had = d.length > 0 && d[d.length - 1] === i - 1;
      if (disc !== 0) {
        if (had) this.discValue[d.length - 1] = disc;
        else d.push(i - 1), this.discValue.push(disc);
      } else if (had) d.pop(), this.discValue.pop();
      return;
    }
    if (i >= this.#maxRows) {
      throw new DwarfError(`a line program of more rows than the budget of ${this.#maxBytes} bytes holds`, "too-large");
    }
    this.addr.push(address);
    this.file.push(file);
    this.line.push(line);
    this.column.push(column);
    if (disc !== 0) {
      this.discRow.push(i);
      this.discValue.push(disc);
    }
  }
}

/** Bytes a row takes (four array slots). */
const ROW_BYTES = 32;
