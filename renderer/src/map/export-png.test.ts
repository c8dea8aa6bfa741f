import { describe, expect, it } from 'vitest';
import { legendItems } from './export-png.ts';
import { PALETTES, backingColour } from './palette.ts';

const dark = { palette: PALETTES.dark };
const GiB = 2 ** 30;

describe('legendItems', () => {
  it('names each kind the image holds with its exact total and share, leaving out kinds it lacks', () => {
    const items = legendItems(dark, { title: 'disk.img', size: 64 * GiB, totals: { data: 12288, zero: 0, hole: 64 * GiB - 12288, holeUndefined: 0, unknown: 0 } });
    expect(items).toEqual([
      { colour: PALETTES.dark.kinds.data, text: 'data 12 KiB (0.000018%)' },
      { colour: PALETTES.dark.kinds.hole, text: 'hole 64 GiB (>99.99%)' },
    ]);
  });

  it("splits data held by backing files out of the image's own, and hatches what is not scanned", () => {
    const items = legendItems(dark, { title: 'top.qcow2', size: 4096 * 4, totals: { data: 8192, zero: 0, hole: 4096, holeUndefined: 0, unknown: 4096, backing: [4096] } });
    expect(items.map((i) => i.colour)).toEqual([PALETTES.dark.kinds.data, backingColour(PALETTES.dark, 1), PALETTES.dark.kinds.hole, 'hatch']);
    expect(items.map((i) => i.text)).toEqual(['data 4 KiB (25%)', 'backing 1 4 KiB (25%)', 'hole 4 KiB (25%)', 'not scanned 4 KiB (25%)']);
  });
});
