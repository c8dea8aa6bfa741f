import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
// Test support only: the seeds every property in the repository runs with.
// eslint-disable-next-line no-restricted-imports
import { propertyParams } from '../../../main/testing/property-params.ts';
import { differingOffsets, differsAt } from './pair-bytes.ts';
import { gatherRanges } from './use-live-compare.ts';

const side = (offset: number, bytes: number[]) => ({ offset, data: Uint8Array.from(bytes) });

describe('differingOffsets', () => {
  it('lists the offsets whose bytes differ, at the window offset', () => {
    expect(differingOffsets({ a: side(4096, [1, 2, 3, 4]), b: side(4096, [1, 9, 3, 0]) })).toEqual([4097, 4099]);
  });

  it('a side that ends early reads as zeroes past its end', () => {
    const pair = { a: side(0, [0, 7, 0]), b: side(0, [0]) };
    expect(differingOffsets(pair)).toEqual([1]);
    expect(differsAt(pair, 2)).toBe(false);
  });

  it('property: exactly the offsets where the byte arrays (zero-padded) differ', () => {
    fc.assert(
      fc.property(fc.nat(1 << 20), fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), (offset, a, b) => {
        const n = Math.max(a.length, b.length);
        const expected = [...Array(n).keys()].filter((k) => (a[k] ?? 0) !== (b[k] ?? 0)).map((k) => offset + k);
        expect(differingOffsets({ a: { offset, data: a }, b: { offset, data: b } })).toEqual(expected);
      }),
      propertyParams(200),
    );
  });
});

describe('gatherRanges', () => {
  it('keeps ranges as they come while there are few', () => {
    expect(gatherRanges([[0, 10]], [[50, 60], [5, 8]])).toEqual([[0, 10], [50, 60], [5, 8]]);
  });

  it('past the cap sends one span over all of them', () => {
    const many = Array.from({ length: 1100 }, (_, k): [number, number] => [k * 100 + 7, k * 100 + 9]);
    expect(gatherRanges([], many)).toEqual([[7, 109909]]);
  });
});
