import { describe, expect, it } from 'vitest';
import { formatBytes, formatExact, formatHex, formatPercent } from './bytes.ts';
import { hexRows, isZeroRow } from './hex.ts';

describe('formatBytes', () => {
  it('prints binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(64 * 2 ** 30)).toBe('64 GiB');
    expect(formatBytes(100 * 2 ** 20)).toBe('100 MiB');
  });
});

describe('exact numbers', () => {
  it('groups thousands', () => expect(formatExact(1073741824)).toBe('1\u202f073\u202f741\u202f824'));
  it('prints hex', () => expect(formatHex(4096, 8)).toBe('0x00001000'));
  it('shows tiny fractions as <0.1%', () => expect(formatPercent(1, 10_000)).toBe('<0.1%'));
  it('rounds percentages', () => expect(formatPercent(1, 3)).toBe('33%'));
  it('never rounds a part short of the whole up to 100%', () => {
    expect(formatPercent(9_999, 10_000)).toBe('>99.9%');
    expect(formatPercent(9_970, 10_000)).toBe('99.7%');
    expect(formatPercent(10_000, 10_000)).toBe('100%');
  });
});

describe('hexRows', () => {
  it('prints offset, hex with a gap after eight bytes, and ASCII', () => {
    const bytes = new TextEncoder().encode('Blockscope\x00\x01 rocks');
    const [row] = hexRows(bytes, 0x200);
    expect(row).toEqual({
      offset: 0x200,
      hex: '42 6c 6f 63 6b 73 63 6f  70 65 00 01 20 72 6f 63',
      ascii: 'Blockscope.. roc',
    });
  });

  it('pads a short last row', () => {
    const rows = hexRows(new Uint8Array(18), 0);
    expect(rows).toHaveLength(2);
    expect(rows[1]!.hex.startsWith('00 00  ')).toBe(true);
  });

  it('recognises zero rows', () => {
    const b = new Uint8Array(32);
    b[20] = 1;
    expect([isZeroRow(b, 0), isZeroRow(b, 16)]).toEqual([true, false]);
  });
});
