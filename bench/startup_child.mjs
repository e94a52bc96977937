// Case 9's fresh process: `empty` does nothing (the runtime's own start-up), `import` imports
// procmap, `symbolize` imports it and symbolizes one address of libc's code (with libc6-dbg's
// debug file), `warm` does the same after symbolizing an address of the dynamic loader (another
// file with its own debug file: procmap's code has run once, libc's tables are still to read). Prints one JSON line: wall-clock and main-thread CPU time of the import and the
// first symbolize() (CPU time from /proc/thread-self/schedstat: what the process itself ran,
// not the time it waited for a CPU on a shared machine).
//   <runtime> bench/startup_child.mjs <mode> <entry module>
const Deno = globalThis.Deno;
// Deno reads through its own API: node:fs would load Deno's Node layer into every mode (~20 ms), which a Deno
// program that does not use it never pays, and which would hide any of it procmap's import brings in.
const fs = Deno ? undefined : await import("node:fs");
const readText = (path) => (Deno ? Deno.readTextFileSync(path) : fs.readFileSync(path, "utf8"));

const args = Deno ? Deno.args : process.argv.slice(2);
const [mode, entry] = args;
const cpu = () => Number(readText("/proc/thread-self/schedstat").split(" ")[0]) / 1e6;
const out = { mode };
if (mode !== "empty") {
  const w0 = performance.now(), c0 = cpu();
  const { ProcMaps } = await import(entry);
  out.importMs = performance.now() - w0;
  out.importCpuMs = cpu() - c0;
  if (mode === "symbolize" || mode === "warm" || mode === "nolines") {
    const maps = ProcMaps.open("self");
    // Code of libc (and of ld.so): executable VMAs, from the text (not timed: the open and this are not the symbolize).
    const code = (re) => {
      const line = readText("/proc/self/maps").split("\n").find((l) => / r-xp /.test(l) && re.test(l));
      if (!line) throw new Error(`no ${re} code mapped in this process`);
      return BigInt("0x" + line.split("-")[0]) + 0x1000n;
    };
    const addr = code(/\/libc\.so/);
    if (mode === "warm") out.warmup = maps.symbolize([code(/\/ld-linux/)])[0]?.symbol?.source;
    const w1 = performance.now(), c1 = cpu();
    const [r] = maps.symbolize([addr], mode === "nolines" ? { lines: false } : undefined);
    out.symbolizeMs = performance.now() - w1;
    out.symbolizeCpuMs = cpu() - c1;
    out.symbol = r?.symbol?.name;
    // The ELF address, for the DWARF floor bench/startup.mjs measures (the unit that covers it).
    if (r?.elfAddr !== undefined) out.elfAddr = `0x${r.elfAddr.toString(16)}`;
    out.source = r?.symbol?.source;
    maps.close();
  }
}
console.log(JSON.stringify(out));
