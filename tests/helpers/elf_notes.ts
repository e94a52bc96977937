/**
 * An independent reader of GNU build-ID notes for tests: section headers
 * first (as readelf -n does), little-endian 64- and 32-bit ELF.
 */
import { existsSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";

/** The NT_GNU_BUILD_ID descriptor of an ELF file as hex, or undefined. */
export function noteBuildId(path: string): string | undefined {
  const b = readFileSync(path);
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[5] !== 1) return undefined;
  const is64 = b[4] === 2;
  const shoff = is64 ? Number(b.readBigUInt64LE(0x28)) : b.readUInt32LE(0x20);
  const shentsize = b.readUInt16LE(is64 ? 0x3a : 0x2e);
  const shnum = b.readUInt16LE(is64 ? 0x3c : 0x30);
  for (let i = 0; i < shnum; i++) {
    const sh = shoff + i * shentsize;
    if (b.readUInt32LE(sh + 4) !== 7 /* SHT_NOTE */) continue;
    const off = is64 ? Number(b.readBigUInt64LE(sh + 0x18)) : b.readUInt32LE(sh + 0x10);
    const size = is64 ? Number(b.readBigUInt64LE(sh + 0x20)) : b.readUInt32LE(sh + 0x14);
    for (let p = off; p + 12 <= off + size;) {
      const namesz = b.readUInt32LE(p), descsz = b.readUInt32LE(p + 4), type = b.readUInt32LE(p + 8);
      const name = b.subarray(p + 12, p + 12 + namesz).toString("latin1");
      const desc = p + 12 + Math.ceil(namesz / 4) * 4;
      if (type === 3 && name === "GNU\0") return b.subarray(desc, desc + descsz).toString("hex");
      p = desc + Math.ceil(descsz / 4) * 4;
    }
  }
  return undefined;
}

/** What `readelf -n` prints as the build ID, or undefined (also when readelf is missing). */
export function readelfBuildId(path: string): string | undefined {
  const r = spawnSync("readelf", ["-n", path], { encoding: "utf8" });
  if (r.status !== 0) return undefined;
  return /Build ID: ([0-9a-f]+)/.exec(r.stdout)?.[1];
}

/** The debug file installed for `path` under /usr/lib/debug/.build-id (found by readelf's build ID), or undefined. */
export function installedDebugFile(path: string): string | undefined {
  const id = readelfBuildId(path);
  const p = id && `/usr/lib/debug/.build-id/${id.slice(0, 2)}/${id.slice(2)}.debug`;
  return p && existsSync(p) ? p : undefined;
}

/** True when readelf can be run. */
export const haveReadelf = spawnSync("readelf", ["--version"]).status === 0;
