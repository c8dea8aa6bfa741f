// The seed's extents rules, applied once in the backend: whatever order and coverage a
// plugin or filter returns, what leaves here is sorted, contiguous from `offset`,
// clipped to the range, gap-filled with holes and coalesced.
//
// One rule is stricter than the seed's: the part of the range after the last entry is a
// hole only when the answer covers the whole request (a plugin answering without REQ_ONE).
// An answer to REQ_ONE, or a filter's list built from a lower layer's answer that may have
// stopped short, says nothing about its tail; calling it a hole told qemu (which always sets
// REQ_ONE) to skip data. Such a reply simply ends after its last entry.
import { EXTENT_HOLE_ZERO, EXTENT_NONE, pushExtent, type Extent } from '../../shared/extents.ts';
import { BlockError } from './errors.ts';

/** More descriptors than this in one reply is pointless (NBD spec: SHOULD NOT exceed 2^20). */
export const MAX_EXTENTS = 1 << 20;

function checkEntry(layer: string, e: Extent): void {
  if (!Number.isSafeInteger(e.offset) || !Number.isSafeInteger(e.length) || e.offset < 0 || e.length < 0) {
    throw new BlockError('EIO', `${layer}: extents returned an invalid entry (offset ${e.offset}, length ${e.length})`);
  }
}

export interface NormalizeOptions {
  /** The answer speaks for the whole request: what follows its last entry is a hole. */
  tailIsHole: boolean;
  /** At most this many extents (the result then covers less than the range). */
  max?: number;
}

/**
 * Normalise `raw` for the request [offset, offset+count). Throws EIO when two entries
 * overlap, or when nothing is left to say about `offset`. A capped or tail-less result covers
 * less than the range, which the NBD spec allows: the client asks again from where it stopped.
 */
export function normalizeExtents(layer: string, raw: readonly Extent[], offset: number, count: number, options: NormalizeOptions): Extent[] {
  const max = options.max ?? MAX_EXTENTS;
  const end = offset + count;
  let list: Extent[] = [];
  let sorted = true;
  for (const e of raw) {
    if (e.flags === EXTENT_NONE || e.length === 0) continue;
    checkEntry(layer, e);
    if (list.length > 0 && e.offset < list[list.length - 1]!.offset) sorted = false;
    list.push(e);
  }
  if (!sorted) list = list.slice().sort((a, b) => a.offset - b.offset);

  const out: Extent[] = [];
  let pos = offset;
  let prevEnd = -1;
  for (const e of list) {
    const eEnd = e.offset + e.length;
    if (e.offset < prevEnd) {
      throw new BlockError('EIO', `${layer}: extents overlap at offset ${e.offset} (an earlier entry ends at ${prevEnd})`);
    }
    prevEnd = eEnd;
    if (eEnd <= pos || e.offset >= end) continue;
    const start = Math.max(e.offset, pos);
    if (start > pos) pushExtent(out, pos, start - pos, EXTENT_HOLE_ZERO);
    const stop = Math.min(eEnd, end);
    pushExtent(out, start, stop - start, e.flags & 3);
    pos = stop;
    if (out.length > max) break;
  }
  if (pos < end && out.length <= max && options.tailIsHole) pushExtent(out, pos, end - pos, EXTENT_HOLE_ZERO);
  if (out.length > max) out.length = max;
  if (out.length === 0) throw new BlockError('EIO', `${layer}: extents returned nothing for ${count} bytes at ${offset}`);
  return out;
}

/** Where a contiguous list that starts at `offset` stops (`offset` itself when it is empty). */
export function extentsEnd(list: readonly Extent[], offset: number): number {
  const last = list[list.length - 1];
  return last ? last.offset + last.length : offset;
}
