import { describe, expect, it } from 'vitest';
import { parseGoTo, viewAround } from './goto.ts';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

describe('parseGoTo', () => {
  it('reads hex, decimal and sizes with units', () => {
    expect(parseGoTo('0x1f000', 4 * GiB)).toEqual({ offset: 0x1f000 });
    expect(parseGoTo('0X1F000', 4 * GiB)).toEqual({ offset: 0x1f000 });
    expect(parseGoTo('1048576', 4 * GiB)).toEqual({ offset: MiB });
    expect(parseGoTo(' 1.5G ', 4 * GiB)).toEqual({ offset: 1.5 * GiB });
    expect(parseGoTo('512K', 4 * GiB)).toEqual({ offset: 512 * 1024 });
    expect(parseGoTo('1_048_576', 4 * GiB)).toEqual({ offset: MiB });
  });

  it('says why a text is not an offset on this disk', () => {
    expect(parseGoTo('lots', GiB)).toEqual({ error: "'lots' is not an offset (examples: 0x1f000, 1048576, 1.5G, 512K)" });
    expect(parseGoTo('2G', GiB)).toEqual({ error: '2 GiB is past the end of the 1 GiB disk' });
    expect(parseGoTo('', GiB)).toEqual({ error: 'type an offset: 0x1f000, 1048576, 1.5G or 512K' });
  });
});

describe('viewAround', () => {
  it('zooms the whole disk in to 1/64 of it, centred on the offset', () => {
    expect(viewAround({ start: 0, end: 64 * MiB }, 32 * MiB, 64 * MiB)).toEqual({ start: 31.5 * MiB, end: 32.5 * MiB });
  });

  it('keeps a closer zoom, and stays on the disk at its edges', () => {
    expect(viewAround({ start: 0, end: 8192 }, 40 * MiB, 64 * MiB)).toEqual({ start: 40 * MiB - 4096, end: 40 * MiB + 4096 });
    expect(viewAround({ start: 0, end: 64 * MiB }, 100, 64 * MiB)).toEqual({ start: 0, end: MiB });
  });
});
