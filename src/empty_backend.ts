/**
 * The backend of a kernel thread: it has no user address space (its maps
 * text is empty and `pmap` prints `total 0K`), so it has no VMAs. Not an
 * error: the thread is alive, there is just nothing mapped.
 * @module
 */
import type { Backend, Cursor, Seeker, VmaIndex } from "./backend.ts";
import type { BackendKind } from "./options.ts";
import { type Request, WANT_BUILD_ID, WANT_NAME } from "./request.ts";
import type { Vma } from "./vma.ts";
import { TableBuilder } from "./table/builder.ts";
import type { VmaTable } from "./table/vma_table.ts";

const NONE: Cursor & Seeker = {
  next: () => null,
  seek: () => false,
  startHi: 0,
  startLo: 0,
  endHi: 0,
  endLo: 0,
  current: () => {
    throw new Error("no VMA: a kernel thread has none");
  },
};

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

  table(_from: bigint, _to: bigint | undefined, request: Request): VmaTable {
    return new TableBuilder((request & WANT_NAME) !== 0, (request & WANT_BUILD_ID) !== 0).finish();
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
