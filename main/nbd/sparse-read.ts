// The sparse-read policy: with structured replies and no DF, a long read of a range the chain
// reports as reading zero is answered with OFFSET_HOLE chunks (as qemu-nbd does), so holes do
// not travel as bytes. A client that negotiated base:allocation already knows where the holes
// are and reads data on purpose (nbdcopy, qemu-img convert): looking again would only cost.
import { EXTENT_ZERO, type Extent } from '../../shared/extents.ts';
import type { Next } from '../backend/types.ts';

/** Reads shorter than this are sent as data whatever they hold. */
const SPARSE_READ_MIN = 64 * 1024;
/** Zero runs shorter than this stay inside the data chunks around them. */
const HOLE_CHUNK_MIN = 4096;

export interface ReadSegment {
  offset: number;
  length: number;
  zero: boolean;
}

export function shouldLookForHoles(top: Next, length: number, df: boolean, negotiatedContexts: number): boolean {
  return !df && length >= SPARSE_READ_MIN && top.canExtents() && negotiatedContexts === 0;
}

/** Split a read into data and zero runs; short zero runs stay inside data runs. */
export function readSegments(extents: readonly Extent[], end: number): ReadSegment[] {
  const out: ReadSegment[] = [];
  const add = (offset: number, length: number, zero: boolean) => {
    const last = out[out.length - 1];
    if (last && last.zero === zero) last.length += length;
    else out.push({ offset, length, zero });
  };
  for (const e of extents) add(e.offset, e.length, (e.flags & EXTENT_ZERO) !== 0 && e.length >= HOLE_CHUNK_MIN);
  // An extent list may stop short (a cap): the rest is read as data.
  const covered = out.length ? out[out.length - 1]!.offset + out[out.length - 1]!.length : end;
  if (covered < end) add(covered, end - covered, false);
  return out;
}
