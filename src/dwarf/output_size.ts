/**
 * How big a decompression's output buffer starts and grows: with what the
 * stream proves it holds, not with the size its header claims (which may
 * lie: a gigabyte for a 10 KiB stream). zlib (decompress.ts) and zstd
 * (zstd.ts) follow the same policy.
 * @module
 */

/** Debug sections inflate 2 to 8 times (libc's, gcc's and clang's): 16 holds an honest one in one go. */
const FIRST_RATIO = 16;
/** Buffers smaller than this are not worth growing from. */
const FIRST_MIN = 1 << 20;
/** Each growth multiplies the buffer by this (a lie costs at most this many times the real output). */
const GROWTH = 4;

/** The first buffer for a stream of `streamBytes` bytes, never more than `limit` (the claimed size, or one past it). */
export function firstOutputBytes(streamBytes: number, limit: number): number {
  return Math.min(limit, Math.max(streamBytes * FIRST_RATIO, FIRST_MIN));
}

/** The next buffer after one of `cap` bytes, holding at least `need` bytes, never more than `limit`. */
export function grownOutputBytes(cap: number, need: number, limit: number): number {
  return Math.min(limit, Math.max(cap * GROWTH, need));
}
