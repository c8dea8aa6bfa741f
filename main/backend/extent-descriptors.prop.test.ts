// Descriptors against the list form: descriptorsAreClean must say yes exactly when the list the
// descriptors stand for is one extents() would pass unchanged (isNormalized without a tail
// claim, and isSectorAligned at the outermost layer), for random answers a hostile or sloppy
// server could send: empty extents, flags past the wire bits, equal neighbours, answers that
// run past the range, boundaries off the sector grid.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Extent } from '../../shared/extents.ts';
import { propertyParams } from '../testing/property-params.ts';
import { clipDescriptors, DescriptorWriter, descriptorsAreClean, descriptorsToExtents, forEachDescriptor, type ExtentDescriptors } from './extent-descriptors.ts';
import { isNormalized, isSectorAligned, SECTOR } from './sector-align.ts';

function encode(offset: number, pairs: readonly [length: number, flags: number][]): ExtentDescriptors {
  const out = new DescriptorWriter(offset);
  for (const [length, flags] of pairs) out.push(length, flags);
  return out.finish();
}

// Lengths mostly on the sector grid (so clean answers are common), sometimes anywhere or empty.
const lengthArb = fc.oneof(
  fc.integer({ min: 1, max: 64 }).map((n) => n * SECTOR),
  fc.integer({ min: 0, max: 40_000 }),
  fc.constant(0),
);
const flagsArb = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 9 }));
const answerArb = fc.record({
  sectorOffset: fc.integer({ min: 0, max: 2 ** 40 / SECTOR }),
  nudge: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: SECTOR - 1 })),
  pairs: fc.array(fc.tuple(lengthArb, flagsArb), { maxLength: 12 }),
  /** How far the request reaches relative to the answer's end (negative: the answer runs past it). */
  slack: fc.integer({ min: -700, max: 5000 }),
  /** The disk ends where the answer ends (an unaligned last boundary is then allowed). */
  endsDisk: fc.boolean(),
});

describe('extent descriptors (property)', () => {
  it('are clean exactly when the extents they stand for would pass unchanged', () => {
    fc.assert(fc.property(answerArb, ({ sectorOffset, nudge, pairs, slack, endsDisk }) => {
      const offset = sectorOffset * SECTOR + nudge;
      const d = encode(offset, pairs);
      const list: Extent[] = descriptorsToExtents(d);
      const answerEnd = list.reduce((pos, e) => pos + e.length, offset);
      const count = Math.max(1, answerEnd - offset + slack);
      const size = endsDisk ? answerEnd : Math.ceil((offset + count) / SECTOR) * SECTOR + 4 * SECTOR;
      const normal = list.length > 0 && isNormalized(list, offset, count, false);
      expect(descriptorsAreClean(d, offset, count, null)).toBe(normal);
      expect(descriptorsAreClean(d, offset, count, size)).toBe(normal && Number.isInteger(offset / SECTOR) && isSectorAligned(list, size));
    }), propertyParams(3000));
  });

  it('walk from their offset, each extent starting where the one before ended', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 45 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })), { maxLength: 20 }), (offset, pairs) => {
      const seen: [number, number, number][] = [];
      const end = forEachDescriptor(encode(offset, pairs), (at, length, flags) => seen.push([at, length, flags]));
      let pos = offset;
      expect(seen).toEqual(pairs.map(([length, flags]) => {
        const row: [number, number, number] = [pos, length, flags];
        pos += length;
        return row;
      }));
      expect(end).toBe(pos);
    }), propertyParams(500));
  });

  it('clip to a range as the list clipped extent by extent, leaving the answer as it was', () => {
    const pairArb = fc.tuple(fc.integer({ min: 1, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 3 }));
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 45 }), fc.array(pairArb, { minLength: 1, maxLength: 12 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (start, pairs, a, b) => {
      const d = encode(start, pairs);
      const before = Buffer.from(d.bytes);
      const list = descriptorsToExtents(d);
      const answerEnd = list.reduce((pos, e) => pos + e.length, start);
      // A range that starts inside the answer and ends anywhere from just past its start to past the answer.
      const offset = start + Math.floor(a * (answerEnd - start - 1));
      const end = offset + 1 + Math.floor(b * (answerEnd - offset + 1000));
      const expected = list
        .map((e) => ({ offset: Math.max(e.offset, offset), end: Math.min(e.offset + e.length, end), flags: e.flags }))
        .filter((e) => e.end > e.offset)
        .map((e) => ({ offset: e.offset, length: e.end - e.offset, flags: e.flags }));
      const clipped = clipDescriptors(d, offset, end);
      expect(clipped.offset).toBe(offset);
      expect(descriptorsToExtents(clipped)).toEqual(expected);
      expect(Buffer.from(d.bytes).equals(before)).toBe(true);
    }), propertyParams(2000));
  });

  it('refuse an answer that does not start at the request or holds a partial descriptor', () => {
    const d = encode(4096, [[4096, 0], [4096, 3]]);
    expect(descriptorsAreClean(d, 4096, 8192, 2 ** 20)).toBe(true);
    expect(descriptorsAreClean(d, 0, 16384, 2 ** 20)).toBe(false);
    expect(descriptorsAreClean({ offset: 4096, bytes: d.bytes.subarray(0, 12) }, 4096, 8192, 2 ** 20)).toBe(false);
    expect(descriptorsAreClean({ offset: 4096, bytes: new Uint8Array(0) }, 4096, 8192, null)).toBe(false);
  });
});
