/**
 * The ring buffer reader and the sampler's bookkeeping over fake perf
 * events: records written into plain memory the way the kernel writes them
 * (data_head advanced after the record, records wrapping past the end of
 * the data area, a lost-record count, fork and exit records, one ring per
 * CPU that the other events of the CPU write into), checked
 * against what was written. No kernel involved, so every case is exact.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Libc, PerfCalls } from "../ffi/mod.ts";
import { getLibc } from "../ffi/mod.ts";
import { Ring } from "../src/sampler/ring.ts";
import { decodeSample } from "../src/sampler/records.ts";
import { onlineCpus, Sampler } from "../src/sampler/sampler.ts";
import {
  CONTEXT_KERNEL,
  CONTEXT_USER,
  IOC_SET_OUTPUT,
  RECORD_EXIT,
  RECORD_FORK,
  RECORD_LOST,
} from "../src/sampler/attr.ts";

const PAGE = 4096;

/** A fake event: its ring memory, and a writer that appends records as the kernel does. */
class FakeEvent {
  readonly memory: ArrayBuffer;
  readonly view: DataView;
  head = 0;
  constructor(readonly pages: number) {
    this.memory = new ArrayBuffer((pages + 1) * PAGE);
    this.view = new DataView(this.memory);
    this.view.setBigUint64(1040, BigInt(PAGE), true); // data_offset
    this.view.setBigUint64(1048, BigInt(pages * PAGE), true); // data_size
  }
  get tail(): number {
    return Number(this.view.getBigUint64(1032, true));
  }
  /** Appends a record (its bytes after the 8-byte header), wrapping as the kernel does. */
  write(type: number, body: Uint8Array, misc = 0): void {
    const size = this.pages * PAGE;
    const len = 8 + body.length;
    const rec = new Uint8Array(len);
    const v = new DataView(rec.buffer);
    v.setUint32(0, type, true);
    v.setUint16(4, misc, true);
    v.setUint16(6, len, true);
    rec.set(body, 8);
    const data = new Uint8Array(this.memory, PAGE, size);
    for (let i = 0; i < len; i++) data[(this.head + i) % size] = rec[i];
    this.head += len;
    this.view.setBigUint64(1024, BigInt(this.head), true); // data_head, after the record
  }
}

function sampleBody(pid: number, tid: number, kernel: bigint[], user: bigint[]): Uint8Array {
  const chain = [...(kernel.length ? [CONTEXT_KERNEL, ...kernel] : []), CONTEXT_USER, ...user];
  const b = new Uint8Array(40 + chain.length * 8);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, kernel[0] ?? user[0], true); // ip
  v.setUint32(8, pid, true);
  v.setUint32(12, tid, true);
  v.setBigUint64(16, 123456789n, true); // time
  v.setBigUint64(24, 10101010n, true); // period
  v.setBigUint64(32, BigInt(chain.length), true);
  chain.forEach((ip, i) => v.setBigUint64(40 + i * 8, ip, true));
  return b;
}

function u32s(...xs: number[]): Uint8Array {
  const b = new Uint8Array(xs.length * 4 + 8); // + sample_id-less padding to 8 bytes
  xs.forEach((x, i) => new DataView(b.buffer).setUint32(i * 4, x, true));
  return b.subarray(0, Math.ceil((xs.length * 4) / 8) * 8);
}

/** PerfCalls over FakeEvents: each perfEventOpen makes one (recorded with its tid, CPU and attr flags). */
function fakePerf(pages: number) {
  const events = new Map<
    number,
    { tid: number; cpu: number; flags: bigint; event: FakeEvent; closed: boolean; mapped: boolean; output?: number }
  >();
  const byAddress = new Map<bigint, FakeEvent>();
  let nextFd = 1000;
  let nextAddr = 0x10000n;
  const perf: PerfCalls = {
    runtime: "deno",
    perfEventOpen: (attr, tid, cpu) => {
      const fd = nextFd++;
      const flags = new DataView(attr.buffer, attr.byteOffset).getBigUint64(40, true);
      events.set(fd, { tid, cpu, flags, event: new FakeEvent(pages), closed: false, mapped: false });
      return fd;
    },
    ioctlInt: (fd, request, arg) => {
      if (request === IOC_SET_OUTPUT) events.get(fd)!.output = arg;
      return 0;
    },
    mmap: (_len, _prot, _flags, fd) => {
      const a = nextAddr;
      nextAddr += 0x100000n;
      events.get(fd)!.mapped = true;
      byAddress.set(a, events.get(fd)!.event);
      return a;
    },
    munmap: () => 0,
    memory: (address) => byAddress.get(address)!.memory,
  };
  const libc = { ...getLibc(), close: (fd: number) => (events.get(fd)!.closed = true, 0) } as Libc;
  return { perf, libc, events };
}

describe("ring buffer", () => {
  test("reads records in order, wrapping past the end and straddling it, and stores the tail after them", () => {
    const ev = new FakeEvent(1);
    const { perf } = fakePerf(1);
    const ring = Ring.map({ ...perf, mmap: () => 0x1000n, memory: () => ev.memory }, 3, 1) as Ring;
    const seen: bigint[][] = [];
    const read = () =>
      ring.read((type, _misc, view, at, size) => {
        if (type === 9) seen.push(decodeSample(view, at, size)!.stack);
      });
    let n = 0;
    const written: bigint[][] = [];
    // 4096-byte data area, records of 8 + 40 + 8 * frames bytes: keep writing and reading so the
    // head wraps many times, at every alignment the record sizes give.
    for (let round = 0; round < 200; round++) {
      const batch = 1 + (round % 5);
      for (let i = 0; i < batch; i++) {
        const frames = 1 + ((round * 7 + i) % 23);
        const user = Array.from({ length: frames }, (_, j) => 0x400000n + BigInt(n * 100 + j));
        written.push(user);
        ev.write(9, sampleBody(1, 1, [], user));
        n++;
      }
      read();
      assert.equal(ev.tail, ev.head, "data_tail is stored up to data_head after the records");
    }
    assert.ok(ev.head > 20 * 4096, "wrapped many times");
    assert.deepEqual(seen, written);
  });

  test("decodes kernel and user callchains, leaving the context markers out", () => {
    const body = sampleBody(7, 8, [0xffffffff81000010n, 0xffffffff81000020n], [0x401000n, 0x402000n]);
    const rec = new Uint8Array(8 + body.length);
    rec.set(body, 8);
    new DataView(rec.buffer).setUint16(6, rec.length, true);
    const s = decodeSample(new DataView(rec.buffer), 0, rec.length)!;
    assert.deepEqual([s.pid, s.tid, s.period, s.kernelFrames], [7, 8, 10101010, 2]);
    assert.deepEqual(s.stack, [0xffffffff81000010n, 0xffffffff81000020n, 0x401000n, 0x402000n]);
    assert.equal(decodeSample(new DataView(rec.buffer), 0, 40), undefined, "a truncated record is refused");
  });
});

describe("sampler bookkeeping", () => {
  test("one ring per CPU, inherited events; counts lost records and the threads fork records announce", () => {
    const { perf, libc, events } = fakePerf(2);
    const pid = process.pid;
    using sampler = new Sampler(perf, libc, { frequency: 99, cpus: [0, 3] });
    sampler.follow(pid);
    const all = [...events.values()];
    const mains = all.filter((e) => e.tid === pid);
    assert.deepEqual(mains.map((e) => e.cpu).sort(), [0, 3], "an event per CPU on the main thread");
    assert.ok(all.every((e) => (e.flags & 2n) !== 0n), "every event inherited (attr bit 1)");
    const rings = all.filter((e) => e.mapped);
    assert.deepEqual(rings.map((e) => e.cpu).sort(), [0, 3], "one ring per CPU");
    for (const e of all.filter((e) => !e.mapped)) {
      const out = events.get(e.output!)!;
      assert.ok(out.mapped && out.cpu === e.cpu, "the others write into their CPU's ring");
    }
    const ring = rings.find((e) => e.cpu === 3)!.event;
    const lost = new Uint8Array(16);
    new DataView(lost.buffer).setBigUint64(8, 5n, true);
    ring.write(RECORD_LOST, lost);
    ring.write(9, sampleBody(pid, pid, [], [0x401000n]));
    // A new thread of the process (pid == ppid): it has the events already, so nothing is opened on it.
    const newTid = 4194000;
    const threads = sampler.stats.threads;
    ring.write(RECORD_FORK, new Uint8Array([...u32s(pid, pid, newTid, pid), ...new Uint8Array(8)]));
    // A process it starts (pid != ppid): not followed without followChildren, its samples dropped.
    const child = 4194100;
    ring.write(RECORD_FORK, new Uint8Array([...u32s(child, pid, child, pid), ...new Uint8Array(8)]));
    ring.write(9, sampleBody(child, child, [], [0x403000n]));
    const samples = sampler.drain(false);
    assert.deepEqual(samples.map((s) => s.tid), [pid]);
    assert.equal(sampler.stats.lost, 5);
    assert.equal(sampler.stats.threads, threads + 1);
    assert.equal(events.size, all.length, "no event opened on the new thread");
    // The thread runs and exits: counted, and no event is closed (that would end the ones it passed on).
    ring.write(9, sampleBody(pid, newTid, [], [0x402000n]));
    ring.write(RECORD_EXIT, new Uint8Array([...u32s(pid, pid, newTid, newTid), ...new Uint8Array(8)]));
    const last = sampler.drain(false);
    assert.deepEqual(last.map((s) => s.tid), [newTid]);
    assert.equal(sampler.stats.threadsEnded, 1);
    assert.ok(all.every((e) => !e.closed));
    sampler.close();
    assert.ok(all.every((e) => e.closed));
  });

  test("with followChildren, a process a followed one starts is followed from its fork record", () => {
    const { perf, libc, events } = fakePerf(2);
    const pid = process.pid;
    using sampler = new Sampler(perf, libc, { frequency: 99, cpus: [0], followChildren: true });
    sampler.follow(pid);
    const ring = [...events.values()].find((e) => e.mapped)!.event;
    const child = 4194100;
    ring.write(RECORD_FORK, new Uint8Array([...u32s(child, pid, child, pid), ...new Uint8Array(8)]));
    ring.write(9, sampleBody(child, child, [], [0x403000n]));
    assert.deepEqual(sampler.drain(false).map((s) => s.pid), [child]);
  });

  test("onlineCpus reads the kernel's CPU list", () => {
    assert.deepEqual(onlineCpus("0-3,5,7-8\n"), [0, 1, 2, 3, 5, 7, 8]);
    assert.deepEqual(onlineCpus("0\n"), [0]);
    assert.equal(onlineCpus("0-x"), undefined);
    assert.equal(onlineCpus("3-1"), undefined);
    assert.ok(onlineCpus()!.length >= 1);
  });
});
