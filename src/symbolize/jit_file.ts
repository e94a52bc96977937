/**
 * Opening a JIT symbol file the target names (its perf map, its jitdump):
 * attacker-controlled paths, so the descriptor itself is checked before
 * anything is read from it.
 * @module
 */
import { emptyFileId, type Libc } from "../../ffi/mod.ts";
import { ERRNO } from "../errors.ts";

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

/** Why a JIT file was not opened. */
export interface JitFileRefusal {
  /**
   * `"no-file"`, `"no-access"` (cannot be opened or stat'ed), `"not-regular-file"`
   * (a FIFO, device, directory: refused), `"foreign-owner"` (not owned by
   * any of the process's user IDs: a link to another user's file).
   */
  readonly reason: "no-file" | "no-access" | "not-regular-file" | "foreign-owner";
  /** The path tried. */
  readonly path: string;
  /** Said for people. */
  readonly message: string;
}

/**
 * Opens `path` for reading (O_NONBLOCK: a FIFO put there cannot block the
 * open) and checks the descriptor: a regular file, owned by one of `uids`
 * when given. Returns the descriptor (the caller closes it) or why not.
 */
export function openJitFile(libc: Libc, path: string, uids: string[] | undefined): number | JitFileRefusal {
  const fd = libc.openRead(path);
  if (fd < 0) {
    return fd === -ERRNO.ENOENT
      ? { reason: "no-file", path, message: `${path} does not exist` }
      : { reason: "no-access", path, message: `cannot open ${path} (errno ${-fd})` };
  }
  const id = emptyFileId();
  const r = libc.fstat(fd, id);
  let refusal: JitFileRefusal | undefined;
  if (r < 0) refusal = { reason: "no-access", path, message: `cannot fstat ${path} (errno ${-r})` };
  else if ((id.mode & S_IFMT) !== S_IFREG) {
    refusal = { reason: "not-regular-file", path, message: `${path} is not a regular file` };
  } else if (uids && !uids.includes(String(id.uid))) {
    refusal = {
      reason: "foreign-owner",
      path,
      message: `${path} is owned by uid ${id.uid}, not by the process (uids ${uids.join(" ")})`,
    };
  }
  if (refusal === undefined) return fd;
  libc.close(fd);
  return refusal;
}
