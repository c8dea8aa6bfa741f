// What the outermost layer tells clients never puts a hole or zero boundary inside a
// 512-byte sector. qemu (and anything else working in sectors) takes a sector that starts in
// a reported hole for zero, so a boundary at an odd byte (an offset window at 1234567, a
// partition or truncate size that is not a sector multiple, a plugin with byte-granular
// holes) would zero the first bytes of the data after it. A sector reads as zero only if
// all of it does: a shared sector gets the flags all its pieces have in common.
import { pushExtent, type Extent } from '../../shared/extents.ts';
import { MAX_EXTENTS } from './extents.ts';

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

// Most answers need none of that work: a scan of a 1 TiB disk of ten million extents passed
// every extent through normalizeExtents, alignToSectors and a clip, each a fresh object per
// extent, although all of them were already sorted, coalesced and on sector boundaries. The
// two checks below say, in one pass and without copying, when such a pass would change nothing.

/**
 * True when normalizeExtents(raw, offset, count, { tailIsHole }) would return entries equal
 * to `raw`'s: contiguous from `offset` within the range, no empty or NONE entries, wire flags
 * only, no two neighbours with the same flags, at most MAX_EXTENTS, and (under tailIsHole)
 * covering the range to its end.
 */
export function isNormalized(raw: readonly Extent[], offset: number, count: number, tailIsHole: boolean): boolean {
  if (raw.length === 0 || raw.length > MAX_EXTENTS) return false;
  const end = offset + count;
  let pos = offset;
  let prevFlags = -1;
  for (let i = 0; i < raw.length; i++) {
    const e = raw[i]!;
    // `flags & 3` is NaN-proof: anything but a small wire value fails the equality.
    if (e.offset !== pos || !(e.length > 0) || !Number.isSafeInteger(e.length) || e.flags !== (e.flags & 3) || e.flags === prevFlags) return false;
    pos += e.length;
    if (pos > end) return false;
    prevFlags = e.flags;
  }
  return !tailIsHole || pos === end;
}

/**
 * True when alignToSectors(list, size) would return entries equal to `list`'s: a contiguous
 * list whose every boundary is a sector multiple (or the disk's end) and whose neighbours
 * differ in flags.
 */
export function isSectorAligned(list: readonly Extent[], size: number): boolean {
  let prevEnd = list.length > 0 ? list[0]!.offset : 0;
  // Each start is the end before it, so only the first start and every end need checking;
  // and `x / SECTOR` is exact, where `%` on offsets past 2^31 took most of this loop's time.
  if (!Number.isInteger(prevEnd / SECTOR)) return false;
  let prevFlags = -1;
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!;
    const end = e.offset + e.length;
    if (e.offset !== prevEnd || !(e.length > 0) || (!Number.isInteger(end / SECTOR) && end !== size) || e.flags === prevFlags) return false;
    prevEnd = end;
    prevFlags = e.flags;
  }
  return true;
}
