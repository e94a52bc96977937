/**
 * The backend of a kernel thread: it has no user address space (its maps
 * text is empty and `pmap` prints `total 0K`), so it has no VMAs. Not an
 * error: the thread is alive, there is just nothing mapped.
 * @module
 */
import type { Backend, BackendKind, Cursor, Seeker, VmaIndex } from "./backend.ts";
import type { Vma } from "./vma.ts";

const NONE: Cursor & Seeker = { next: () => null, seek: () => null };

/** No VMAs; see the module docs. */
export class EmptyBackend implements Backend {
  /** The backend the handle would otherwise have used. */
  readonly kind: BackendKind;

  constructor(kind: BackendKind) {
    this.kind = kind;
  }

  query(): Vma | null {
    return null;
  }

  cursor(): Cursor {
    return NONE;
  }

  seeker(): Seeker {
    return NONE;
  }

  buildIdOf(): string | undefined {
    return undefined;
  }

  lastIndex(): VmaIndex | undefined {
    return undefined;
  }

  refresh(): void {}

  dispose(): void {}
}
