/**
 * Inputs are read once (issue 14): resolve() reads each element of its
 * batch exactly once (an accessor cannot answer the check one value and the
 * use another), option getters run once, and inherited option properties
 * (`Object.prototype.backend = "text"`) change nothing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ProcMaps } from "../mod.ts";
import { BACKENDS, IOCTL_SKIP } from "./helpers/backends.ts";

/**
 * A real mapped address of this process that stays mapped: the first file-backed VMA's start (the
 * first VMA may be the engine's heap, which a collection can unmap before the address is used).
 */
function someAddress(maps: ProcMaps): bigint {
  return maps.query(0n, { coveringOrNext: true, fileBacked: true })!.start;
}

test("resolve() reads each element once: an accessor that changes its answer cannot smuggle a string in", () => {
  for (const backend of BACKENDS) {
    using maps = ProcMaps.open("self", { backend });
    const addr = someAddress(maps);
    let reads = 0;
    const batch: unknown[] = [addr];
    Object.defineProperty(batch, 1, {
      enumerable: true,
      get() {
        // A check that reads twice would see the bigint, then use the string.
        return reads++ === 0 ? addr : "evil";
      },
    });
    const out = maps.resolve(batch as bigint[]);
    assert.equal(reads, 1, `${backend}: the element was read once`);
    assert.equal(out.length, 2);
    for (const r of out) {
      assert.equal(typeof r!.addr, "bigint", backend);
      assert.equal(r!.addr, addr);
      assert.equal(typeof r!.fileOffset === "bigint" || r!.fileOffset === undefined, true);
    }
  }
});

test("resolve() reads an iterator once, and a proxy's elements once", () => {
  using maps = ProcMaps.open("self");
  const addr = someAddress(maps);
  let gets = 0;
  const proxy = new Proxy([addr, addr + 1n], {
    get(target, key, receiver) {
      if (typeof key === "string" && /^\d+$/.test(key)) gets++;
      return Reflect.get(target, key, receiver);
    },
  });
  assert.equal(maps.resolve(proxy).length, 2);
  assert.equal(gets, 2, "each element read once");
  let steps = 0;
  function* once() {
    steps++;
    yield addr;
  }
  assert.equal(maps.resolve(once()).length, 1);
  assert.equal(steps, 1);
});

test("option getters run once; inherited properties are ignored", () => {
  let reads = 0;
  const opts = {
    get backend() {
      reads++;
      return "text" as const;
    },
  };
  {
    using maps = ProcMaps.open("self", opts);
    assert.equal(maps.backend, "text");
  }
  assert.equal(reads, 1, "the backend option was read once");
  let buildIdReads = 0;
  {
    using maps = ProcMaps.open("self");
    const addr = someAddress(maps);
    const r = maps.resolve([addr], {
      get buildId() {
        buildIdReads++;
        return buildIdReads === 1 ? false : ("yes" as unknown as boolean);
      },
    });
    assert.equal(r[0]!.buildId, undefined, "the value checked is the value used");
  }
  assert.equal(buildIdReads, 1);

  const proto = Object.prototype as Record<string, unknown>;
  proto.backend = "text";
  proto.buildId = true;
  proto.strategy = "text";
  try {
    using maps = ProcMaps.open("self");
    const want = IOCTL_SKIP ? "text" : "ioctl";
    assert.equal(maps.backend, want, "Object.prototype.backend changes nothing");
    const v = maps.query(someAddress(maps), {});
    assert.equal(v!.buildId, undefined, "Object.prototype.buildId changes nothing");
  } finally {
    delete proto.backend;
    delete proto.buildId;
    delete proto.strategy;
  }
});
