// The sparse-read policy: with structured replies and no DF, a long read of a range the chain
// reports as reading zero is answered with OFFSET_HOLE chunks (as qemu-nbd does), so holes do
// not travel as bytes. A client that negotiated base:allocation already knows where the holes
// are and reads data on purpose (nbdcopy, qemu-img convert): looking again would only cost.
import { EXTENT_DATA, EXTENT_ZERO, pushExtent, type Extent } from '../../shared/extents.ts';
import type { Next } from '../backend/types.ts';

/** Reads shorter than this are sent as data whatever they hold. */
export const SPARSE_READ_MIN = 64 * 1024;
/** Zero runs shorter than this stay inside the data chunks around them. */
const HOLE_CHUNK_MIN = 4096;

export function shouldLookForHoles(top: Next, length: number, df: boolean, negotiatedContexts: number): boolean {
  return !df && length >= SPARSE_READ_MIN && top.canExtents() && negotiatedContexts === 0;
}

/**
 * Split a read into runs to send as data (EXTENT_DATA) and as holes (EXTENT_ZERO); short
 * zero runs stay inside the data runs around them.
 */
export function readSegments(extents: readonly Extent[], end: number): Extent[] {
  const out: Extent[] = [];
  for (const e of extents) {
    const hole = (e.flags & EXTENT_ZERO) !== 0 && e.length >= HOLE_CHUNK_MIN;
    pushExtent(out, e.offset, e.length, hole ? EXTENT_ZERO : EXTENT_DATA);
  }
  // An extent list may stop short (a cap): the rest is read as data.
  const last = out[out.length - 1];
  const covered = last ? last.offset + last.length : end;
  if (covered < end) pushExtent(out, covered, end - covered, EXTENT_DATA);
  return out;
}
