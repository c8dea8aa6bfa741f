import { describe, expect, it } from 'vitest';
import { bitRuns } from './sector-bitmap.ts';

describe('bitRuns', () => {
  it('reads VHD bitmaps most significant bit first', () => {
    expect(bitRuns(Buffer.from([0b11000000, 0xff]), 0, 16, 'msb-first')).toEqual([
      [0, 2, true],
      [2, 8, false],
      [8, 16, true],
    ]);
  });

  it('reads VHDX bitmaps least significant bit first', () => {
    expect(bitRuns(Buffer.from([0b00000011, 0x00]), 0, 16, 'lsb-first')).toEqual([
      [0, 2, true],
      [2, 16, false],
    ]);
  });

  it('starts and stops inside bytes', () => {
    expect(bitRuns(Buffer.from([0xff, 0xff, 0x00]), 3, 20, 'msb-first')).toEqual([
      [3, 16, true],
      [16, 20, false],
    ]);
  });
});
