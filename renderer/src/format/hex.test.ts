import { describe, expect, it } from 'vitest';
import { hexDigits, parsePattern, rangeBetween, rangeSuffix } from './hex.ts';

describe('parsePattern', () => {
  it('reads hex bytes however they are spaced', () => {
    for (const text of ['de ad be ef', 'DEADBEEF', '0xde 0xad 0xbe 0xef', 'de:ad:be:ef']) {
      expect(parsePattern(text, 'hex')).toEqual({ bytes: Uint8Array.from([0xde, 0xad, 0xbe, 0xef]) });
    }
  });

  it('says what is wrong with hex that is not', () => {
    expect(parsePattern('de a', 'hex')).toEqual({ error: 'hex bytes take two digits each (0a, not a)' });
    expect(parsePattern('xyz', 'hex')).toEqual({ error: "'xyz' is not hex bytes (example: de ad be ef)" });
    expect(parsePattern('  ', 'hex')).toEqual({ error: 'type the bytes to find, in hex: de ad be ef' });
  });

  it('searches text as its UTF-8 bytes', () => {
    expect(parsePattern('é!', 'text')).toEqual({ bytes: Uint8Array.from([0xc3, 0xa9, 0x21]) });
    expect(parsePattern('', 'text')).toEqual({ error: 'type the text to find' });
  });
});

describe('ranges', () => {
  it('includes both ends in either order', () => {
    expect(rangeBetween(10, 4)).toEqual({ start: 4, end: 11 });
    expect(rangeBetween(4, 4)).toEqual({ start: 4, end: 5 });
  });

  it('names a saved range by its first and last byte', () => {
    expect(rangeSuffix({ start: 0x1000, end: 0x2000 })).toBe('-0x1000-0x1fff.bin');
    expect(rangeSuffix({ start: 0, end: 1 })).toBe('-0x0-0x0.bin');
  });

  it('prints bytes as hex digits', () => {
    expect(hexDigits(Uint8Array.from([0, 0xab, 7]), ' ')).toBe('00 ab 07');
    expect(hexDigits(Uint8Array.from([0xde, 0xad]))).toBe('dead');
  });
});
