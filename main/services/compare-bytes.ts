// Where two equal-length buffers differ, byte-exact. Equal buffers, the common case, cost one
// memcmp; a difference is narrowed block by block with memcmp before bytes are looked at.
// Where both sides are plain files' bytes, the addon compares them without reading them into
// JavaScript at all (sameFileBytes).
import type { FileRange } from '../backend/types.ts';
import { nativeIo, type NativeIo } from '../native-io.ts';

/** Blocks checked with memcmp before a byte loop: small enough that one changed byte is cheap. */
const BLOCK = 4096;

/** The [start, end) runs of differing bytes of `a` and `b` (equal lengths), in order, coalesced. */
export function differingRuns(a: Buffer, b: Buffer): [start: number, end: number][] {
  const runs: [number, number][] = [];
  if (a.equals(b)) return runs;
  for (let s = 0; s < a.length; s += BLOCK) {
    const e = Math.min(s + BLOCK, a.length);
    if (a.subarray(s, e).equals(b.subarray(s, e))) continue;
    for (let i = s; i < e; i++) {
      if (a[i] === b[i]) continue;
      const last = runs[runs.length - 1];
      if (last && last[1] === i) last[1] = i + 1;
      else runs.push([i, i + 1]);
    }
  }
  return runs;
}

export type FileCompare = NonNullable<NativeIo['compareFileRanges']>;

/**
 * The addon's file comparison, or null when it is absent or BLOCKSCOPE_FAST_COMPARE=0 (then
 * every byte is read into JavaScript and compared there: the tests run both ways).
 */
export function nativeFileCompare(): FileCompare | null {
  if (process.env.BLOCKSCOPE_FAST_COMPARE === '0') return null;
  return nativeIo()?.compareFileRanges ?? null;
}

/**
 * True when `length` bytes at `a` and at `b` are equal. False when they differ, and also when
 * the addon could not read them (-errno): the caller then reads them its ordinary way, which
 * finds the exact differing runs and reports a real error as the plugin would.
 */
export async function sameFileBytes(compare: FileCompare, a: FileRange, b: FileRange, length: number): Promise<boolean> {
  return (await compare(a.fd, a.offset, b.fd, b.offset, length)) === -1;
}
