/**
 * What examples/symbolize.ts prints, apart from its command line: binutils
 * addr2line's output for each flag set (`-a`, `-f`, `-i`, `-C`, `-p`, `-s`)
 * and the `--json` form.
 * @module
 */
import type { SymbolInfo } from "../mod.ts";
import { escapeName } from "./cli.ts";

/** The flags that shape the text output. */
export interface Addr2lineFlags {
  addresses: boolean;
  functions: boolean;
  inlines: boolean;
  demangle: boolean;
  pretty: boolean;
  basenames: boolean;
}

/** An address word: hex, with or without 0x (at most 64 bits), or decimal with a leading "d". */
export function parseAddress(s: string): bigint | undefined {
  if (/^d\d{1,20}$/.test(s)) {
    const v = BigInt(s.slice(1));
    return v < 1n << 64n ? v : undefined;
  }
  const hex = s.startsWith("0x") || s.startsWith("0X") ? s.slice(2) : s;
  return /^[0-9a-fA-F]{1,16}$/.test(hex) ? BigInt("0x" + hex) : undefined;
}

/** One address's answer, from any of the symbolizers (the process, a file, a build ID). */
export type Row = {
  symbol?: SymbolInfo;
  name?: string;
  elfAddr?: bigint;
  symbolReason?: string;
  debuginfod?: { status: string };
} | null;

/**
 * What addr2line prints for one address with these flags (binutils 2.40's
 * translate_addresses): the address with `-a`; then for each frame, the
 * function with `-f` and `file:line` (`?` for an unknown line, `??` for an
 * unknown file), and after a known line the address's discriminator
 * when it has one (` (discriminator 3)`: `frames[0]`'s, repeated on every
 * inlined caller's line, as binutils does); inlined callers with `-i`, each introduced by
 * ` (inlined by) ` under `-p`. Without DWARF for the address, the symbol's
 * name and `??:?` (addr2line found a function, not its line), or `??` and
 * `??:0` where no symbol names it either. A PLT stub keeps procmap's
 * `name@plt` (addr2line has no name for it).
 */
export function formatAddr2line(addr: bigint, r: Row, f: Addr2lineFlags): string {
  let out = "";
  if (f.addresses) out += "0x" + addr.toString(16).padStart(16, "0") + (f.pretty ? ": " : "\n");
  const s = r?.symbol;
  const frames = s?.frames;
  const fn = (name: string | undefined, demangled: string | undefined) => {
    if (!f.functions) return;
    // A name is bytes from the file: a newline in it would forge a line (escaped as the kernel does).
    const n = name ? escapeName(f.demangle ? demangled ?? name : name) : "??";
    out += n + (f.pretty ? " at " : "\n");
  };
  if (!frames || frames.length === 0) {
    fn(s?.name, s?.demangled);
    return out + (s?.name ? "??:?\n" : "??:0\n");
  }
  const last = f.inlines ? frames.length : 1;
  // binutils asks the discriminator once, with the address's line, and prints it after every frame's line.
  const disc = frames[0].discriminator ? ` (discriminator ${frames[0].discriminator})` : "";
  for (let k = 0; k < last; k++) {
    const fr = frames[k];
    if (k > 0 && f.pretty) out += " (inlined by) ";
    fn(fr.name, fr.demangled);
    let file = fr.file ?? "??";
    if (f.basenames && fr.file !== undefined) file = file.slice(file.lastIndexOf("/") + 1);
    out += `${escapeName(file)}:${fr.line === 0 ? "?" : fr.line + disc}\n`;
  }
  return out;
}

/** One address as a JSON object (`--json`). */
export function toJson(addr: bigint, r: Row) {
  const s = r?.symbol;
  const hex = (v: bigint | undefined) => (v === undefined ? null : "0x" + v.toString(16));
  return JSON.stringify({
    addr: hex(addr),
    name: s?.name ?? null,
    demangled: s?.demangled ?? null,
    offset: hex(s?.offset),
    start: hex(s?.start),
    size: s ? Number(s.size) : null,
    source: s?.source ?? null,
    frames: s?.frames ?? null,
    file: r?.name ?? null,
    elfAddr: hex(r?.elfAddr),
    reason: r ? (r.symbolReason ?? null) : "unmapped",
    debuginfod: r?.debuginfod?.status ?? null,
  });
}
