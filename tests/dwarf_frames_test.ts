/**
 * The DWARF reader (src/dwarf/) against tools nobody here wrote: for
 * instruction addresses of binaries built here (gcc, g++, clang, clang++,
 * rustc; DWARF 2, 4 and 5; zlib, zstd and .zdebug compression; split DWARF
 * with .dwo and .dwp files; a dwz pair) and of libc with libc6-dbg's debug
 * file, every frame (name, file, line, column) must equal what
 * `llvm-symbolizer --inlining` prints, and name, file and line what binutils
 * `addr2line -f -i` prints, for at least 99.5% of addresses (in practice
 * all of them; the differences are printed).
 *
 * The tools read a copy without symbol tables, so that their names come
 * from DWARF as the reader's do (both would otherwise put the symbol
 * table's name on the outermost frame: the symbolizer's job, not the
 * reader's). Where a tool cannot read a flavour (llvm-symbolizer 14: zstd,
 * dwz files, and inline frames in some split units; binutils: clang's
 * rnglistx inline ranges, split DWARF, DWARF 5 in .zdebug sections), the
 * reader is compared with the tool on the same code built without that
 * flavour (same .text bytes, checked), or with the tool that reads it.
 * eu-addr2line is not a reference: it names no GNU C nested function,
 * answers for the byte after a function's end, and takes some call columns
 * from another inlined instance (seen here on every build).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import {
  binutilsFrames,
  dwarfInfoFor,
  haveAddr2line,
  haveClang,
  haveDwp,
  haveDwz,
  haveGcc,
  haveLlvmSymbolizer,
  haveRustc,
  instructionAddresses,
  llvmDiscriminators,
  llvmFrames,
  type ToolFrame,
} from "./helpers/dwarf_tools.ts";
import { agreement, build, cSteps, type Fields, sample, sectionBytes, withoutSymbols } from "./helpers/dwarf_builds.ts";
import type { DwarfFrame, DwarfMiss } from "../src/dwarf/mod.ts";
import { installedDebugFile } from "./helpers/elf_notes.ts";
import { spawnSync } from "node:child_process";

const haveGxx = spawnSync("g++", ["--version"]).status === 0;
const haveLlvmDwp = spawnSync("llvm-dwp", ["--version"]).status === 0;
const noTools = !haveLlvmSymbolizer || !haveAddr2line || !haveGcc
  ? "llvm-symbolizer, addr2line and gcc are needed for the ground truth"
  : false;

/** Share of addresses whose frames must equal the tool's. */
const MIN_AGREEMENT = 0.995;

function ourFrames(path: string, addrs: bigint[]): (DwarfFrame[] | DwarfMiss)[] {
  const { info } = dwarfInfoFor(path);
  return addrs.map((a) => info.findFrames(a));
}

function assertAgrees(
  what: string,
  addrs: bigint[],
  ours: (DwarfFrame[] | DwarfMiss)[],
  truth: ToolFrame[][],
  fields: Fields | boolean,
) {
  const a = agreement(addrs, ours, truth, typeof fields === "boolean" ? { columns: fields } : fields);
  assert.ok(
    a.equal >= MIN_AGREEMENT * a.total,
    `${what}: frames equal for ${a.equal} of ${a.total} addresses\n  ${a.diffs.join("\n  ")}`,
  );
  // Not vacuous: most sampled addresses have a line (the fixtures are all code with DWARF).
  const withLines = ours.filter((o) => !("reason" in o) && o[0].line > 0).length;
  assert.ok(withLines >= 0.5 * addrs.length, `${what}: only ${withLines} of ${addrs.length} addresses have a line`);
}

/** Checks the reader on `bin` against llvm-symbolizer (with columns) and, unless told not to, binutils. */
function checkAgainstTools(what: string, bin: string, n: number, tools: { llvm?: boolean; binutils?: boolean } = {}) {
  const addrs = sample(instructionAddresses(bin), n);
  const ours = ourFrames(bin, addrs);
  const bare = withoutSymbols(bin);
  if (tools.llvm !== false) assertAgrees(`${what} vs llvm-symbolizer`, addrs, ours, llvmFrames(bare, addrs), true);
  if (tools.binutils !== false) assertAgrees(`${what} vs addr2line`, addrs, ours, binutilsFrames(bare, addrs), false);
  return { addrs, ours };
}

const GCC = haveGcc ? false : "gcc is not installed";

describe("DWARF from gcc (C, two units, headers, nested and cold functions, clones)", { skip: noTools }, () => {
  const flavours: [string, string[], { llvm?: boolean; binutils?: boolean }][] = [
    ["DWARF 5 (gcc's default)", ["-O2", "-g"], {}],
    ["DWARF 4", ["-O2", "-gdwarf-4"], {}],
    ["DWARF 2", ["-O2", "-gdwarf-2"], {}],
    // binutils 2.40 gives rows before the first DW_LNS_set_file DWARF 5's file 0 instead of file 1
    // (gdb and llvm-symbolizer say file 1); at -O0 a header's function starts so.
    ["-O0 (no inlining, frame per statement)", ["-O0", "-g"], { binutils: false }],
    // binutils 2.40 misreads 64-bit DWARF 5 line tables ("offset greater than .debug_line_str size").
    ["64-bit DWARF (-gdwarf64)", ["-O2", "-g", "-gdwarf64"], { binutils: false }],
    ["SHF_COMPRESSED zlib (-gz=zlib)", ["-O2", "-g", "-gz=zlib"], {}],
    // binutils 2.40 cannot read DWARF 5's .zdebug_rnglists: DWARF 4 here.
    ["legacy .zdebug_* (-gz=zlib-gnu)", ["-O2", "-gdwarf-4", "-gz=zlib-gnu"], {}],
  ];
  for (const [what, flags, tools] of flavours) {
    test(what, { skip: GCC }, () => {
      const dir = build(`c-${flags.join("")}`, cSteps("gcc", flags));
      checkAgainstTools(what, join(dir, "bin"), 600, tools);
    });
  }

  test("SHF_COMPRESSED zstd (objcopy --compress-debug-sections=zstd)", () => {
    const dir = build("c-zstd", [
      ...cSteps("gcc", ["-O2", "-g"]),
      ["objcopy", "--compress-debug-sections=zstd", "bin", "bin.zstd"],
    ]);
    const zstd = join(dir, "bin.zstd");
    const hdr = spawnSync("readelf", ["-SW", zstd], { encoding: "utf8" }).stdout;
    if (!/\.debug_info .* C /.test(hdr)) return; // this objcopy does not compress with zstd
    const addrs = sample(instructionAddresses(zstd), 600);
    const ours = ourFrames(zstd, addrs);
    // llvm-symbolizer 14 reads no zstd: it reads the same DWARF uncompressed; binutils reads zstd itself.
    assertAgrees(
      "zstd vs llvm-symbolizer (uncompressed)",
      addrs,
      ours,
      llvmFrames(withoutSymbols(join(dir, "bin")), addrs),
      true,
    );
    assertAgrees("zstd vs addr2line", addrs, ours, binutilsFrames(withoutSymbols(zstd), addrs), false);
  });
});

describe("32-bit DWARF (i386 relocatable objects: 4-byte addresses, REL addends in place)", { skip: noTools }, () => {
  // No 32-bit C library here: objects of a fixture without headers.
  for (
    const [cc, flags] of [["gcc", ["-O2", "-g"]], ["gcc", ["-O2", "-gdwarf-4"]], ["clang", ["-O2", "-g"]]] as const
  ) {
    test(`${cc} -m32 ${flags.join(" ")}`, { skip: cc === "clang" && !haveClang && "clang is not installed" }, () => {
      const dir = build(`m32-${cc}${flags.join("")}`, [[cc, "-m32", ...flags, "-c", "-o", "bin.o", "$F/dw_free.c"]]);
      const hdr = spawnSync("readelf", ["-h", join(dir, "bin.o")], { encoding: "utf8" }).stdout;
      assert.match(hdr, /ELF32/);
      // binutils drops clang's rnglistx inline ranges (see the clang builds below).
      checkAgainstTools(`${cc} -m32`, join(dir, "bin.o"), 600, { binutils: cc !== "clang" });
    });
  }
});

describe("DWARF from g++ -O3 (templates, lambdas, the standard library inlined deep)", {
  skip: noTools || (!haveGxx && "g++ is not installed"),
}, () => {
  test("DWARF 5", () => {
    const dir = build("cpp-O3", [["g++", "-O3", "-g", "-o", "bin", "$F/dw_cpp.cc"]]);
    const { ours } = checkAgainstTools("g++ -O3", join(dir, "bin"), 800);
    const deepest = Math.max(...ours.map((o) => ("reason" in o ? 0 : o.length)));
    assert.ok(deepest >= 5, `inline chains this deep are in the build (deepest ${deepest})`);
  });

  // g++ describes a lambda's out-of-line operator() inside its closure type, inside the entry of the function
  // around it (an abstract instance when that function is inlined or a template): a function the unit's top-level
  // scan does not see. -fno-ipa-sra keeps the operator()s themselves (not clones described at the top level).
  // llvm-symbolizer only: binutils 2.40 takes DWARF 5's file 0 for the rows before the first DW_LNS_set_file
  // (as at -O0 above), here std::function's header functions.
  test("lambdas' operator()s inside their closure types (-O2 -fno-ipa-sra)", () => {
    const dir = build("cpp-lambda", [["g++", "-O2", "-g", "-fno-ipa-sra", "-o", "bin", "$F/dw_lambda.cc"]]);
    const { ours } = checkAgainstTools("g++ lambdas", join(dir, "bin"), 800, { binutils: false });
    // Not vacuous: addresses in each of the three operator()s, with their inlined calls.
    const lambdas = new Set<string>();
    for (const o of ours) {
      if (!("reason" in o) && o.length > 1 && /^_ZZ.*clE/.test(o.at(-1)!.name)) lambdas.add(o.at(-1)!.name);
    }
    assert.equal(lambdas.size, 3, [...lambdas].join());
  });
});

describe("DWARF from clang (DWARF 5 with addrx, rnglistx, strx)", {
  skip: noTools || (!haveClang && "clang is not installed (apt-get install clang)"),
}, () => {
  // binutils 2.40 drops inlined frames whose ranges are rnglistx: llvm-symbolizer only.
  test("C", () => {
    const dir = build("clang-c", cSteps("clang", ["-O2", "-g"]));
    checkAgainstTools("clang", join(dir, "bin"), 600, { binutils: false });
  });
  test("C++ -O3", () => {
    const dir = build("clang-cpp", [["clang++", "-O3", "-g", "-o", "bin", "$F/dw_cpp.cc"]]);
    checkAgainstTools("clang++ -O3", join(dir, "bin"), 800, { binutils: false });
  });
});

describe("discriminators equal llvm-symbolizer's (GNU output)", { skip: noTools }, () => {
  /** Per address, every frame's discriminator against the tool's, where both have the same number of frames. */
  function check(what: string, bin: string, callSites: boolean) {
    const addrs = sample(instructionAddresses(bin), 600);
    const ours = ourFrames(bin, addrs);
    const theirs = llvmDiscriminators(withoutSymbols(bin), addrs);
    let compared = 0, equal = 0, first = 0, later = 0;
    const diffs: string[] = [];
    ours.forEach((o, i) => {
      if ("reason" in o || o.length !== theirs[i].length) return;
      compared++;
      const d = o.map((f) => f.discriminator);
      if (d[0] > 0) first++;
      if (d.slice(1).some((x) => x > 0)) later++;
      if (JSON.stringify(d) === JSON.stringify(theirs[i])) equal++;
      else if (diffs.length < 10) diffs.push(`0x${addrs[i].toString(16)}: ${d} vs ${theirs[i]}`);
    });
    assert.ok(compared >= 0.5 * addrs.length, `${what}: ${compared} of ${addrs.length} compared`);
    assert.ok(equal >= MIN_AGREEMENT * compared, `${what}: ${equal} of ${compared} equal\n  ${diffs.join("\n  ")}`);
    // Not vacuous: loops give rows discriminators; clang's call sites carry their own.
    assert.ok(first > 0, `${what}: some address has a discriminator`);
    if (callSites) assert.ok(later > 0, `${what}: some call site has a discriminator`);
  }
  test("gcc -O2 -g (line rows)", { skip: GCC }, () => {
    check("gcc", join(build("c--O2-g", cSteps("gcc", ["-O2", "-g"])), "bin"), false);
  });
  test("clang -O2 -g -fdebug-info-for-profiling (rows and DW_AT_GNU_discriminator)", {
    skip: !haveClang && "clang is not installed",
  }, () => {
    check(
      "clang",
      join(build("clang-c-prof", cSteps("clang", ["-O2", "-g", "-fdebug-info-for-profiling"])), "bin"),
      true,
    );
  });
});

describe("DWARF from rustc (DWARF 4)", { skip: noTools || (!haveRustc && "rustc is not installed") }, () => {
  test("rustc -g -O", () => {
    const dir = build("rust", [["rustc", "-g", "-O", "-o", "bin", "$F/dw_rust.rs"]]);
    checkAgainstTools("rustc", join(dir, "bin"), 800);
  });
});

/**
 * A split build is checked against llvm-symbolizer on the same sources
 * built without -gsplit-dwarf (the same code: .text compared).
 */
function checkSplit(what: string, splitBin: string, plainBin: string, expectLoads: (loads: string[]) => void) {
  assert.deepEqual(
    sectionBytes(splitBin, ".text"),
    sectionBytes(plainBin, ".text"),
    `${what}: split and plain builds have the same code`,
  );
  const addrs = sample(instructionAddresses(splitBin), 600);
  const { info, loads } = dwarfInfoFor(splitBin);
  const ours = addrs.map((a) => info.findFrames(a));
  assertAgrees(
    `${what} vs llvm-symbolizer (plain build)`,
    addrs,
    ours,
    llvmFrames(withoutSymbols(plainBin), addrs),
    true,
  );
  expectLoads(loads);
}

describe("split DWARF (skeleton units, .dwo files, .dwp packages)", { skip: noTools }, () => {
  const compile = (cc: string, flags: string[]): [string, ...string[]][] => [
    [cc, ...flags, "-gsplit-dwarf", "-c", "$F/dw_main.c", "-o", "dw_main.o"],
    [cc, ...flags, "-gsplit-dwarf", "-c", "$F/dw_other.c", "-o", "dw_other.o"],
    [cc, "-o", "bin", "dw_main.o", "dw_other.o"],
  ];

  test("gcc DWARF 5 with .dwo files", { skip: GCC }, () => {
    const dir = build("split-gcc5", compile("gcc", ["-O2", "-g"]));
    const plain = build("c--O2-g", cSteps("gcc", ["-O2", "-g"]));
    checkSplit("gcc -gsplit-dwarf", join(dir, "bin"), join(plain, "bin"), (loads) => {
      assert.ok(
        loads.some((l) => l.endsWith("dw_main.dwo")) && loads.some((l) => l.endsWith("dw_other.dwo")),
        loads.join(),
      );
    });
    // A budget so small that units are dropped and parsed again: each .dwo is still read once.
    const { info, loads } = dwarfInfoFor(join(dir, "bin"), { maxBytes: 16 << 10 });
    const addrs = instructionAddresses(join(dir, "bin"));
    for (let round = 0; round < 2; round++) for (const a of addrs) info.findFrames(a);
    assert.equal(loads.filter((l) => l.endsWith(".dwo")).length, 2, loads.join());
  });

  test("gcc DWARF 4 (GNU extension) with .dwo files, then with a .dwp package only", { skip: GCC }, () => {
    const dir = build("split-gcc4", compile("gcc", ["-O2", "-gdwarf-4"]));
    const plain = build("c--O2-gdwarf-4", cSteps("gcc", ["-O2", "-gdwarf-4"]));
    checkSplit("gcc -gdwarf-4 -gsplit-dwarf", join(dir, "bin"), join(plain, "bin"), () => {});
    if (!haveDwp) return;
    // The package next to a copy whose skeletons name .dwo files that do not exist.
    const pkg = build("split-gcc4-dwp", [
      ["cp", join(dir, "bin"), "bin"],
      // GNU dwp opens the .dwo files relative to its working directory.
      ["sh", "-c", `cd ${dir} && dwp -e bin -o $D/bin.dwp`],
    ]);
    const { info, loads } = dwarfInfoFor(join(pkg, "bin"));
    const addrs = sample(instructionAddresses(join(pkg, "bin")), 600);
    const ours = addrs.map((a) => info.findFrames(a));
    assertAgrees(
      "gcc DWARF 4 .dwp vs llvm-symbolizer (plain build)",
      addrs,
      ours,
      llvmFrames(withoutSymbols(join(plain, "bin")), addrs),
      true,
    );
    assert.deepEqual(loads, [join(pkg, "bin") + ".dwp"], "the .dwp answers every unit: no .dwo is asked for");
  });

  test("clang DWARF 5 with .dwo files, then with a .dwp package (llvm-dwp)", {
    skip: !haveClang && "clang is not installed",
  }, () => {
    const dir = build("split-clang", compile("clang", ["-O2", "-g"]));
    const plain = build("clang-c", cSteps("clang", ["-O2", "-g"]));
    checkSplit("clang -gsplit-dwarf", join(dir, "bin"), join(plain, "bin"), () => {});
    if (!haveLlvmDwp) return;
    const pkg = build("split-clang-dwp", [["cp", join(dir, "bin"), "bin"], [
      "llvm-dwp",
      "-e",
      join(dir, "bin"),
      "-o",
      "bin.dwp",
    ]]);
    const { info, loads } = dwarfInfoFor(join(pkg, "bin"));
    const addrs = sample(instructionAddresses(join(pkg, "bin")), 600);
    const ours = addrs.map((a) => info.findFrames(a));
    assertAgrees(
      "clang .dwp vs llvm-symbolizer (plain build)",
      addrs,
      ours,
      llvmFrames(withoutSymbols(join(plain, "bin")), addrs),
      true,
    );
    assert.deepEqual(loads, [join(pkg, "bin") + ".dwp"], "the .dwp answers every unit: no .dwo is asked for");
  });

  test("a skeleton whose .dwo is missing still gives its lines, with no function name", { skip: GCC }, () => {
    const dir = build("split-gcc5", compile("gcc", ["-O2", "-g"]));
    const plain = build("c--O2-g", cSteps("gcc", ["-O2", "-g"]));
    const { info } = dwarfInfoFor(join(dir, "bin"), { loadDwo: () => undefined });
    const addrs = sample(instructionAddresses(join(dir, "bin")), 200);
    const truth = llvmFrames(withoutSymbols(join(plain, "bin")), addrs);
    let lines = 0;
    addrs.forEach((a, i) => {
      const r = info.findFrames(a);
      if ("reason" in r) return;
      assert.equal(r.length, 1);
      assert.equal(r[0].name, "");
      // The address's own line is the innermost frame's location.
      const t = truth[i][0];
      assert.deepEqual([r[0].file, r[0].line, r[0].column], [t.file, t.line, t.column]);
      lines++;
    });
    assert.ok(lines > 100, `${lines} addresses had lines`);
  });
});

describe("dwz (a shared supplementary file: DW_FORM_GNU_ref_alt, GNU_strp_alt, partial units)", {
  skip: noTools || (!haveDwz && "dwz is not installed (apt-get install dwz)") || (!haveGxx && "g++ is not installed"),
}, () => {
  const dwzBuild = () =>
    build("dwz", [
      // Two builds of each program: dwz moves what they share to common.dwz.
      ...cSteps("gcc", ["-O2", "-g"]),
      ["gcc", "-O1", "-g", "-o", "bin1", "$F/dw_main.c", "$F/dw_other.c"],
      ["g++", "-O2", "-g", "-o", "cpp", "$F/dw_cpp.cc"],
      ["g++", "-O1", "-g", "-o", "cpp1", "$F/dw_cpp.cc"],
      ["cp", "bin", "bin.plain"],
      ["cp", "cpp", "cpp.plain"],
      ["dwz", "-m", "common.dwz", "-M", "$D/common.dwz", "bin", "bin1", "cpp", "cpp1"],
    ]);
  for (const name of ["bin", "cpp"]) {
    test(`${name}: frames as llvm-symbolizer gives them for the file before dwz`, () => {
      const dir = dwzBuild();
      const bin = join(dir, name);
      const alt = spawnSync("readelf", ["--string-dump=.gnu_debugaltlink", bin], { encoding: "utf8" }).stdout;
      assert.match(alt, /common\.dwz/, "dwz linked the file to the shared file");
      const addrs = sample(instructionAddresses(bin), 800);
      const ours = ourFrames(bin, addrs);
      assertAgrees(
        `dwz ${name} vs llvm-symbolizer (before dwz)`,
        addrs,
        ours,
        llvmFrames(withoutSymbols(`${bin}.plain`), addrs),
        true,
      );
      // Without the shared file, names that live there are unknown ("").
      const { info } = dwarfInfoFor(bin, { alt: undefined });
      const nameless = addrs.filter((a) => {
        const r = info.findFrames(a);
        return !("reason" in r) && r.some((f) => f.name === "");
      });
      assert.ok(nameless.length > 0, "some names come from the dwz file");
    });
  }
});

describe("libc with libc6-dbg's debug file", { skip: noTools }, () => {
  test("sampled addresses of libc.so.6", (t) => {
    const libc = realpathSync("/lib/x86_64-linux-gnu/libc.so.6");
    const debug = installedDebugFile(libc);
    if (!debug) return t.skip("libc6-dbg's debug file for this libc is not installed");
    assert.ok(readFileSync(debug).length > 0);
    const addrs = sample(instructionAddresses(libc), 1500);
    const ours = ourFrames(debug, addrs);
    const bare = withoutSymbols(debug);
    assertAgrees("libc vs llvm-symbolizer", addrs, ours, llvmFrames(bare, addrs), true);
    // binutils 2.40 gives rows before the first DW_LNS_set_file DWARF 5's file 0, not file 1 (gdb and
    // llvm-symbolizer say file 1): in libc's units that #include another .c file the two differ.
    assertAgrees("libc vs addr2line", addrs, ours, binutilsFrames(bare, addrs), { columns: false, files: false });
  });
});
