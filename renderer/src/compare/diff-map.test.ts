import { describe, expect, it } from 'vitest';
import type { CompareRange } from '../../../shared/ipc.ts';
import { packRgb } from '../map/paint.ts';
import { PALETTES } from '../map/palette.ts';
import { differenceAt, diffColours, diffColumns, paintDiff } from './diff-map.ts';

const ranges: CompareRange[] = [
  { offset: 10, length: 1, class: 'differ' },
  { offset: 250, length: 100, class: 'only-b' },
];

describe('diffColumns', () => {
  it('splits ranges over columns and leaves the rest identical', () => {
    const cols = diffColumns(ranges, 400, 4);
    expect([...cols.bytes.differ]).toEqual([1, 0, 0, 0]);
    expect([...cols.bytes['only-b']]).toEqual([0, 0, 50, 50]);
    expect([...cols.bytes.identical]).toEqual([99, 100, 50, 50]);
    expect([...cols.bytes['only-a']]).toEqual([0, 0, 0, 0]);
  });
});

describe('paintDiff', () => {
  it('a one-byte difference in a column of 100 bytes still gets its minimum rows, at the bottom', () => {
    const colours = diffColours(PALETTES.dark, 'dark');
    const target = { data: new Uint8ClampedArray(4 * 4 * 20), width: 4, height: 20 };
    paintDiff(target, diffColumns(ranges, 400, 4), colours, PALETTES.dark.background);
    const words = new Uint32Array(target.data.buffer);
    const at = (x: number, y: number) => words[y * 4 + x];
    expect(at(0, 19)).toBe(packRgb(colours.differ));
    expect(at(0, 18)).toBe(packRgb(colours.differ)); // DATA_MIN_PIXELS
    expect(at(0, 0)).toBe(packRgb(colours.identical));
    expect(at(1, 19)).toBe(packRgb(colours.identical));
    expect(at(2, 19)).toBe(packRgb(colours['only-b']));
    expect(at(3, 0)).toBe(packRgb(colours.identical));
  });
});

describe('differenceAt', () => {
  it('the difference holding the offset, else the next, else the last', () => {
    expect(differenceAt(ranges, 0)).toBe(0);
    expect(differenceAt(ranges, 10)).toBe(0);
    expect(differenceAt(ranges, 11)).toBe(1);
    expect(differenceAt(ranges, 349)).toBe(1);
    expect(differenceAt(ranges, 350)).toBe(1);
    expect(differenceAt([], 5)).toBe(-1);
  });
});
