// truncate: change the disk's size (nbdkit-truncate-filter). A shorter disk hides the end
// of the layer below; a longer one adds a tail that reads as zeroes, accepts writes of
// zeroes only (anything else is ENOSPC: there is no space behind it) and shows as a hole.
import { EXTENT_HOLE_ZERO } from '../../../shared/extents.ts';
import { BlockError } from '../../backend/errors.ts';
import { defineFilter } from '../../backend/types.ts';
import { extentsEnd, extentsFull } from '../extents-full.ts';
import { requirePowerOfTwo } from '../power-of-two.ts';

/** nbdkit's order: the absolute size first, then round up, then round down. */
export function truncatedSize(below: number, truncate?: number, roundUp?: number, roundDown?: number): number {
  let size = truncate ?? below;
  if (roundUp) size = Math.ceil(size / roundUp) * roundUp;
  if (roundDown) size = Math.floor(size / roundDown) * roundDown;
  if (!Number.isSafeInteger(size)) throw new BlockError('EINVAL', `truncate: size ${size} is beyond 2^53 bytes`);
  return size;
}

export const truncateFilter = defineFilter({
  name: 'truncate',
  summary: 'shrink, grow or round the size of the disk',
  params: [
    { key: 'truncate', kind: 'size', description: 'the new size; a larger disk reads as zeroes past the old end' },
    { key: 'round-up', kind: 'size', min: 1, description: 'round the size up to a multiple of this (a power of 2)' },
    { key: 'round-down', kind: 'size', min: 1, description: 'round the size down to a multiple of this (a power of 2)' },
  ],
  create(params) {
    const truncate = params['truncate'];
    const roundUp = params['round-up'];
    const roundDown = params['round-down'];
    requirePowerOfTwo('truncate', 'round-up', roundUp);
    requirePowerOfTwo('truncate', 'round-down', roundDown);
    return {
      open(next) {
        const real = next.getSize();
        const size = truncatedSize(real, truncate, roundUp, roundDown);
        /** The part of [offset, offset+count) that exists below, as a length (0 if none). */
        const belowPart = (count: number, offset: number) => Math.max(0, Math.min(count, real - offset));
        return {
          getSize: () => size,
          async pread(buf, offset, flags) {
            const n = belowPart(buf.length, offset);
            if (n > 0) await next.pread(buf.subarray(0, n), offset, flags);
            buf.fill(0, n);
          },
          async pwrite(buf, offset, flags) {
            const n = belowPart(buf.length, offset);
            const tail = buf.subarray(n);
            if (tail.some((b) => b !== 0)) {
              throw new BlockError('ENOSPC', `truncate: cannot write data beyond the end of the layer below (${real} bytes); only zeroes fit there`);
            }
            if (n > 0) await next.pwrite(buf.subarray(0, n), offset, flags);
          },
          async trim(count, offset, flags) {
            const n = belowPart(count, offset);
            if (n > 0) await next.trim(n, offset, flags);
          },
          async zero(count, offset, flags) {
            const n = belowPart(count, offset);
            if (n > 0) await next.zero(n, offset, flags);
          },
          async cache(count, offset, flags) {
            const n = belowPart(count, offset);
            if (n > 0) await next.cache(n, offset, flags);
          },
          async extents(count, offset, flags) {
            const n = belowPart(count, offset);
            const list = n > 0 ? await extentsFull(next, n, offset, flags) : [];
            // The added tail is a hole, but only right after a lower answer that got that far.
            if (n < count && extentsEnd(list, offset) === offset + n) list.push({ offset: offset + n, length: count - n, flags: EXTENT_HOLE_ZERO });
            return list;
          },
        };
      },
    };
  },
});
