/**
 * Decoding the records of a sampling event's ring buffer: samples (with the
 * fields of `SAMPLE_TYPE`, in the kernel's order), lost-record counts,
 * throttling, and the thread events (fork, exit, comm) that let the sampler
 * follow threads.
 * @module
 */
import {
  CONTEXT_KERNEL,
  CONTEXT_MAX,
  CONTEXT_USER,
  RECORD_COMM,
  RECORD_EXIT,
  RECORD_FORK,
  RECORD_LOST,
  RECORD_SAMPLE,
  RECORD_THROTTLE,
  RECORD_UNTHROTTLE,
} from "./attr.ts";

/** One sample: the thread, when, and its stack (kernel frames first, each part innermost first). */
export interface RawSample {
  pid: number;
  tid: number;
  /** Nanoseconds, perf's clock (`CLOCK_MONOTONIC` based). */
  time: bigint;
  /** The period this sample stands for (nanoseconds for clock events). */
  period: number;
  /** Kernel frames then user frames, each innermost first. */
  stack: bigint[];
  /** How many leading frames of `stack` are the kernel's. */
  kernelFrames: number;
}

/** Everything else a ring tells. */
export type ThreadEvent =
  | { kind: "fork"; pid: number; ppid: number; tid: number; ptid: number }
  | { kind: "exit"; pid: number; tid: number }
  | { kind: "comm"; pid: number; tid: number; comm: string; exec: boolean }
  | { kind: "lost"; lost: number }
  | { kind: "throttle"; on: boolean };

/** `PERF_RECORD_MISC_COMM_EXEC`: a COMM record written by exec. */
const MISC_COMM_EXEC = 1 << 13;
const decoder = new TextDecoder();

/** A sample record's fields (`view` holds the record at `at`, header included). */
export function decodeSample(view: DataView, at: number, size: number): RawSample | undefined {
  const end = at + size;
  let p = at + 8;
  if (p + 40 > end) return undefined;
  p += 8; // ip: the callchain's first frame of its context is the same address
  const pid = view.getUint32(p, true);
  const tid = view.getUint32(p + 4, true);
  const time = view.getBigUint64(p + 8, true);
  const period = Number(view.getBigUint64(p + 16, true));
  const nr = Number(view.getBigUint64(p + 24, true));
  p += 32;
  if (p + nr * 8 > end) return undefined;
  const kernel: bigint[] = [];
  const user: bigint[] = [];
  let into: bigint[] | undefined;
  for (let i = 0; i < nr; i++, p += 8) {
    const ip = view.getBigUint64(p, true);
    if (ip >= CONTEXT_MAX) {
      into = ip === CONTEXT_KERNEL ? kernel : ip === CONTEXT_USER ? user : undefined; // guest and hypervisor: left out
      continue;
    }
    into?.push(ip);
  }
  return { pid, tid, time, period, stack: kernel.concat(user), kernelFrames: kernel.length };
}

/** A non-sample record, or undefined for one the sampler does not use. */
export function decodeEvent(
  type: number,
  misc: number,
  view: DataView,
  at: number,
  size: number,
): ThreadEvent | undefined {
  const p = at + 8;
  const end = at + size;
  switch (type) {
    case RECORD_FORK:
    case RECORD_EXIT:
      if (p + 16 > end) return undefined;
      return type === RECORD_FORK
        ? {
          kind: "fork",
          pid: view.getUint32(p, true),
          ppid: view.getUint32(p + 4, true),
          tid: view.getUint32(p + 8, true),
          ptid: view.getUint32(p + 12, true),
        }
        : { kind: "exit", pid: view.getUint32(p, true), tid: view.getUint32(p + 8, true) };
    case RECORD_COMM: {
      if (p + 8 > end) return undefined;
      const bytes = new Uint8Array(view.buffer, view.byteOffset + p + 8, end - p - 8);
      const nul = bytes.indexOf(0);
      return {
        kind: "comm",
        pid: view.getUint32(p, true),
        tid: view.getUint32(p + 4, true),
        comm: decoder.decode(nul < 0 ? bytes : bytes.subarray(0, nul)),
        exec: (misc & MISC_COMM_EXEC) !== 0,
      };
    }
    case RECORD_LOST:
      return p + 16 > end ? undefined : { kind: "lost", lost: Number(view.getBigUint64(p + 8, true)) };
    case RECORD_THROTTLE:
    case RECORD_UNTHROTTLE:
      return { kind: "throttle", on: type === RECORD_THROTTLE };
  }
  return undefined;
}

export { RECORD_SAMPLE };
