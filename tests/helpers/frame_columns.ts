/** Reading a columnar table's frame chains from their columns alone, for the tests that compare them with the objects. */
import type { FrameChains, SymbolFrame } from "../../mod.ts";

/** Chain `c` read from the columns alone (not through framesOf), or undefined for -1. */
export function columnFrames(chains: FrameChains, c: number): SymbolFrame[] | undefined {
  if (c < 0) return undefined;
  const out: SymbolFrame[] = [];
  for (let j = chains.first[c]; j < chains.first[c + 1]; j++) {
    out.push({
      name: chains.name[j],
      demangled: chains.demangled[j],
      file: chains.file[j],
      line: chains.line[j],
      column: chains.column[j],
      discriminator: chains.discriminator[j],
      inlined: chains.inlined[j] === 1,
    });
  }
  return out;
}
