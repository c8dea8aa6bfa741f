import { describe, expect, it } from 'vitest';
import { axisLabels } from './axis.ts';

const GiB = 2 ** 30;

describe('axisLabels', () => {
  it('names each tick in round units across the whole disk', () => {
    expect(axisLabels({ start: 0, end: 64 * GiB })).toEqual(['0 B', '16 GiB', '32 GiB', '48 GiB', '64 GiB']);
  });

  it('gives the exact first offset and distances after it when the ticks would read the same', () => {
    const start = 32 * GiB;
    expect(axisLabels({ start, end: start + 8192 })).toEqual(['0x800000000', '+2 KiB', '+4 KiB', '+6 KiB', '+8 KiB']);
  });

  it('never repeats a label, at any zoom into a large disk', () => {
    for (let span = 64 * GiB; span >= 8192; span /= 2) {
      const start = Math.round(37 * GiB - span / 3);
      const labels = axisLabels({ start, end: start + span });
      expect(new Set(labels).size, labels.join(' | ')).toBe(5);
    }
  });
});
