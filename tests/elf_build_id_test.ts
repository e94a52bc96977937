/**
 * Build IDs of the text backend (read from the mapped files in user space)
 * against the kernel's (PROCMAP_QUERY with buildId: true): for every file
 * this process maps, and for hand-made ELF files, valid and broken, mapped
 * by a child.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProcMaps, type Vma } from "../mod.ts";
import { IOCTL_SKIP } from "./helpers/backends.ts";
import { compileC, startChild, type Started } from "./helpers/child.ts";
import { haveReadelf, readelfBuildId } from "./helpers/elf_notes.ts";
import { isRoot } from "./helpers/runtime.ts";
import {
  buildElf,
  concat,
  counting,
  ET_DYN,
  ET_EXEC,
  ET_REL,
  gnuBuildIdNote,
  note,
  NT_GNU_BUILD_ID,
  PT_LOAD,
  PT_NOTE,
  simpleElf,
} from "./helpers/elf_files.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** VMAs keyed by range and file, with their build IDs, from one backend. */
function fileVmas(pid: number | "self", backend: "ioctl" | "text"): Map<string, Vma> {
  using maps = ProcMaps.open(pid, { backend });
  const out = new Map<string, Vma>();
  for (const v of maps.vmasSync({ fileBacked: true, buildId: true })) out.set(`${v.start}-${v.end} ${v.inode}`, v);
  return out;
}

interface Case {
  name: string;
  bytes: Uint8Array;
  /** Written to tmpfs (/dev/shm) rather than the temp dir's file system. */
  tmpfs?: boolean;
  /** Once mapped, the file is deleted, or replaced by another ELF file renamed over its path. */
  then?: "unlink" | "replace";
  /** The build ID this hand-made file plainly has (hex, or undefined for none), when beyond doubt. */
  known?: string | undefined;
}

const id20 = counting(20, 0xa0);
const cases: Case[] = [];
const add = (name: string, bytes: Uint8Array, ...known: [] | [string | undefined]) =>
  cases.push(known.length ? { name, bytes, known: known[0] } : { name, bytes });

add("64-bit LE ET_DYN with a GNU build-ID note", simpleElf({ notes: gnuBuildIdNote(id20) }), hex(id20));
add("32-bit LE ET_DYN", simpleElf({ bits: 32, notes: gnuBuildIdNote(id20) }), hex(id20));
add("64-bit ET_EXEC", simpleElf({ type: ET_EXEC, notes: gnuBuildIdNote(id20) }), hex(id20));
add(
  "program headers far from the ELF header",
  buildElf({
    phoff: 0x800n,
    phdrs: [{ type: PT_NOTE, offset: 0x100n, filesz: 36n }],
    chunks: [{ at: 0x100, bytes: gnuBuildIdNote(id20) }],
  }),
  hex(id20),
);
add("a note crossing a page boundary", simpleElf({ notes: gnuBuildIdNote(id20), noteAt: 4096 - 20 }), hex(id20));
// The kernel reads headers in its own byte order, whatever EI_DATA says.
add("big-endian 64-bit ELF", simpleElf({ bigEndian: true, notes: gnuBuildIdNote(id20, true) }));
add("big-endian 32-bit ELF", simpleElf({ bits: 32, bigEndian: true, notes: gnuBuildIdNote(id20, true) }));
add("ET_REL", simpleElf({ type: ET_REL, notes: gnuBuildIdNote(id20) }), undefined);
add("not ELF at all", new TextEncoder().encode("#!/bin/sh\necho this is not an ELF file\n".repeat(20)), undefined);
add(
  "ELF magic with a bad class",
  (() => {
    const b = simpleElf({ notes: gnuBuildIdNote(id20) });
    b[4] = 3;
    return b;
  })(),
  undefined,
);
add("16-byte file (ELF magic, nothing else)", buildElf({ phdrs: [] }).slice(0, 16), undefined);
add(
  "a non-GNU note first, then the GNU one",
  simpleElf({ notes: concat(note({ name: "Go\0\0", type: 4, desc: counting(12) }), gnuBuildIdNote(id20)) }),
  hex(id20),
);
add(
  "a GNU note of another type first, then the build ID",
  simpleElf({ notes: concat(note({ name: "GNU\0", type: 1, desc: counting(16) }), gnuBuildIdNote(id20)) }),
  hex(id20),
);
add("descsz 0", simpleElf({ notes: gnuBuildIdNote(new Uint8Array(0)) }), undefined);
add("descsz 1", simpleElf({ notes: gnuBuildIdNote(counting(1, 0x42)) }), "42");
add("descsz 16 (md5 build ID)", simpleElf({ notes: gnuBuildIdNote(counting(16, 0x10)) }), hex(counting(16, 0x10)));
add("descsz 20", simpleElf({ notes: gnuBuildIdNote(counting(20, 0x30)) }), hex(counting(20, 0x30)));
add("descsz 21 (too long for the kernel)", simpleElf({ notes: gnuBuildIdNote(counting(21)) }), undefined);
add("descsz 32", simpleElf({ notes: gnuBuildIdNote(counting(32)) }), undefined);
add(
  "descsz 32 then a 20-byte build ID",
  simpleElf({ notes: concat(gnuBuildIdNote(counting(32)), gnuBuildIdNote(id20)) }),
  hex(id20),
);
add("namesz 5", simpleElf({ notes: note({ name: "GNU\0\0", type: NT_GNU_BUILD_ID, desc: id20 }) }), undefined);
add(
  'namesz 3 ("GNU" without its NUL)',
  simpleElf({ notes: note({ name: "GNU", type: NT_GNU_BUILD_ID, desc: id20 }) }),
  undefined,
);
add(
  'name "GNUX" (namesz 4, no NUL)',
  simpleElf({ notes: note({ name: "GNUX", type: NT_GNU_BUILD_ID, desc: id20 }) }),
  undefined,
);
add('name "gnu\\0"', simpleElf({ notes: note({ name: "gnu\0", type: NT_GNU_BUILD_ID, desc: id20 }) }), undefined);
add("descsz larger than the note segment", simpleElf({ notes: gnuBuildIdNote(id20), filesz: 30n }), undefined);
add("note segment one byte longer than needed", simpleElf({ notes: gnuBuildIdNote(id20), filesz: 37n }), hex(id20));
add("note segment of exactly 16 bytes", simpleElf({ notes: gnuBuildIdNote(id20), filesz: 16n }), undefined);

/** A file with `phnum` program headers, PT_NOTE only at index `noteIndex`. */
function manyPhdrs(phnum: number, noteIndex: number): Uint8Array {
  const noteAt = 64 + phnum * 56 + 8;
  const phdrs = Array.from(
    { length: phnum },
    (_, i) =>
      i === noteIndex
        ? { type: PT_NOTE, offset: BigInt(noteAt), filesz: 36n }
        : { type: PT_LOAD, offset: 0n, filesz: 64n },
  );
  return buildElf({ phdrs, chunks: [{ at: noteAt, bytes: gnuBuildIdNote(id20) }] });
}
add("phnum 300, note in header 200", manyPhdrs(300, 200), hex(id20));
add("phnum 300, note in header 255 (the last scanned)", manyPhdrs(300, 255), hex(id20));
add("phnum 300, note in header 256 (past the kernel's limit)", manyPhdrs(300, 256), undefined);
add("phnum 300, note in header 280", manyPhdrs(300, 280), undefined);
add(
  "phnum larger than the headers in the file",
  buildElf({
    phdrs: [{ type: PT_NOTE, offset: 0x100n, filesz: 36n }],
    phnum: 200,
    chunks: [{ at: 0x100, bytes: gnuBuildIdNote(id20) }],
  }),
  hex(id20),
);

// p_filesz is cut to 32 bits by the kernel (Elf32_Word note_size).
add("p_filesz 2^32 + 36", simpleElf({ notes: gnuBuildIdNote(id20), filesz: (1n << 32n) + 36n }));
add("p_filesz 2^64 - 1", simpleElf({ notes: gnuBuildIdNote(id20), filesz: (1n << 64n) - 1n }));
add("p_filesz 0xffffffff", simpleElf({ notes: gnuBuildIdNote(id20), filesz: 0xffffffffn }));
add("p_filesz 1 MiB (past EOF)", simpleElf({ notes: gnuBuildIdNote(id20), filesz: 1n << 20n }));
add("p_filesz 0x7fffffff", simpleElf({ notes: gnuBuildIdNote(id20), filesz: 0x7fffffffn }));
add("32-bit, p_filesz 0xffffffff", simpleElf({ bits: 32, notes: gnuBuildIdNote(id20), filesz: 0xffffffffn }));
add("p_offset 2^63 (negative as loff_t)", simpleElf({ notes: gnuBuildIdNote(id20), offset: 1n << 63n }));
add("p_offset 2^32 + 0x200", simpleElf({ notes: gnuBuildIdNote(id20), offset: (1n << 32n) + 0x200n }));
add(
  "e_phoff 2^64 - 8",
  buildElf({
    phoff: (1n << 64n) - 8n,
    phdrs: [],
    phnum: 1,
    chunks: [{ at: 0x200, bytes: gnuBuildIdNote(id20) }],
  }),
);

// Reads past the end of the file.
const full = simpleElf({ notes: gnuBuildIdNote(id20) });
add("descriptor cut by EOF (8 of 20 bytes present)", full.slice(0, 0x200 + 16 + 8));
add("descriptor starts at EOF", full.slice(0, 0x200 + 16));
add("note header cut by EOF", full.slice(0, 0x200 + 10));
add("note segment past EOF", simpleElf({ notes: gnuBuildIdNote(id20), offset: 0x10000n }));
add("note segment starts past EOF in the last page", simpleElf({ notes: gnuBuildIdNote(id20), offset: 0x400n }));
add(
  "descriptor crosses into the page after EOF",
  simpleElf({ notes: gnuBuildIdNote(id20), noteAt: 4096 - 24, size: 4096 }),
);
add(
  "note header crosses into the page after EOF",
  simpleElf({ notes: gnuBuildIdNote(id20), noteAt: 4096 - 8, size: 4096 }),
);
add("program headers cut by EOF", simpleElf({ notes: gnuBuildIdNote(id20) }).slice(0, 64 + 56 + 20));
add("ELF header cut by EOF (40 bytes)", simpleElf({ notes: gnuBuildIdNote(id20) }).slice(0, 40));
add(
  "a PT_NOTE past EOF, then a good one",
  buildElf({
    phdrs: [
      { type: PT_NOTE, offset: 0x9000n, filesz: 36n },
      { type: PT_NOTE, offset: 0x200n, filesz: 36n },
    ],
    chunks: [{ at: 0x200, bytes: gnuBuildIdNote(id20) }],
  }),
  hex(id20),
);
add(
  "an ET_DYN whose note is in a second PT_NOTE",
  buildElf({
    type: ET_DYN,
    phdrs: [
      { type: PT_NOTE, offset: 0x180n, filesz: 28n },
      { type: PT_NOTE, offset: 0x200n, filesz: 36n },
    ],
    chunks: [
      { at: 0x180, bytes: note({ name: "GNU\0", type: 1, desc: counting(12) }) },
      { at: 0x200, bytes: gnuBuildIdNote(id20) },
    ],
  }),
  hex(id20),
);

cases.push(
  { name: "deleted once mapped", bytes: simpleElf({ notes: gnuBuildIdNote(id20) }), known: hex(id20), then: "unlink" },
  {
    name: "replaced once mapped",
    bytes: simpleElf({ notes: gnuBuildIdNote(id20) }),
    known: hex(id20),
    then: "replace",
  },
);

/** True when /dev/shm is a tmpfs mount. */
const haveTmpfs = (() => {
  try {
    return readFileSync("/proc/self/mounts", "utf8").split("\n").some((l) => /^\S+ \/dev\/shm tmpfs /.test(l));
  } catch {
    return false;
  }
})();

// The same reads on tmpfs, whose page cache is the file itself. (Left out,
// not skipped, where there is none: Deno runs no after() hook in a file with
// a skipped test, and after() stops the child.)
if (haveTmpfs) {
  for (
    const c of cases.filter((c) =>
      /^(64-bit LE ET_DYN|descriptor cut by EOF|descriptor crosses|note header crosses)/.test(c.name)
    )
  ) {
    cases.push({ ...c, name: `${c.name}, on tmpfs`, tmpfs: true });
  }
}

interface Mapped {
  start: string;
  end: string;
  errno: number;
}

const dirs: string[] = [];
let child: Started<Mapped[]> | undefined;
before(async () => {
  if (IOCTL_SKIP) return;
  const dir = mkdtempSync(join(tmpdir(), "procmap-elf-"));
  const shm = haveTmpfs ? mkdtempSync("/dev/shm/procmap-elf-") : dir;
  dirs.push(dir, shm);
  const paths = cases.map((c, i) => {
    const p = join(c.tmpfs ? shm : dir, `case-${i}.elf`);
    writeFileSync(p, c.bytes);
    return p;
  });
  const empty = join(dir, "empty.elf");
  writeFileSync(empty, new Uint8Array(0));
  child = await startChild<Mapped[]>(compileC("map_files"), [...paths, empty]);
  cases.forEach((c, i) => {
    if (c.then === "unlink") rmSync(paths[i]);
    if (c.then === "replace") {
      writeFileSync(paths[i] + ".new", simpleElf({ notes: gnuBuildIdNote(counting(20, 0x40)) }));
      renameSync(paths[i] + ".new", paths[i]);
    }
  });
});
after(async () => {
  await child?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test("hand-made ELF: an empty file cannot be mapped, so it has no VMA to compare", { skip: IOCTL_SKIP }, () => {
  assert.equal(child!.info[cases.length].errno, 22 /* EINVAL */);
});

cases.forEach((c, i) => {
  test(`hand-made ELF: ${c.name}: text backend's build ID equals the kernel's`, { skip: IOCTL_SKIP }, () => {
    const m = child!.info[i];
    assert.equal(m.errno, 0, "the child mapped the file");
    const addr = BigInt(m.start);
    using kernel = ProcMaps.open(child!.pid, { backend: "ioctl" });
    using text = ProcMaps.open(child!.pid, { backend: "text" });
    const k = kernel.query(addr, { buildId: true });
    const t = text.query(addr, { buildId: true });
    assert.ok(k && t);
    assert.equal(k.start, addr);
    assert.equal(k.end, BigInt(m.end));
    if (c.then && !isRoot) {
      // Without root, /proc/<pid>/map_files is refused and the path names
      // another file or none: the text backend reports no build ID.
      assert.deepEqual({ ...t }, { ...k, buildId: undefined });
    } else {
      assert.deepEqual(t, k);
    }
    if ("known" in c) assert.equal(k.buildId, c.known, "the kernel reads the hand-made file as expected");
    if (c.then) assert.ok(k.name?.endsWith(" (deleted)"), String(k.name));
  });
});

test("self: every file-backed VMA has the kernel's build ID in the text backend (and readelf's)", {
  skip: IOCTL_SKIP,
}, () => {
  const kernel = fileVmas("self", "ioctl");
  const text = fileVmas("self", "text");
  let compared = 0, withId = 0;
  const readelfSeen = new Map<string, string | undefined>();
  for (const [key, k] of kernel) {
    const t = text.get(key);
    if (!t) continue; // mapped or unmapped between the two reads
    compared++;
    assert.equal(t.buildId, k.buildId, `${key} ${k.name}`);
    if (k.buildId) withId++;
    const path = k.name ?? "";
    if (haveReadelf && path.startsWith("/") && !path.endsWith(" (deleted)")) {
      if (!readelfSeen.has(path)) readelfSeen.set(path, readelfBuildId(path));
      const fromReadelf = readelfSeen.get(path);
      if (fromReadelf !== undefined) assert.equal(k.buildId, fromReadelf, `readelf -n ${path}`);
    }
  }
  assert.ok(compared >= 5, `compared ${compared} file-backed VMAs`);
  assert.ok(withId >= 3, "libc, ld.so and the runtime's binary have build IDs");
});
