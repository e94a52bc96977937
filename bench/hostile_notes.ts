/**
 * What a hostile ELF file (256 PT_NOTE headers over empty notes) costs
 * procmap: the first build-ID query of a handle (the bounded scan, once per
 * handle) and the ones after it (answered from the handle's verdict, the
 * kernel never asked). Not part of run.mjs; run by hand:
 *   deno run -A bench/hostile_notes.ts     (or: bun bench/hostile_notes.ts)
 * For comparison, the kernel's own parse of the same files (what procmap
 * avoids) took 2.1 s (256 KiB), 10 s (1 MiB) and over 100 s (16 MiB) per
 * query on the project's test machine (issue 14).
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProcMaps } from "../mod.ts";

const ADDR = 0x3f0000000000n;

/** 256 program headers: a PT_LOAD and 255 PT_NOTE over the rest of the file (empty 12-byte notes: zeros). */
function hostileElf(size: number): Uint8Array {
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setUint16(16, 3, true); // ET_DYN
  v.setUint16(18, 62, true);
  v.setUint32(20, 1, true);
  v.setBigUint64(32, 64n, true); // e_phoff
  v.setUint16(52, 64, true);
  v.setUint16(54, 56, true);
  v.setUint16(56, 256, true);
  for (let i = 0; i < 256; i++) {
    const at = 64 + i * 56;
    v.setUint32(at, i === 0 ? 1 : 4, true);
    v.setBigUint64(at + 8, i === 0 ? 0n : 0x4000n, true);
    const filesz = BigInt(i === 0 ? size : size - 0x4000);
    v.setBigUint64(at + 32, filesz, true);
    v.setBigUint64(at + 40, filesz, true);
  }
  return out;
}

const src = join(new URL(".", import.meta.url).pathname, "../tests/fixtures/hard_target.c");
const dir = mkdtempSync(join(tmpdir(), "procmap-hostile-bench-"));
const bin = join(dir, "hard_target");
if (spawnSync("gcc", ["-O2", "-o", bin, src, "-ldl"]).status !== 0) throw new Error("gcc failed");
for (const size of [256 * 1024, 1024 * 1024, 16 * 1024 * 1024]) {
  const file = join(dir, `hostile-${size}.so`);
  writeFileSync(file, hostileElf(size));
  const child = spawn(bin, ["map", file, ADDR.toString(16)], { stdio: ["pipe", "pipe", "inherit"] });
  const line = await new Promise<string>((resolve) => child.stdout!.once("data", (d) => resolve(String(d))));
  const { pid } = JSON.parse(line);
  for (const backend of ["ioctl", "text"] as const) {
    using maps = ProcMaps.open(pid, { backend });
    let t = performance.now();
    maps.query(ADDR, { buildId: true });
    const first = performance.now() - t;
    t = performance.now();
    for (let i = 0; i < 100; i++) {
      maps.refresh();
      maps.query(ADDR, { buildId: true });
    }
    const later = (performance.now() - t) / 100;
    console.log(
      `${(size / 1024).toString().padStart(6)} KiB, ${backend}: first build-ID query ${first.toFixed(1)} ms, ` +
        `later ones ${later.toFixed(3)} ms`,
    );
  }
  child.stdin!.end();
  await new Promise((r) => child.once("exit", r));
}
rmSync(dir, { recursive: true, force: true });
