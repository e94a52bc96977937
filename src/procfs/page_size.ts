/**
 * The base page size, which the text maps do not show but PROCMAP_QUERY
 * reports per VMA. Read from this process's auxiliary vector (AT_PAGESZ):
 * the kernel's page size is the same for every process on the machine.
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import { nativeLittleEndian } from "../util/bytes.ts";
import { readFile } from "./read.ts";

const AT_PAGESZ = 6n;
let cached: number | undefined;

/** The base page size in bytes (4096 when the auxiliary vector cannot be read). */
export function basePageSize(libc: Libc): number {
  if (cached !== undefined) return cached;
  let size = 4096;
  const r = readFile(libc, "/proc/self/auxv");
  if (r) {
    // 64-bit runtimes: pairs of (u64 type, u64 value), ending with AT_NULL.
    const v = new DataView(r.bytes.buffer, 0, r.length);
    for (let off = 0; off + 16 <= r.length; off += 16) {
      if (v.getBigUint64(off, nativeLittleEndian) === AT_PAGESZ) {
        size = Number(v.getBigUint64(off + 8, nativeLittleEndian));
        break;
      }
    }
  }
  return (cached = size);
}
