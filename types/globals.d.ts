// Shipped in the npm package as dist/globals.d.ts and referenced from
// dist/mod.d.ts: the few global types procmap's declarations name that a
// consumer's `lib` may lack (target ES2022, no DOM, no @types/node).
// AbortSignal is declared with only the member procmap reads, so it merges
// with the DOM's, Deno's or @types/node's declaration where those are present.

interface AbortSignal {
  /** True once the operation was cancelled. */
  readonly aborted: boolean;
}
