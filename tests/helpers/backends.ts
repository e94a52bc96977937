/** Which backends the running runtime can test (no ioctl through node:fs). */
import { getLibc } from "../../ffi/mod.ts";
import { requestFor } from "../../src/ioctl/abi.ts";

const libc = getLibc();

/** Why the ioctl backend cannot be tested here, or false when it can. */
export const IOCTL_SKIP: string | false = !libc.canIoctl
  ? `${libc.whyNoIoctl ?? `the ${libc.runtime} runtime has no FFI`}, so no PROCMAP_QUERY`
  : requestFor(libc.arch) === undefined
  ? `no PROCMAP_QUERY request number for ${libc.arch}`
  : false;

/** The backends to run each backend-specific test with. */
export const BACKENDS: readonly ("ioctl" | "text")[] = IOCTL_SKIP ? ["text"] : ["ioctl", "text"];
