/**
 * The vDSO: the small ELF image the kernel maps into every process as
 * `[vdso]` (`clock_gettime`, `gettimeofday`, ...). It has no file, so its
 * bytes are read from the process's memory (`/proc/<pid>/mem`, which needs
 * ptrace-read access to the process: the same as reading its maps, plus
 * not being refused by Yama or a dumpable flag). The image is a whole ELF
 * file (file offsets equal offsets in the mapping), so its build ID and
 * symbols are read from the bytes as from a file.
 * @module
 */
import type { Libc } from "../../ffi/mod.ts";
import { findBuildId } from "../elf/build_id.ts";
import type { Pid } from "../options.ts";
import { readFileText } from "../procfs/read.ts";
import { toHex } from "../util/names.ts";

/** The vDSO is one or two pages on every architecture; more is not a vDSO. */
export const VDSO_MAX_BYTES = 64 * 1024;

/**
 * The bytes of process `pid`'s `[vdso]` VMA `[start, end)`, read from
 * `/proc/<pid>/mem` (`pid` may also be the path of a `/proc/<pid>` directory:
 * a handle passes its pinned one, `/proc/self/fd/N`); null when the range is empty, larger than
 * {@link VDSO_MAX_BYTES} or not an ELF image, or the memory cannot be read
 * (no ptrace access, the process exited, the range is not mapped).
 */
export function readVdsoImage(libc: Libc, pid: Pid | string, start: bigint, end: bigint): Uint8Array | null {
  if (typeof start !== "bigint" || typeof end !== "bigint") {
    throw new TypeError("readVdsoImage: start and end must be bigint");
  }
  if (end <= start || end - start > BigInt(VDSO_MAX_BYTES)) return null;
  if (end > BigInt(Number.MAX_SAFE_INTEGER)) return null; // pread's offset is a double here
  // A string is a /proc/<pid> directory path (a handle passes its pinned one, /proc/self/fd/N).
  const fd = libc.openRead(typeof pid === "string" && pid !== "self" ? `${pid}/mem` : `/proc/${pid}/mem`);
  if (fd < 0) return null;
  try {
    const image = new Uint8Array(Number(end - start));
    let done = 0;
    while (done < image.length) {
      const n = libc.pread(fd, image.subarray(done), Number(start) + done);
      if (n <= 0) return null;
      done += n;
    }
    if (image[0] !== 0x7f || image[1] !== 0x45 || image[2] !== 0x4c || image[3] !== 0x46) return null;
    return image;
  } finally {
    libc.close(fd);
  }
}

/** The GNU build ID of a vDSO image (lower-case hex), found as the kernel finds build IDs; null if none. */
export function vdsoBuildId(image: Uint8Array): string | null {
  const id = findBuildId((offset, len) =>
    offset >= 0 && len >= 0 && offset + len <= image.length ? image.subarray(offset, offset + len) : null
  );
  return id ? toHex(id, id.length) : null;
}

/** The `[vdso]` range of process `pid` from its maps text, or null (none, or unreadable). */
export function findVdsoRange(libc: Libc, pid: Pid): { start: bigint; end: bigint } | null {
  const text = readFileText(libc, `/proc/${pid}/maps`);
  if (!text) return null;
  const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+ +\[vdso\]$/m.exec(text);
  return m ? { start: BigInt("0x" + m[1]), end: BigInt("0x" + m[2]) } : null;
}

/** Process `pid`'s vDSO image (its range from the maps), or null. */
export function readVdso(libc: Libc, pid: Pid): { start: bigint; end: bigint; image: Uint8Array } | null {
  const r = findVdsoRange(libc, pid);
  const image = r && readVdsoImage(libc, pid, r.start, r.end);
  return r && image ? { ...r, image } : null;
}
