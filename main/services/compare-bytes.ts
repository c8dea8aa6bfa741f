// Where two equal-length buffers differ, byte-exact. Equal buffers, the common case, cost one
// memcmp; a difference is narrowed block by block with memcmp before bytes are looked at.

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
