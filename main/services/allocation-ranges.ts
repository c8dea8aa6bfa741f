// Sorted lists of disjoint byte ranges: the tracker's dirty and changed ranges, the live
// compare's windows.

/** Insert [start, end) into a sorted list of disjoint ranges, merging what touches it. */
export function mergeRange(ranges: [number, number][], start: number, end: number): [number, number][] {
  const out: [number, number][] = [];
  let s = start;
  let e = end;
  let placed = false;
  for (const [rs, re] of ranges) {
    if (re < s) out.push([rs, re]);
    else if (rs > e) {
      if (!placed) out.push([s, e]);
      placed = true;
      out.push([rs, re]);
    } else {
      s = Math.min(s, rs);
      e = Math.max(e, re);
    }
  }
  if (!placed) out.push([s, e]);
  return out;
}
