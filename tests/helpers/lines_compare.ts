/**
 * The source-line ground truth shared by tests/lines_ground_truth_test.ts
 * (a sample of addresses per build, every runtime) and
 * bench/lines_agreement.ts (every instruction address): the builds of
 * tests/fixtures/lines in each flavour, and symbolizeFile()'s frames
 * compared with `addr2line -f -i`, `llvm-symbolizer --inlining` and
 * `eu-addr2line -f -i`.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type SymbolFrame, Symbolizer } from "../../mod.ts";
import {
  binutilsFrames,
  euFrames,
  haveAddr2line,
  haveEuAddr2line,
  haveLlvmSymbolizer,
  llvmFrames,
  type ToolFrame,
} from "./dwarf_tools.ts";
import { build } from "./dwarf_builds.ts";

const HERE = new URL(".", import.meta.url).pathname;
/** tests/fixtures/lines (from tests/helpers, or from dist/tests/helpers). */
const FIXTURES = [join(HERE, "../fixtures/lines"), join(HERE, "../../../tests/fixtures/lines")].find((d) =>
  existsSync(join(d, "lines_target.c"))
)!;
/** Whether `cmd` runs here. */
export const has = (cmd: string, arg = "--version"): boolean => spawnSync(cmd, [arg]).status === 0;

export interface Variant {
  name: string;
  /** Tools that build it (the variant skips when one is missing). */
  needs: string[];
  /** Commands run in the build directory ($F: the fixtures, $D: the build directory), once per content. */
  steps: [string, ...string[]][];
  /** The binary, relative to the build directory. */
  bin: string;
}

const gcc = (flags: string[]): [string, ...string[]][] => [["gcc", "-O2", ...flags, "-o", "bin", "$F/lines_target.c"]];
const split: [string, ...string[]][] = [
  ["gcc", "-O2", "-g", "-gsplit-dwarf", "-c", "$F/lines_target.c", "-o", "lt.o"],
  ["gcc", "-o", "bin", "lt.o"],
];

export const VARIANTS: Variant[] = [
  { name: "gcc -O2 -g (DWARF 5)", needs: ["gcc"], steps: gcc(["-g"]), bin: "bin" },
  { name: "gcc -O2 -gdwarf-4", needs: ["gcc"], steps: gcc(["-gdwarf-4"]), bin: "bin" },
  { name: "gcc -O2 -gdwarf-2", needs: ["gcc"], steps: gcc(["-gdwarf-2"]), bin: "bin" },
  { name: "gcc -O3 -g -gz=zlib", needs: ["gcc"], steps: gcc(["-O3", "-g", "-gz=zlib"]), bin: "bin" },
  {
    name: "zstd-compressed sections (objcopy)",
    needs: ["gcc", "objcopy"],
    steps: [...gcc(["-g"]), ["objcopy", "--compress-debug-sections=zstd", "bin", "bin.zstd"]],
    bin: "bin.zstd",
  },
  // Split DWARF: built in place (the skeleton names the directory it was compiled in).
  { name: "gcc -gsplit-dwarf (.dwo next to the object)", needs: ["gcc"], steps: split, bin: "bin" },
  {
    name: "gcc -gsplit-dwarf with a .dwp (llvm-dwp), no .dwo",
    needs: ["gcc", "llvm-dwp"],
    steps: [...split, ["llvm-dwp", "-e", "bin", "-o", "bin.dwp"], ["rm", "lt.dwo"]],
    bin: "bin",
  },
  {
    name: "dwz pair (.gnu_debugaltlink)",
    needs: ["gcc", "dwz"],
    steps: [...gcc(["-g"]), ["cp", "bin", "b"], ["dwz", "-m", "common.dwz", "-M", "common.dwz", "bin", "b"]],
    bin: "bin",
  },
  {
    name: "clang -O2 -g (DWARF 5, addrx, rnglistx)",
    needs: ["clang"],
    steps: [["clang", "-O2", "-g", "-o", "bin", "$F/lines_target.c"]],
    bin: "bin",
  },
  {
    name: "g++ -O2 -g (templates, lambdas, libstdc++ inlined)",
    needs: ["g++"],
    steps: [["g++", "-O2", "-g", "-std=c++17", "-o", "bin", "$F/lines_target_cpp.cc"]],
    bin: "bin",
  },
  {
    name: "rustc -g -C opt-level=2",
    needs: ["rustc"],
    steps: [["rustc", "-g", "-C", "opt-level=2", "-o", "bin", "$F/lines_target.rs"]],
    bin: "bin",
  },
];

/** The variant's binary, built once per fixture content (shared by the runtimes' runs). */
export function built(v: Variant): string {
  return join(build(`lines-${v.name}`, v.steps, FIXTURES), v.bin);
}

/** One frame as the comparison sees it: the name as printed, file (undefined: `??`), line and column (0: unknown). */
export interface TruthFrame {
  name: string;
  file: string | undefined;
  line: number;
  column: number;
}

/** A tool's frames in these terms: an address the tool knows nothing of (`??` at `??:0`) has none. */
function truthOf(frames: ToolFrame[]): TruthFrame[] {
  return frames.filter((f) => f.name !== "" || f.file !== "" || f.line !== 0).map((f) => ({
    name: f.name === "" ? "??" : f.name,
    file: f.file === "" ? undefined : f.file,
    line: f.line,
    column: f.column,
  }));
}

/** Our frames in a tool's terms. */
function asTruth(frames: readonly SymbolFrame[] | undefined): TruthFrame[] {
  return (frames ?? []).map((f) => ({ name: f.name, file: f.file, line: f.line, column: f.column }));
}

function sameAs(ours: TruthFrame[], theirs: TruthFrame[], columns: boolean): boolean {
  // A tool's answer without a line is the symbol table's name (and the file an STT_FILE symbol
  // names): no DWARF line for the address, where procmap gives no frames.
  if (ours.length === 0 && theirs.every((f) => f.line === 0)) return true;
  if (ours.length !== theirs.length) return false;
  return ours.every((f, i) =>
    f.name === theirs[i].name && f.file === theirs[i].file && f.line === theirs[i].line &&
    (!columns || f.column === theirs[i].column)
  );
}

export interface Tally {
  total: number;
  agree: number;
  a2l: number;
  llvm: number;
  eu: number;
  /**
   * Addresses explained by a rule: frames that differ from a tool's only by its symbol-table name on
   * the outermost frame, or padding between functions, which has a line row but no function.
   */
  nameRule: number;
  misses: string[];
}

/** Compares symbolizeFile()'s frames at `addrs` with both tools; returns the tally. */
export function compare(file: string, addrs: bigint[], symbolizer = new Symbolizer()): Tally {
  const ours = symbolizer.symbolizeFile(file, addrs, { demangle: false });
  const a2l = haveAddr2line ? binutilsFrames(file, addrs).map(truthOf) : [];
  const llvm = haveLlvmSymbolizer ? llvmFrames(file, addrs).map(truthOf) : [];
  const eu = haveEuAddr2line ? euFrames(file, addrs).map(truthOf) : [];
  const t: Tally = { total: addrs.length, agree: 0, a2l: 0, llvm: 0, eu: 0, nameRule: 0, misses: [] };
  addrs.forEach((a, i) => {
    const o = asTruth(ours[i].symbol?.frames);
    const byA2l = haveAddr2line && sameAs(o, a2l[i], false);
    const byLlvm = haveLlvmSymbolizer && sameAs(o, llvm[i], true);
    const byEu = haveEuAddr2line && sameAs(o, eu[i], true);
    if (byA2l) t.a2l++;
    if (byLlvm) t.llvm++;
    if (byEu) t.eu++;
    if (byA2l || byLlvm || byEu) t.agree++;
    else if (
      // The tools' other rule: the outermost frame named after the symbol table (llvm-symbolizer always,
      // eu-addr2line for split DWARF, addr2line where the symbol starts the function). procmap keeps DWARF's name.
      o.length > 0 &&
      [a2l[i], llvm[i], eu[i]].some((f) =>
        f && f.length === o.length && f.at(-1)!.name === ours[i].symbol?.name &&
        sameAs(o.slice(0, -1), f.slice(0, -1), false) && o.at(-1)!.file === f.at(-1)!.file &&
        o.at(-1)!.line === f.at(-1)!.line
      )
    ) t.nameRule++;
    else if (o.length === 0 && [llvm[i], eu[i]].some((f) => f?.length && f.every((x) => x.name === "??"))) {
      // A line row in no function (padding after one): no frames here, `??` at a line there.
      t.nameRule++;
    } else if (t.misses.length < 5) {
      const show = (fs: TruthFrame[]) => fs.map((f) => `${f.name} ${f.file}:${f.line}:${f.column}`).join(" < ");
      t.misses.push(
        `0x${a.toString(16)}: ours [${show(o)}] addr2line [${show(a2l[i] ?? [])}] llvm [${show(llvm[i] ?? [])}]`,
      );
    }
  });
  return t;
}
