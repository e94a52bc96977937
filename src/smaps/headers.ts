/**
 * The maps lines of an smaps text: gathered into one maps text and parsed
 * by the maps parser, so that each VMA is
 * exactly the Vma the maps give; and the error that names a malformed line
 * of the smaps text.
 * @module
 */
import { parseMaps } from "../text/parser.ts";
import type { MapsTable } from "../text/table.ts";
import { ProcMapsError } from "../errors.ts";
import type { Pid } from "../options.ts";
import { decodeName } from "../util/names.ts";

const CH_NL = 0x0a;

/** The error for the malformed line `line` (starting at `lineStart` of `text`): its number, why, and its start. */
export function malformed(
  text: Uint8Array,
  length: number,
  lineStart: number,
  line: number,
  what: string,
  pid: Pid,
): ProcMapsError {
  let e = lineStart;
  while (e < length && text[e] !== CH_NL && e - lineStart < 200) e++;
  const shown = decodeName(text, lineStart, e) + (e - lineStart >= 200 ? "..." : "");
  return new ProcMapsError("EBADMSG", {
    pid,
    syscall: "parse",
    errno: 0,
    message: `malformed smaps line ${line} (${what}): ${JSON.stringify(shown)}`,
  });
}

/**
 * The gathered maps lines (`headers[0, length)`, one per row) as a table; a
 * malformed one is reported at its line in the smaps text (`lineOf(row)`).
 */
export function parseHeaders(
  headers: Uint8Array,
  length: number,
  pageSize: number,
  pid: Pid,
  lineOf: (row: number) => number,
): MapsTable {
  try {
    return parseMaps(headers, length, pageSize, pid);
  } catch (e) {
    if (!(e instanceof ProcMapsError) || e.code !== "EBADMSG") throw e;
    // Error path only: find the failing line by parsing each alone.
    for (let s = 0, row = 0; s < length; row++) {
      let n = s;
      while (n < length && headers[n] !== CH_NL) n++;
      try {
        parseMaps(headers.subarray(s, n + 1), n + 1 - s, pageSize, pid);
      } catch (inner) {
        const why = /\(([^)]*)\)/.exec((inner as Error).message)?.[1] ?? "bad maps line";
        throw malformed(headers, length, s, lineOf(row), why, pid);
      }
      s = n + 1;
    }
    throw e;
  }
}
