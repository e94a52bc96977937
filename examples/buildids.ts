#!/usr/bin/env -S deno run --allow-ffi
/**
 * buildids: the ELF build IDs of what processes run, as `perf buildid-list`
 * lists them for a recording of those processes: the kernel
 * (`[kernel.kallsyms]`), then each file mapped executable and the vDSO
 * (`[vdso]`), in address order.
 *
 *   deno run --allow-ffi examples/buildids.ts [pid|self]... [--all] [-k] [--json]
 */
import process from "node:process";
import { ProcMaps, type Vma } from "../mod.ts";
import { getLibc } from "../ffi/mod.ts";
import { notesBuildId } from "../src/elf/build_id.ts";
import { readVdsoImage, vdsoBuildId } from "../src/symbolize/vdso.ts";
import { toHex } from "../src/util/names.ts";
import { escapeName, parseCli, parsePid, readProcFile, reportError, usageError } from "./cli.ts";

const PROG = "buildids";
const USAGE = `usage: buildids.ts [pid|self]... [--all] [-k] [--json]

Prints "<build id> <path>" for what the processes (default: this one) run, as
perf buildid-list prints it for a perf record of them: the running kernel as
[kernel.kallsyms] first, then each file the processes map executable that has
an ELF build ID, and the vDSO as [vdso], in address order, each once.
  --all         every mapped file, executable or not, with "-" for none
  -k, --kernel  only the running kernel's build ID (as perf buildid-list -k)
  --json        one JSON object per line: {"buildId","path","pids",...}
                (raw names; dev as hex major:minor and inode for files)
Paths appear as the kernel's maps print them (a newline as \\012).
Exit status: 0, or 1 when a process could not be read, 2 for a bad argument.`;

const { values: opt, positionals } = parseCli(PROG, USAGE, {
  all: { type: "boolean" },
  kernel: { type: "boolean", short: "k" },
  json: { type: "boolean" },
}, true);
if (opt.kernel && positionals.length > 0) usageError(PROG, "-k takes no process id");
const pids = (positionals.length ? positionals : ["self"]).map((a) => parsePid(PROG, a));

const hex2 = (n: number) => n.toString(16).padStart(2, "0");

/** One line of the listing. */
interface Entry {
  buildId: string | undefined;
  path: string;
  /** The processes that map it, in the order given. */
  pids: number[];
  /** Files: the device (hex major:minor) and inode that identify them. */
  dev?: string;
  inode?: string;
}

/** The running kernel's build ID, from its notes in /sys/kernel/notes (what perf reads); undefined if unreadable. */
function kernelBuildId(): string | undefined {
  const notes = readProcFile("/sys/kernel/notes", 1 << 16);
  const id = notes && notesBuildId(notes);
  return id ? toHex(id, id.length) : undefined;
}

/** The vDSO's build ID, from its image in the process's memory (needs the access smaps needs). */
function vdsoId(maps: ProcMaps, pid: number, vdso: Vma): string | undefined {
  const image = readVdsoImage(getLibc(), pid, vdso.start, vdso.end);
  // The memory was read by pid: the handle's query fails (ESRCH) if that is no longer its process.
  maps.query(vdso.start);
  return image ? vdsoBuildId(image) ?? undefined : undefined;
}

function main(): number {
  if (opt.kernel) {
    const id = kernelBuildId();
    if (id === undefined) {
      console.error(`${PROG}: cannot read the kernel's build ID from /sys/kernel/notes`);
      return 1;
    }
    console.log(opt.json ? JSON.stringify({ buildId: id, path: "[kernel.kallsyms]", pids: [] }) : id);
    return 0;
  }
  let status = 0;
  const entries = new Map<string, Entry>();
  const add = (key: string, e: Omit<Entry, "pids">, pid: number) => {
    const seen = entries.get(key);
    if (!seen) entries.set(key, { ...e, pids: [pid] });
    else if (!seen.pids.includes(pid)) seen.pids.push(pid);
  };
  const kernel = kernelBuildId();
  if (kernel !== undefined) entries.set("kernel", { buildId: kernel, path: "[kernel.kallsyms]", pids: [] });
  for (const p of pids) {
    const pid = p === "self" ? process.pid : p;
    try {
      using maps = ProcMaps.open(pid);
      const vmas = [...maps.vmasSync({ buildId: true })];
      // A file is listed when any of its mappings is executable (perf records executable mappings only).
      const executable = new Set(vmas.filter((v) => v.executable).map((v) => fileKey(v)));
      for (const v of vmas) {
        if (v.name === "[vdso]") {
          const id = vdsoId(maps, pid, v);
          if (id !== undefined || opt.all) add(`vdso:${id}`, { buildId: id, path: "[vdso]" }, pid);
          continue;
        }
        if (!v.fileBacked) continue;
        if (!opt.all && (v.buildId === undefined || !executable.has(fileKey(v)))) continue;
        add(`${fileKey(v)}:${v.buildId}`, {
          buildId: v.buildId,
          path: v.name ?? "",
          dev: `${hex2(v.devMajor)}:${hex2(v.devMinor)}`,
          inode: `${v.inode}`,
        }, pid);
      }
    } catch (e) {
      status = reportError(PROG, e);
    }
  }
  for (const e of entries.values()) {
    if (opt.json) console.log(JSON.stringify(e));
    else console.log(`${e.buildId ?? "-".padEnd(40)} ${escapeName(e.path)}`);
  }
  return status;
}

/** A file's identity: its device and inode. */
function fileKey(v: Vma): string {
  return `${v.devMajor}:${v.devMinor}:${v.inode}`;
}

process.exitCode = main();
