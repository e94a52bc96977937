#!/usr/bin/env -S deno run --allow-ffi
/**
 * pmap: the memory map of processes, in the formats of procps `pmap`
 * (default, -x, -X, -XX, -d), or as JSON.
 *
 *   deno run --allow-ffi examples/pmap.ts [-x | -X | -XX | -d] [-q] [-p] <pid|self>...
 *   bun examples/pmap.ts -x <pid>
 */
import process from "node:process";
import { ProcMaps, type SmapsEntry, type Vma } from "../mod.ts";
import { escapeName, messagePrefix, parseCli, parsePid, readProcFile, reportError, usageError } from "./cli.ts";
import { knownLayout, parseLayout, smapsColumns, type SmapsLayout } from "./smaps_columns.ts";

const PROG = "pmap";
const USAGE = `usage: pmap.ts [options] <pid|self>...

Prints the memory map of each process, as procps pmap does.
  -x, --extended      RSS and dirty size of each mapping (from smaps)
  -X                  the smaps fields pmap -X shows; -XX: every field the kernel prints
  -d, --device        offset and device of each mapping, and the mapped,
                      writeable/private and shared totals
  -q, --quiet         no column header and no totals
  -p, --show-path     the whole path of each file, not its last component
  -A, --range <low>[,<high>]
                      only the mappings that overlap addresses low to high
                      (hex; either may be left out; one address: that one)
  --build-id          each file's ELF build ID (default and -d formats)
  --json              one JSON object per process per line: its VMAs as
                      the library's JSON (names raw, sizes in bytes)
  --backend <b>       auto (default), ioctl or text
Names appear as the kernel's maps print them (a newline as \\012).
Exit status: 0, or 1 when a process could not be shown (procps pmap: 42 when
none could, 1 when some could not), 2 for a bad argument.`;

const { values: opt, positionals } = parseCli(PROG, USAGE, {
  extended: { type: "boolean", short: "x" },
  X: { type: "boolean", short: "X", multiple: true },
  device: { type: "boolean", short: "d" },
  quiet: { type: "boolean", short: "q" },
  "show-path": { type: "boolean", short: "p" },
  range: { type: "string", short: "A" },
  "build-id": { type: "boolean" },
  json: { type: "boolean" },
  backend: { type: "string" },
}, true);

const xLevel = opt.X?.length ?? 0;
if (xLevel > 2) usageError(PROG, "-X may be given at most twice (-XX)");
if ([opt.extended, xLevel > 0, opt.device].filter(Boolean).length > 1) {
  usageError(PROG, "options -d, -x, -X are mutually exclusive");
}
if (opt["build-id"] && (opt.extended || xLevel > 0)) {
  usageError(PROG, "--build-id goes with the default and -d formats");
}
const backend = (opt.backend ?? "auto") as "auto" | "ioctl" | "text";
if (!["auto", "ioctl", "text"].includes(backend)) {
  usageError(PROG, `--backend must be auto, ioctl or text, not ${JSON.stringify(backend)}`);
}
if (positionals.length === 0) usageError(PROG, "no process id given");
const pids = positionals.map((a) => parsePid(PROG, a));
const smaps = opt.extended || xLevel > 0;
const showPath = opt["show-path"] ?? false;
const quiet = opt.quiet ?? false;
const range = opt.range === undefined ? undefined : parseRange(opt.range);

/**
 * `-A low,high` as procps reads it: hex (with or without 0x), either side
 * may be empty (0 and the top of the address space), one address alone is
 * both ends.
 */
function parseRange(arg: string): { low: bigint; high: bigint } {
  const comma = arg.indexOf(",");
  const [a, b] = comma < 0 ? [arg, arg] : [arg.slice(0, comma), arg.slice(comma + 1)];
  const hex = (x: string, dflt: bigint) => {
    if (x === "") return dflt;
    const m = /^(?:0[xX])?([0-9a-fA-F]{1,16})$/.exec(x);
    if (!m) usageError(PROG, `-A needs hex addresses low,high, not ${JSON.stringify(arg)}`);
    return BigInt("0x" + m[1]);
  };
  return { low: hex(a, 0n), high: hex(b, (1n << 64n) - 1n) };
}

/** Whether `v` is shown under -A: procps skips a VMA ending at or below low, and stops at one starting above high. */
const inRange = (v: Vma) => range === undefined || (v.end - 1n >= range.low && v.start <= range.high);

const hex = (n: bigint | number, width: number) => n.toString(16).padStart(width, "0");
const kb = (bytes: bigint | number | undefined) => (BigInt(bytes ?? 0) >> 10n).toString();

/**
 * The command line as pmap prints it: arguments joined by spaces, control
 * characters as '?'; a process without one (a kernel thread, a zombie) as
 * its name in brackets, `[kthreadd]`.
 */
function cmdline(pid: number): string {
  const raw = readProcFile(`/proc/${pid}/cmdline`);
  const decoder = new TextDecoder();
  // deno-lint-ignore no-control-regex
  const printable = (s: string) => s.replaceAll("\n", " ").replace(/[\x00-\x1f\x7f]/g, "?");
  if (raw === undefined || raw.length === 0) {
    const comm = readProcFile(`/proc/${pid}/comm`);
    return comm === undefined ? "" : `[${printable(decoder.decode(comm).replace(/\n$/, ""))}]`;
  }
  return printable(decoder.decode(raw).replace(/\0$/, "").split("\0").join(" "));
}

/** The mapping column of the default, -x and -d formats, as pmap names it. */
function mapping(v: Vma): string {
  const name = v.name ?? "";
  if (v.devMajor === 0 && name.startsWith("/SYSV")) return `  [ shmid=0x${v.inode.toString(16)} ]`;
  const slash = name.lastIndexOf("/");
  if (slash >= 0) {
    if (showPath) return escapeName(name.slice(name.indexOf("/")));
    return escapeName(slash === name.length - 1 ? "/" : name.slice(slash + 1));
  }
  return name === "[stack]" ? "  [ stack ]" : "  [ anon ]";
}

/** pmap's mode column: rwx, then s or -, then - (no swap reservation shown). */
const mode = (v: Vma) => v.perms.slice(0, 3) + (v.shared ? "s" : "-") + "-";

function printDefault(vmas: Vma[]): void {
  for (const v of vmas) {
    let line = `${hex(v.start, 16)} ${kb(v.size).padStart(6)}K ${mode(v)} ${mapping(v)}`;
    if (v.buildId) line += `  (build id ${v.buildId})`;
    console.log(line);
  }
  if (!quiet) console.log(` total ${kb(sum(vmas.map((v) => v.size))).padStart(16)}K`);
}

function printDevice(vmas: Vma[]): void {
  if (!quiet) console.log("Address           Kbytes Mode  Offset           Device    Mapping");
  let writeablePrivate = 0n, shared = 0n;
  for (const v of vmas) {
    if (v.shared) shared += v.size;
    else if (v.writable) writeablePrivate += v.size;
    let line = `${hex(v.start, 16)} ${kb(v.size).padStart(7)} ${mode(v)} ${hex(v.offset, 16)} ` +
      `${hex(v.devMajor, 3)}:${hex(v.devMinor, 5)} ${mapping(v)}`;
    if (v.buildId) line += `  (build id ${v.buildId})`;
    console.log(line);
  }
  if (!quiet) {
    console.log(
      `mapped: ${kb(sum(vmas.map((v) => v.size)))}K    writeable/private: ${kb(writeablePrivate)}K    ` +
        `shared: ${kb(shared)}K`,
    );
  }
}

function printExtended(entries: SmapsEntry[]): void {
  if (!quiet) console.log("Address           Kbytes     RSS   Dirty Mode  Mapping");
  let rss = 0, dirty = 0;
  for (const e of entries) {
    const d = (e.sharedDirty ?? 0) + (e.privateDirty ?? 0);
    rss += e.rss ?? 0;
    dirty += d;
    console.log(
      `${hex(e.vma.start, 16)} ${kb(e.vma.size).padStart(7)} ${kb(e.rss).padStart(7)} ${kb(d).padStart(7)} ` +
        `${mode(e.vma)} ${mapping(e.vma)}`,
    );
  }
  if (!quiet) {
    console.log("---------------- ------- ------- ------- ");
    const size = sum(entries.map((e) => e.vma.size));
    console.log(`${"total kB".padEnd(16)} ${kb(size).padStart(7)} ${kb(rss).padStart(7)} ${kb(dirty).padStart(7)}`);
  }
}

/**
 * The kernel's smaps fields in its order, as procps takes them from the
 * text: from this process's own smaps (one kernel prints the same fields
 * for every VMA of every process), so that -XX shows fields this program
 * does not know too. Read once, only its start.
 */
function kernelLayout(first: SmapsEntry | undefined): SmapsLayout {
  const raw = readProcFile("/proc/self/smaps", 65536);
  const layout = raw && parseLayout(new TextDecoder().decode(raw));
  if (layout && layout.fields.length > 0) return layout;
  console.error(
    `${messagePrefix(PROG)}: cannot read /proc/self/smaps for the kernel's field order: showing the fields it knows`,
  );
  return knownLayout(first);
}

/** pmap -X / -XX: a column per smaps field, widths fitted to the values and totals. */
function printSmaps(entries: SmapsEntry[], all: boolean): void {
  // No VMA (a kernel thread): procps prints no table at all.
  if (entries.length === 0) return;
  const layout = kernelLayout(entries[0]);
  const cols = smapsColumns(layout, all);
  const rows = entries.map((e) => ({
    start: hex(e.vma.start, 8),
    perms: e.vma.perms,
    offset: hex(e.vma.offset, 8),
    dev: `${hex(e.vma.devMajor, 2)}:${hex(e.vma.devMinor, 2)}`,
    inode: e.vma.inode.toString(),
    values: cols.map((c) => String(c.value(e) ?? 0)),
    flags: (e.vmFlags ?? []).join(" "),
    name: escapeName(e.vma.name ?? ""),
  }));
  // A column of text (a field of a newer kernel that is not a number) has no total.
  const totals = cols.map((_, i) => {
    const t = rows.reduce((s, r) => s + Number(r.values[i]), 0);
    return Number.isNaN(t) ? "" : String(t);
  });
  const width = (title: string, xs: string[]) => Math.max(quiet ? 0 : title.length, ...xs.map((x) => x.length));
  const wAddr = width("Address", rows.map((r) => r.start));
  const wPerm = width("Perm", rows.map((r) => r.perms));
  const wOff = width("Offset", rows.map((r) => r.offset));
  const wDev = width("Device", rows.map((r) => r.dev));
  const wInode = width("Inode", rows.map((r) => r.inode));
  const wCols = cols.map((c, i) =>
    Math.max(width(c.title, rows.map((r) => r.values[i])), quiet ? 0 : totals[i].length)
  );
  const hasFlags = all && layout.vmFlags;
  const wFlags = width("VmFlags", rows.map((r) => r.flags));
  if (!quiet) {
    let h = `${"Address".padStart(wAddr)} ${"Perm".padStart(wPerm)} ${"Offset".padStart(wOff)} ` +
      `${"Device".padStart(wDev)} ${"Inode".padStart(wInode)} `;
    cols.forEach((c, i) => h += c.title.padStart(wCols[i]) + " ");
    if (hasFlags) h += "VmFlags".padStart(wFlags) + " ";
    console.log(h + "Mapping");
  }
  for (const r of rows) {
    let line = `${r.start.padStart(wAddr)} ${r.perms.padStart(wPerm)} ${r.offset.padStart(wOff)} ` +
      `${r.dev.padStart(wDev)} ${r.inode.padStart(wInode)}`;
    r.values.forEach((v, i) => line += " " + v.padStart(wCols[i]));
    if (hasFlags) line += " " + r.flags.padStart(wFlags);
    const slash = r.name.lastIndexOf("/");
    line += " " +
      (showPath || slash < 0 ? r.name.slice(Math.max(0, showPath ? r.name.indexOf("/") : 0)) : r.name.slice(slash + 1));
    console.log(line);
  }
  if (!quiet && cols.length > 0) {
    const gap = " ".repeat(wAddr + wPerm + wOff + wDev + wInode + 5);
    console.log(gap + wCols.map((w) => "=".repeat(w) + " ").join(""));
    console.log(gap + totals.map((t, i) => t.padStart(wCols[i]) + " ").join("") + "KB ");
  }
}

function sum(xs: bigint[]): bigint {
  return xs.reduce((s, x) => s + x, 0n);
}

/**
 * One process as JSON: each VMA as `Vma.toJSON()` gives it (with -x/-X/-XX
 * its smaps figures in bytes as `memory`), the pid a number.
 */
function toJson(pid: number, cmd: string, backendUsed: string, vmas: Vma[], entries: SmapsEntry[] | undefined) {
  return {
    pid,
    cmdline: cmd,
    backend: backendUsed,
    totalKb: Number(sum(vmas.map((v) => v.size)) / 1024n),
    vmas: entries
      ? entries.map((e) => {
        const { vma, ...memory } = e.toJSON();
        return { ...(vma as object), memory };
      })
      : vmas.map((v) => v.toJSON()),
  };
}

function main(): number {
  let status = 0;
  for (const p of pids) {
    const pid = p === "self" ? process.pid : p;
    try {
      using maps = ProcMaps.open(pid, { backend });
      const cmd = cmdline(pid);
      let entries: SmapsEntry[] | undefined;
      let vmas: Vma[];
      if (smaps) {
        entries = [...maps.smapsSync()].filter((e) => inRange(e.vma));
        vmas = entries.map((e) => e.vma);
      } else {
        vmas = [...maps.vmasSync({ buildId: opt["build-id"] ?? false })].filter(inRange);
      }
      if (opt.json) {
        console.log(JSON.stringify(toJson(pid, cmd, maps.backend, vmas, entries)));
        continue;
      }
      console.log(`${pid}:   ${cmd}`);
      if (xLevel > 0) printSmaps(entries!, xLevel === 2);
      else if (opt.extended) printExtended(entries!);
      else if (opt.device) printDevice(vmas);
      else printDefault(vmas);
    } catch (e) {
      status = reportError(PROG, e);
    }
  }
  return status;
}

process.exitCode = main();
