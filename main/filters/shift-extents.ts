// Filters that move offsets (offset, partition) ask the layer below for its extents and
// shift them into their own coordinates: one helper, so the arithmetic is written once.

export function shiftExtents<T extends { offset: number }>(list: readonly T[], by: number): T[] {
  return list.map((e) => ({ ...e, offset: e.offset + by }));
}
