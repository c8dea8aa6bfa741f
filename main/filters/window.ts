// Filters that serve a byte range of the layer below as a whole disk (offset, partition)
// differ only in how they find the range; the request forwarding is written once here.
import type { FilterHandle, Next } from '../backend/types.ts';
import { shiftExtents } from './shift-extents.ts';

/** A handle exposing [start, start+size) of `next` as [0, size). The backend has range-checked every request against `size`. */
export function windowOnto(next: Next, start: number, size: number): FilterHandle {
  return {
    getSize: () => size,
    pread: (buf, off, flags) => next.pread(buf, off + start, flags),
    pwrite: (buf, off, flags) => next.pwrite(buf, off + start, flags),
    trim: (count, off, flags) => next.trim(count, off + start, flags),
    zero: (count, off, flags) => next.zero(count, off + start, flags),
    cache: (count, off, flags) => next.cache(count, off + start, flags),
    extents: async (count, off, flags) => shiftExtents(await next.extents(count, off + start, flags), -start),
    ...(next.canAllocationDepth()
      ? { allocationDepth: async (count: number, off: number) => shiftExtents(await next.allocationDepth(count, off + start), -start) }
      : {}),
  };
}
