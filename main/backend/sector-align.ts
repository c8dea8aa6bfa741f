// What the outermost layer tells clients never puts a hole or zero boundary inside a
// 512-byte sector. qemu (and anything else working in sectors) takes a sector that starts in
// a reported hole for zero, so a boundary at an odd byte (an offset window at 1234567, a
// partition or truncate size that is not a sector multiple, a plugin with byte-granular
// holes) would zero the first bytes of the data after it. A sector reads as zero only if
// all of it does: a shared sector gets the flags all its pieces have in common.
import { pushExtent, type Extent } from '../../shared/extents.ts';

export const SECTOR = 512;

const ALL_FLAGS = 3;

/**
 * `list` is contiguous from a sector-aligned offset, answering a range that ends at a sector
 * multiple or at the disk's `size`. Where it stops short inside a sector, what follows is
 * unknown: the reply ends at the sector before, or, if nothing would be left, that partial
 * sector is reported as data (always a safe answer).
 */
export function alignToSectors(list: readonly Extent[], size: number): Extent[] {
  const out: Extent[] = [];
  const push = (at: number, length: number, flags: number): void => pushExtent(out, at, length, flags);
  const last = list[list.length - 1];
  if (!last) return out;
  const end = last.offset + last.length;
  let i = 0;
  let pos = list[0]!.offset;
  while (pos < end) {
    const e = list[i]!;
    const eEnd = e.offset + e.length;
    if (pos % SECTOR === 0) {
      // The whole sectors of this extent keep its flags.
      const whole = eEnd === size ? eEnd : eEnd - (eEnd % SECTOR);
      if (whole > pos) {
        push(pos, whole - pos, e.flags);
        pos = whole;
        if (pos === eEnd) i++;
        continue;
      }
    }
    // A sector shared by several extents, or one the list does not cover to its end.
    const sectorEnd = Math.min(pos - (pos % SECTOR) + SECTOR, size);
    const stop = Math.min(sectorEnd, end);
    if (stop < sectorEnd && out.length > 0) break;
    let flags = stop < sectorEnd ? 0 : ALL_FLAGS;
    const from = pos;
    while (pos < stop) {
      const piece = list[i]!;
      flags &= piece.flags;
      const pieceEnd = piece.offset + piece.length;
      if (pieceEnd <= stop) {
        pos = pieceEnd;
        i++;
      } else {
        pos = stop;
      }
    }
    push(from, stop - from, flags);
  }
  return out;
}
