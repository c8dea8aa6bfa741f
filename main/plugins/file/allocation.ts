// Turns the addon's two views of a file into extents. SEEK_DATA/SEEK_HOLE is authoritative
// for what holds data; FIEMAP only refines what SEEK_HOLE calls a hole, marking the parts that
// are allocated but unwritten (fallocate, ZERO_RANGE) as ZERO. A range SEEK_DATA calls data
// is never reported as ZERO: an unwritten extent can hold dirty page-cache data.
import { EXTENT_DATA, EXTENT_ZERO, type Extent } from '../../../shared/extents.ts';

/** Runs are flat [start0, end0, start1, end1, ...], sorted and disjoint. */
export type Runs = ArrayLike<number>;

/** Data runs as DATA, the unwritten parts of the gaps between them as ZERO, sorted. */
export function allocationExtents(data: Runs, unwritten: Runs): Extent[] {
  const out: Extent[] = [];
  let d = 0;
  let u = 0;
  let uStart = unwritten.length > 0 ? unwritten[0]! : Infinity;
  const emitZeroUpTo = (limit: number): void => {
    while (u < unwritten.length && uStart < limit) {
      const stop = Math.min(unwritten[u + 1]!, limit);
      if (stop > uStart) out.push({ offset: uStart, length: stop - uStart, flags: EXTENT_ZERO });
      if (stop < unwritten[u + 1]!) {
        uStart = stop;
        return;
      }
      u += 2;
      uStart = u < unwritten.length ? unwritten[u]! : Infinity;
    }
  };
  for (; d < data.length; d += 2) {
    const start = data[d]!;
    const end = data[d + 1]!;
    emitZeroUpTo(start);
    out.push({ offset: start, length: end - start, flags: EXTENT_DATA });
    // Skip the unwritten ranges (or parts) that this data run covers.
    while (u < unwritten.length && unwritten[u + 1]! <= end) {
      u += 2;
      uStart = u < unwritten.length ? unwritten[u]! : Infinity;
    }
    if (uStart < end) uStart = end;
  }
  emitZeroUpTo(Infinity);
  return out;
}

/**
 * The span [first, last) of the gaps that `data` leaves in [offset, end), or null if the
 * data runs cover it all: FIEMAP need only look there.
 */
export function gapSpan(data: Runs, offset: number, end: number): [number, number] | null {
  if (data.length === 0) return [offset, end];
  const firstGap = data[0]! > offset ? offset : data[1]!;
  const lastGap = data[data.length - 1]! < end ? end : data[data.length - 2]!;
  return firstGap < lastGap ? [firstGap, lastGap] : null;
}
