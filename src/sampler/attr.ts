/**
 * `struct perf_event_attr` (include/uapi/linux/perf_event.h) for a sampling
 * software clock event, and the constants of the records it produces.
 * @module
 */

/** `PERF_TYPE_SOFTWARE`. */
export const PERF_TYPE_SOFTWARE = 1;
/** Software events: `PERF_COUNT_SW_CPU_CLOCK`, `PERF_COUNT_SW_TASK_CLOCK`. */
export const SW_EVENTS = { "cpu-clock": 0, "task-clock": 1 } as const;
/** The events the sampler offers. */
export type SamplerEvent = keyof typeof SW_EVENTS;

/** `PERF_SAMPLE_*` bits, in the order the kernel writes their fields. */
export const SAMPLE_IP = 1 << 0;
export const SAMPLE_TID = 1 << 1;
export const SAMPLE_TIME = 1 << 2;
export const SAMPLE_CALLCHAIN = 1 << 5;
export const SAMPLE_PERIOD = 1 << 8;
/** What the sampler asks for: the instruction, the thread, the time, the period and both callchains. */
export const SAMPLE_TYPE = SAMPLE_IP | SAMPLE_TID | SAMPLE_TIME | SAMPLE_PERIOD | SAMPLE_CALLCHAIN;

/** Bits of the attr's flag word (bit numbers of the C bitfield). */
const FLAG = {
  disabled: 0,
  inherit: 1,
  excludeKernel: 5,
  excludeHv: 6,
  comm: 9,
  freq: 10,
  enableOnExec: 12,
  task: 13,
  commExec: 24,
} as const;

/** `PERF_ATTR_SIZE_VER7`: the struct up to `sig_data` (Linux 5.13+ knows it; older kernels accept it zero-padded). */
export const ATTR_SIZE = 128;

/** `PERF_RECORD_*` types. */
export const RECORD_LOST = 2;
export const RECORD_COMM = 3;
export const RECORD_EXIT = 4;
export const RECORD_THROTTLE = 5;
export const RECORD_UNTHROTTLE = 6;
export const RECORD_FORK = 7;
export const RECORD_SAMPLE = 9;

/** Callchain context markers (`PERF_CONTEXT_*`, as u64): not addresses. */
export const CONTEXT_KERNEL = 0xffffffffffffff80n; // -128
export const CONTEXT_USER = 0xfffffffffffffe00n; // -512
/** Every value at or above this is a marker (`PERF_CONTEXT_MAX`, -4095). */
export const CONTEXT_MAX = 0xfffffffffffff001n;

/** `PERF_EVENT_IOC_ENABLE`, `PERF_EVENT_IOC_DISABLE` (`_IO('$', 0)`, `_IO('$', 1)`). */
export const IOC_ENABLE = 0x2400;
export const IOC_DISABLE = 0x2401;
/** `PERF_EVENT_IOC_SET_OUTPUT` (`_IO('$', 5)`): the event writes its records into another event's ring (same CPU). */
export const IOC_SET_OUTPUT = 0x2405;
/** `PERF_FLAG_FD_CLOEXEC`: the event's descriptor does not survive exec (commands the profiler starts). */
export const FLAG_FD_CLOEXEC = 8;

/** What an event is asked for. */
export interface AttrSpec {
  event: SamplerEvent;
  /** Samples per second (the kernel turns it into a fixed period for clock events). */
  frequency: number;
  /** Leave kernel frames out (perf_event_paranoid 2 without CAP_PERFMON requires it). */
  excludeKernel: boolean;
  /** Start disabled and enable at the thread's next exec (a command the profiler starts). */
  enableOnExec: boolean;
  /**
   * The threads and processes the thread starts get the event too, from their first instruction (their
   * records go to this event's ring): per-CPU events only, the kernel refuses to map an inherited per-thread one.
   */
  inherit?: boolean;
}

/** The attr bytes for `spec`, native (little-endian) byte order. */
export function encodeAttr(spec: AttrSpec): Uint8Array {
  const buf = new Uint8Array(ATTR_SIZE);
  const v = new DataView(buf.buffer);
  v.setUint32(0, PERF_TYPE_SOFTWARE, true); // type
  v.setUint32(4, ATTR_SIZE, true); // size
  v.setBigUint64(8, BigInt(SW_EVENTS[spec.event]), true); // config
  v.setBigUint64(16, BigInt(spec.frequency), true); // sample_freq (with freq set)
  v.setBigUint64(24, BigInt(SAMPLE_TYPE), true); // sample_type
  let flags = (1n << BigInt(FLAG.freq)) | (1n << BigInt(FLAG.task)) | (1n << BigInt(FLAG.comm)) |
    (1n << BigInt(FLAG.commExec));
  if (spec.excludeKernel) flags |= (1n << BigInt(FLAG.excludeKernel)) | (1n << BigInt(FLAG.excludeHv));
  if (spec.inherit) flags |= 1n << BigInt(FLAG.inherit);
  if (spec.enableOnExec) flags |= (1n << BigInt(FLAG.disabled)) | (1n << BigInt(FLAG.enableOnExec));
  v.setBigUint64(40, flags, true);
  return buf;
}
