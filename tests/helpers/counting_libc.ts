/** A libc binding that counts the calls made through it (tests of "no system call"). */
import { getLibc, type Libc, setLibcForTesting } from "../../ffi/mod.ts";

export interface Counts {
  open: number;
  ioctl: number;
  pread: number;
}

/** Runs `fn` with a counting binding installed; returns what it counted. */
export function countCalls(fn: () => void): Counts {
  const real = getLibc();
  const counts: Counts = { open: 0, ioctl: 0, pread: 0 };
  const counting: Libc = {
    ...real,
    openRead: (p) => (counts.open++, real.openRead(p)),
    ioctl: (fd, req, arg) => (counts.ioctl++, real.ioctl(fd, req, arg)),
    pread: (fd, buf, off) => (counts.pread++, real.pread(fd, buf, off)),
  };
  setLibcForTesting(counting);
  try {
    fn();
  } finally {
    setLibcForTesting(real);
  }
  return counts;
}
