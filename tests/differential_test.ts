/**
 * Differential test: the text backend and the ioctl backend return the same
 * VMAs, every field (name, build ID and page size included), for this
 * process, for the mapper child and for every process on the machine this
 * test may read. A live map may change between reads, so the text is read
 * between two ioctl walks, and compared only once those two agree.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { ProcMaps, ProcMapsError, type Vma } from "../mod.ts";
import { IOCTL_SKIP } from "./helpers/backends.ts";
import { isRoot } from "./helpers/runtime.ts";
import { type MapperInfo, type Started, startMapper } from "./helpers/child.ts";

type Pid = number | "self";

function walk(pid: Pid, backend: "ioctl" | "text"): Vma[] {
  using maps = ProcMaps.open(pid, { backend });
  return [...maps.vmasSync({ buildId: true })];
}

function same(a: Vma[], b: Vma[]): boolean {
  try {
    assert.deepEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

/**
 * Both backends' lists read at one moment, or undefined when the process
 * kept changing for `attempts` tries.
 */
function stableLists(pid: Pid, attempts: number): { ioctl: Vma[]; text: Vma[] } | undefined {
  for (let i = 0; i < attempts; i++) {
    const before = walk(pid, "ioctl");
    const text = walk(pid, "text");
    const after = walk(pid, "ioctl");
    if (same(before, after)) return { ioctl: after, text };
  }
  return undefined;
}

/**
 * Compares with a message that names the first differing VMA. Without root,
 * the text backend cannot open /proc/<pid>/map_files, so it cannot read the
 * build ID of a deleted or unreadable file that the kernel still reads: a
 * missing text build ID is accepted there, and only there.
 */
function assertSameVmas(text: Vma[], ioctl: Vma[], who: string): void {
  const n = Math.min(text.length, ioctl.length);
  for (let i = 0; i < n; i++) {
    const k = !isRoot && text[i].buildId === undefined ? { ...ioctl[i], buildId: undefined } : ioctl[i];
    const t = k === ioctl[i] ? text[i] : { ...text[i] };
    assert.deepEqual(t, k, `${who}: VMA ${i} (${ioctl[i].toString()})`);
  }
  assert.equal(text.length, ioctl.length, `${who}: number of VMAs`);
}

let mapper: Started<MapperInfo> | undefined;
before(async () => {
  if (!IOCTL_SKIP) mapper = await startMapper(true);
});
after(() => mapper?.stop());

test("differential: this process, text backend equals ioctl backend", { skip: IOCTL_SKIP }, () => {
  const lists = stableLists("self", 20);
  assert.ok(lists, "this process's map settled between two ioctl walks");
  assertSameVmas(lists.text, lists.ioctl, "self");
  assert.ok(lists.ioctl.some((v) => v.buildId), "some VMA has a build ID");
});

test("differential: the mapper child, text backend equals ioctl backend", { skip: IOCTL_SKIP }, () => {
  const lists = stableLists(mapper!.pid, 5);
  assert.ok(lists, "the mapper's map settled");
  assertSameVmas(lists.text, lists.ioctl, "mapper");
  const names = new Set(lists.ioctl.map((v) => v.name));
  assert.ok(names.has(mapper!.info.overlong!.path!), "the name longer than PATH_MAX was compared");
  assert.ok(names.has("/dev/zero (deleted)") && names.has("/memfd:procmap-test (deleted)"));
});

/** Pids of user-space processes: kernel threads have an empty maps text. */
function userProcesses(): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/maps`).length > 0) out.push(Number(entry));
    } catch {
      // exited, or not ours to read
    }
  }
  return out;
}

/** Errors that mean "this process is gone or off limits", not a disagreement. */
function unreadable(e: unknown): boolean {
  return e instanceof ProcMapsError && ["ESRCH", "EACCES", "EPERM"].includes(e.code);
}

test("differential: every readable process on the machine, text backend equals ioctl backend", {
  skip: IOCTL_SKIP,
  // Hundreds of processes on a loaded shared machine take minutes (Bun's default is 60 s a test).
  timeout: 600_000,
}, () => {
  let compared = 0;
  const unsettled: number[] = [];
  for (const pid of userProcesses()) {
    let lists;
    try {
      lists = stableLists(pid, 4);
    } catch (e) {
      if (unreadable(e)) continue;
      throw e;
    }
    if (!lists) {
      unsettled.push(pid); // its map kept changing (a busy JIT, an allocator)
      continue;
    }
    // A process that exited meanwhile leaves both lists empty.
    if (lists.ioctl.length === 0 && lists.text.length === 0) continue;
    assertSameVmas(lists.text, lists.ioctl, `pid ${pid}`);
    compared++;
  }
  assert.ok(compared > 0, `compared ${compared} processes (${unsettled.length} kept changing)`);
});
