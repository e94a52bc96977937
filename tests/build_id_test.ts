/**
 * Build IDs against the files' own ELF notes, and addresses past 2^53.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BACKENDS } from "./helpers/backends.ts";
import { ProcMaps } from "../mod.ts";
import { haveReadelf, noteBuildId, readelfBuildId } from "./helpers/elf_notes.ts";
import { readRows } from "./helpers/ground_truth.ts";

for (const backend of BACKENDS) {
  test(`${backend}: libc's build ID equals the one in its ELF note`, () => {
    using maps = ProcMaps.open("self", { backend });
    const libc = [...maps.vmasSync({ fileBacked: true, buildId: true })].find((v) =>
      /\/libc(\.so\.6|\.musl-[^/]*\.so\.1)$/.test(v.name ?? "")
    );
    assert.ok(libc, "this process maps libc");
    const fromNote = noteBuildId(libc.name!);
    assert.match(fromNote ?? "", /^[0-9a-f]{40}$/);
    assert.equal(libc.buildId, fromNote);
    if (haveReadelf) assert.equal(libc.buildId, readelfBuildId(libc.name!));
    // And through a point query at any address inside it.
    assert.equal(maps.query(libc.start + 16n, { buildId: true })!.buildId, fromNote);
  });

  test(`${backend}: every mapped ELF file's build ID equals its note (readelf -n as well)`, () => {
    using maps = ProcMaps.open("self", { backend });
    const seen = new Set<string>();
    let checked = 0;
    for (const v of maps.vmasSync({ fileBacked: true, buildId: true })) {
      if (!v.name?.startsWith("/") || v.name.endsWith(" (deleted)") || seen.has(v.name)) continue;
      seen.add(v.name);
      let note: string | undefined;
      try {
        note = noteBuildId(v.name);
      } catch {
        continue; // not a file this test can read as ELF
      }
      assert.equal(v.buildId, note, v.name);
      if (haveReadelf && note) assert.equal(v.buildId, readelfBuildId(v.name), `readelf: ${v.name}`);
      checked++;
    }
    assert.ok(checked >= 3);
  });

  test(`${backend}: the [vsyscall] gate area round-trips its addresses above 2^53 exactly`, {
    skip: readRows("self").some((r) => r.name === "[vsyscall]") ? false : "no [vsyscall] on this machine",
  }, () => {
    const gate = readRows("self").find((r) => r.name === "[vsyscall]")!;
    assert.ok(gate.start > 2n ** 53n);
    using maps = ProcMaps.open("self", { backend });
    const v = maps.query(gate.start + 0x400n)!;
    assert.equal(v.start, gate.start);
    assert.equal(v.end, gate.end);
    assert.equal(v.start, 0xffffffffff600000n);
    assert.equal(v.perms, gate.perms);
    assert.equal(v.name, "[vsyscall]");
    assert.equal(maps.query(gate.end - 1n)!.start, gate.start);
    assert.equal(maps.query(gate.end), null);
    assert.equal(maps.query(gate.start - 1n), null);
    // It is the last VMA of an iteration, and coveringOrNext reaches it from above user space.
    const all = [...maps.vmasSync()];
    assert.deepEqual(all.at(-1), v);
    assert.deepEqual(maps.query(0x800000000000n, { coveringOrNext: true }), v);
    assert.equal(maps.query(gate.start, { readable: true }), gate.perms[0] === "r" ? v : null);
    assert.equal(maps.query(gate.start, { fileBacked: true }), null);
    assert.equal(maps.query(gate.start, { buildId: true })!.buildId, undefined);
  });
}
