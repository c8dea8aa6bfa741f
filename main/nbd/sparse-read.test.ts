import fc from 'fast-check';
import { expect, it } from 'vitest';
import { EXTENT_DATA, EXTENT_HOLE, EXTENT_HOLE_ZERO, EXTENT_ZERO, type Extent } from '../../shared/extents.ts';
import { propertyParams } from '../testing/property-params.ts';
import { readSegments } from './sparse-read.ts';

it('keeps short zero runs inside data, and merges what the chain split', () => {
  const extents: Extent[] = [
    { offset: 0, length: 8192, flags: EXTENT_DATA },
    { offset: 8192, length: 100, flags: EXTENT_HOLE_ZERO },
    { offset: 8292, length: 4000, flags: EXTENT_DATA },
    { offset: 12292, length: 4096, flags: EXTENT_ZERO },
    { offset: 16388, length: 8192, flags: EXTENT_HOLE_ZERO },
    { offset: 24580, length: 4096, flags: EXTENT_HOLE },
  ];
  expect(readSegments(extents, 30000)).toEqual([
    { offset: 0, length: 12292, flags: EXTENT_DATA },
    { offset: 12292, length: 12288, flags: EXTENT_ZERO },
    // A hole that does not read as zero is data, and so is the tail the list stopped short of.
    { offset: 24580, length: 5420, flags: EXTENT_DATA },
  ]);
});

const extentList = fc
  .record({
    start: fc.integer({ min: 0, max: 2 ** 40 }),
    runs: fc.array(fc.record({ length: fc.integer({ min: 1, max: 20000 }), flags: fc.constantFrom(0, 1, 2, 3) }), { minLength: 1, maxLength: 30 }),
    shortBy: fc.nat({ max: 10000 }),
  })
  .map(({ start, runs, shortBy }) => {
    const extents: Extent[] = [];
    let at = start;
    for (const r of runs) {
      extents.push({ offset: at, length: r.length, flags: r.flags });
      at += r.length;
    }
    return { extents, end: at + shortBy };
  });

it('covers the whole read with maximal data and hole runs, holes only where long zero extents are', () => {
  fc.assert(
    fc.property(extentList, ({ extents, end }) => {
      const segments = readSegments(extents, end);
      let at = extents[0]!.offset;
      for (const [i, s] of segments.entries()) {
        expect(s.offset).toBe(at);
        expect(s.length).toBeGreaterThan(0);
        expect([EXTENT_DATA, EXTENT_ZERO]).toContain(s.flags);
        if (i > 0) expect(s.flags).not.toBe(segments[i - 1]!.flags);
        at += s.length;
      }
      expect(at).toBe(end);
      for (const e of extents) {
        const hole = (e.flags & EXTENT_ZERO) !== 0 && e.length >= 4096;
        const s = segments.find((x) => x.offset <= e.offset && e.offset + e.length <= x.offset + x.length);
        expect(s?.flags).toBe(hole ? EXTENT_ZERO : EXTENT_DATA);
      }
    }),
    propertyParams(300),
  );
});
