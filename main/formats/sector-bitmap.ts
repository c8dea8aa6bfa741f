// Per-sector presence bitmaps (VHD blocks, VHDX partially present blocks): runs of equal
// bits, skipping whole bytes at a time because real bitmaps are mostly all-ones or all-zeros.

export type BitOrder = 'msb-first' | 'lsb-first';

function bitAt(bitmap: Buffer, i: number, order: BitOrder): boolean {
  const byte = bitmap[i >> 3]!;
  return ((order === 'msb-first' ? byte >> (7 - (i & 7)) : byte >> (i & 7)) & 1) === 1;
}

/** Runs [start, end) of equal bits covering bits [first, end) of `bitmap`, in order. */
export function bitRuns(bitmap: Buffer, first: number, end: number, order: BitOrder): [start: number, stop: number, set: boolean][] {
  const out: [number, number, boolean][] = [];
  let i = first;
  while (i < end) {
    const set = bitAt(bitmap, i, order);
    const uniform = set ? 0xff : 0x00;
    let j = i + 1;
    while (j < end) {
      if ((j & 7) === 0 && j + 8 <= end && bitmap[j >> 3] === uniform) {
        j += 8;
      } else if (bitAt(bitmap, j, order) === set) {
        j += 1;
      } else {
        break;
      }
    }
    out.push([i, j, set]);
    i = j;
  }
  return out;
}
