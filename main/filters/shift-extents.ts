// Filters that move offsets (offset, partition) ask the layer below for its extents and
// shift them into their own coordinates: one helper, so the arithmetic is written once.
import type { Extent } from '../../shared/extents.ts';

export function shiftExtents(list: readonly Extent[], by: number): Extent[] {
  return list.map((e) => ({ offset: e.offset + by, length: e.length, flags: e.flags }));
}
