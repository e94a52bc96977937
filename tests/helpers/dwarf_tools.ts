/**
 * Ground truth for the DWARF reader: an ELF file's debug sections as
 * {@link DwarfSections} (through procmap's own section reader), and the
 * frames binutils `addr2line`, `llvm-symbolizer` and elfutils
 * `eu-addr2line` print for the same addresses, in one shape.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { memoryReader } from "../../src/elf/read_at.ts";
import { readSections } from "../../src/elf/sections.ts";
import { decompressSection, DwarfInfo, dwarfSectionName } from "../../src/dwarf/mod.ts";
import type { DwarfFrame, DwarfOptions, DwarfSections } from "../../src/dwarf/mod.ts";

const has = (cmd: string, arg = "--version") => spawnSync(cmd, [arg], { encoding: "utf8" }).status === 0;
export const haveAddr2line = has("addr2line");
export const haveLlvmSymbolizer = has("llvm-symbolizer");
export const haveEuAddr2line = has("eu-addr2line");
export const haveGcc = has("gcc");
export const haveClang = has("clang");
export const haveDwz = has("dwz");
export const haveDwp = has("dwp");
export const haveRustc = has("rustc");

/** A frame as a tool prints it (no `inlined` flag: the order says it). */
export type ToolFrame = Pick<DwarfFrame, "name" | "file" | "line" | "column">;

/** The DWARF sections of an ELF file, decompressed; `null` when it is not ELF. */
export function dwarfSectionsOf(path: string): DwarfSections | null {
  const bytes = new Uint8Array(readFileSync(path));
  const elf = readSections(memoryReader(bytes));
  if (!elf) return null;
  const out: Record<string, unknown> = { littleEndian: elf.le };
  for (const s of elf.sections) {
    const key = dwarfSectionName(s.name);
    if (!key || key in out || s.offset < 0 || s.type === 8) continue;
    const raw = bytes.subarray(s.offset, s.offset + Number(s.size));
    const d = decompressSection(
      { name: s.name, flags: s.flags, bytes: raw, is64: elf.is64, littleEndian: elf.le },
      1 << 30,
    );
    if ("reason" in d) throw new Error(`${path} ${s.name}: ${d.message}`);
    out[key] = d;
  }
  return out as DwarfSections;
}

/** The path `.gnu_debugaltlink` names (the dwz file), or undefined. */
export function altLinkOf(path: string): string | undefined {
  const bytes = new Uint8Array(readFileSync(path));
  const elf = readSections(memoryReader(bytes));
  const s = elf?.byName(".gnu_debugaltlink");
  if (!s) return undefined;
  const b = bytes.subarray(s.offset, s.offset + Number(s.size));
  const end = b.indexOf(0);
  return new TextDecoder().decode(b.subarray(0, end < 0 ? b.length : end));
}

/**
 * A DwarfInfo for a file as a symbolizer would make it: its dwz file (by
 * `.gnu_debugaltlink`), `<file>.dwp`, and `.dwo` files by name (relative to
 * the skeleton's comp_dir). `loads` counts the split files asked for.
 */
export function dwarfInfoFor(path: string, opts: DwarfOptions = {}): { info: DwarfInfo; loads: string[] } {
  const loads: string[] = [];
  const alt = altLinkOf(path);
  const altPath = alt && (isAbsolute(alt) ? alt : join(path, "..", alt));
  const info = new DwarfInfo(dwarfSectionsOf(path)!, {
    alt: altPath ? dwarfSectionsOf(altPath) ?? undefined : undefined,
    loadDwp: () => {
      loads.push(`${path}.dwp`);
      return existsSync(`${path}.dwp`) ? dwarfSectionsOf(`${path}.dwp`) ?? undefined : undefined;
    },
    loadDwo: ({ name, compDir }) => {
      const p = isAbsolute(name) ? name : join(compDir, name);
      loads.push(p);
      return existsSync(p) ? dwarfSectionsOf(p) ?? undefined : undefined;
    },
    ...opts,
  });
  return { info, loads };
}

function run(cmd: string, args: string[], input: string): string {
  const r = spawnSync(cmd, args, { input, encoding: "utf8", maxBuffer: 1 << 30, timeout: 600_000 });
  // eu-addr2line exits 1 when some address has no line: its output is still whole.
  if (r.status !== 0 && !(cmd === "eu-addr2line" && r.status === 1 && r.stdout)) {
    throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr || r.error}`);
  }
  return r.stdout;
}

const hex = (a: bigint) => "0x" + a.toString(16);

/** `file:line[:column]` as the tools print it ("??" for unknown). */
function location(s: string): Omit<ToolFrame, "name"> {
  const t = s.replace(/ \(discriminator \d+\)$/, "");
  const m = /^(.*?):(\d+|\?)(?::(\d+))?$/.exec(t);
  if (!m) return { file: t === "??" ? "" : t, line: 0, column: 0 };
  return { file: m[1] === "??" ? "" : m[1], line: m[2] === "?" ? 0 : Number(m[2]), column: Number(m[3] ?? 0) };
}

const name = (s: string) => (s === "??" ? "" : s);

/** binutils `addr2line -a -f -i` (no columns: binutils does not print them). */
export function binutilsFrames(path: string, addrs: bigint[]): ToolFrame[][] {
  const out = run("addr2line", ["-a", "-f", "-i", "-e", path], addrs.map(hex).join("\n") + "\n");
  return blocks(out.split("\n"), addrs.length, (lines) => {
    const frames: ToolFrame[] = [];
    for (let i = 0; i + 1 < lines.length; i += 2) frames.push({ name: name(lines[i]), ...location(lines[i + 1]) });
    return frames;
  });
}

/** Splits output at the address lines `-a` prints ("0x" and 16 hex digits). */
function blocks(lines: string[], n: number, parse: (block: string[]) => ToolFrame[]): ToolFrame[][] {
  const out: ToolFrame[][] = [];
  let cur: string[] | undefined;
  for (const l of lines) {
    if (/^0x[0-9a-f]{8,16}$/.test(l)) {
      if (cur) out.push(parse(cur));
      cur = [];
    } else if (cur && l !== "") cur.push(l);
  }
  if (cur) out.push(parse(cur));
  if (out.length !== n) throw new Error(`tool gave ${out.length} answers for ${n} addresses`);
  return out;
}

/** `llvm-symbolizer --inlining --no-demangle`. */
export function llvmFrames(path: string, addrs: bigint[]): ToolFrame[][] {
  const out = run(
    "llvm-symbolizer",
    ["--inlining", "--no-demangle", "--output-style=LLVM", "-e", path],
    addrs.map(hex).join("\n") + "\n",
  );
  const res: ToolFrame[][] = [];
  for (const block of out.split("\n\n")) {
    const lines = block.split("\n").filter((l) => l !== "");
    if (lines.length === 0) continue;
    const frames: ToolFrame[] = [];
    for (let i = 0; i + 1 < lines.length; i += 2) frames.push({ name: name(lines[i]), ...location(lines[i + 1]) });
    res.push(frames);
  }
  if (res.length !== addrs.length) throw new Error(`llvm-symbolizer gave ${res.length} answers for ${addrs.length}`);
  return res;
}

/**
 * Each frame's discriminator as `llvm-symbolizer --inlining
 * --output-style=GNU` prints it (` (discriminator N)` after a line; 0
 * without): the line row's for the first frame, the call site's
 * `DW_AT_GNU_discriminator` for the others.
 */
export function llvmDiscriminators(path: string, addrs: bigint[]): number[][] {
  const out = run(
    "llvm-symbolizer",
    ["--inlining", "--no-demangle", "--output-style=GNU", "-a", "-f", "-e", path],
    addrs.map(hex).join("\n") + "\n",
  );
  const res: number[][] = [];
  for (const l of out.split("\n")) {
    if (/^0x[0-9a-f]+$/.test(l)) res.push([]);
    else if (/:(\d+|\?)( \(discriminator \d+\))?$/.test(l) && res.length > 0) {
      res[res.length - 1].push(Number(/ \(discriminator (\d+)\)$/.exec(l)?.[1] ?? 0));
    }
  }
  if (res.length !== addrs.length) throw new Error(`llvm-symbolizer gave ${res.length} answers for ${addrs.length}`);
  return res;
}

/** elfutils `eu-addr2line -a -f -i` (its first name line may read "f inlined at file:line:col in g"). */
export function euFrames(path: string, addrs: bigint[]): ToolFrame[][] {
  const out = run("eu-addr2line", ["-a", "-f", "-i", "-e", path], addrs.map(hex).join("\n") + "\n");
  return blocks(out.split("\n"), addrs.length, (lines) => {
    const frames: ToolFrame[] = [];
    for (let i = 0; i + 1 < lines.length; i += 2) {
      frames.push({ name: name(lines[i].replace(/ inlined at .* in \S+$/, "")), ...location(lines[i + 1]) });
    }
    return frames;
  });
}

/**
 * Instruction addresses of the file's code (`objdump -d`), for probing every
 * place code is; only those of `sections` when given (`[".text"]`).
 */
export function instructionAddresses(path: string, sections: string[] = []): bigint[] {
  const out = run("objdump", ["-d", "--no-show-raw-insn", ...sections.flatMap((s) => ["-j", s]), path], "");
  const addrs: bigint[] = [];
  for (const m of out.matchAll(/^\s+([0-9a-f]+):\t/gm)) addrs.push(BigInt("0x" + m[1]));
  return addrs;
}
