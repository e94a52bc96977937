/** The profile tests' C child (tests/fixtures/profile_target.c), built with frame pointers through every caller. */
import { compileC } from "./child.ts";

/** The flags every profile test builds the target with (frame pointers through every caller, DWARF). */
export const TARGET_FLAGS = ["-g", "-fno-omit-frame-pointer", "-fno-optimize-sibling-calls", "-pthread"];

/** The target's binary, compiled once per content. */
export function profileTarget(): string {
  return compileC("profile_target", TARGET_FLAGS);
}
