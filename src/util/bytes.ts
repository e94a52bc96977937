/**
 * Byte-level helpers shared by the codecs: the machine's byte order and
 * u64 values as two 32-bit halves (doubles, so no bigint arithmetic on hot
 * paths).
 * @module
 */

/** True on little-endian machines (every architecture procmap drives the ioctl on). */
export const nativeLittleEndian: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** 2^32, the weight of a u64's high half. */
export const TWO_32 = 4294967296;

/** The high 32 bits of a u64 given as a bigint. */
export function hiOf(v: bigint): number {
  return Number(v >> 32n);
}

/** The low 32 bits of a u64 given as a bigint. */
export function loOf(v: bigint): number {
  return Number(v & 0xffffffffn);
}
