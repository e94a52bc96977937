/**
 * The work budget every demangling runs under. Symbol names come from the
 * target process (its ELF files, its perf map), so a name is attacker input:
 * back-references let a few hundred bytes stand for gigabytes of text. Each
 * demangler charges one step per node it builds or visits and every byte it
 * prints, and keeps its recursion depth; past any limit it throws
 * {@link BudgetExceeded}, and the caller returns the mangled name, flagged.
 * @module
 */

/** Limits of one demangling. */
export interface BudgetLimits {
  /** Nodes built plus nodes visited while printing. */
  steps: number;
  /** Characters of output. */
  outputChars: number;
  /** Nesting depth of the parser or printer. */
  depth: number;
}

/**
 * Defaults: far above what real names need (the largest in the corpora, a
 * 890-character V8 name printing 28,924 characters, takes 5,523 steps), far
 * below what costs a millisecond.
 */
export const DEFAULT_LIMITS: Readonly<BudgetLimits> = Object.freeze({
  steps: 50_000,
  outputChars: 128 * 1024,
  depth: 2_000,
});

/**
 * Within the limits, a name gets work and output in proportion to its
 * length: real names print at most 33 characters per mangled character and
 * take at most 7 steps per character; these allowances leave room beyond
 * both, and keep a short hostile name from costing what a long one may.
 */
export const STEPS_PER_CHAR = 16;
export const OUTPUT_PER_CHAR = 48;
const BASE_STEPS = 1024;
const BASE_OUTPUT = 4096;

/** Thrown when a demangling runs out of budget; caught in mod.ts. */
export class BudgetExceeded extends Error {
  constructor(what: string) {
    super(`demangling budget exceeded: ${what}`);
    this.name = "BudgetExceeded";
  }
}

/** A running count against {@link BudgetLimits}. */
export class Budget {
  steps = 0;
  depth = 0;
  readonly maxSteps: number;
  readonly maxOutput: number;
  readonly maxDepth: number;

  constructor(limits: BudgetLimits, nameLength: number) {
    this.maxSteps = Math.min(limits.steps, BASE_STEPS + STEPS_PER_CHAR * nameLength);
    this.maxOutput = Math.min(limits.outputChars, BASE_OUTPUT + OUTPUT_PER_CHAR * nameLength);
    this.maxDepth = limits.depth;
  }

  /** One unit of work (a node built or visited). */
  step(): void {
    if (++this.steps > this.maxSteps) throw new BudgetExceeded("work");
  }

  /** `n` units of work at once (a scan whose length the input chooses). */
  charge(n: number): void {
    this.steps += n;
    if (this.steps > this.maxSteps) throw new BudgetExceeded("work");
  }

  /** Entering one level of recursion; pair with {@link leave}. */
  enter(): void {
    if (++this.depth > this.maxDepth) throw new BudgetExceeded("depth");
    if (++this.steps > this.maxSteps) throw new BudgetExceeded("work");
  }

  leave(): void {
    this.depth--;
  }

  /** Output grew to `length` characters. */
  output(length: number): void {
    if (length > this.maxOutput) throw new BudgetExceeded("output");
  }
}
