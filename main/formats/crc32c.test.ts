import { describe, expect, it } from 'vitest';
import { crc32c, crc32cWithFieldZeroed } from './crc32c.ts';

describe('crc32c', () => {
  it('matches the standard check value for "123456789"', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('of 32 zero bytes is the RFC 3720 test vector', () => {
    expect(crc32c(Buffer.alloc(32))).toBe(0x8a9136aa);
  });

  it('ignores the checksum field when asked to', () => {
    const a = Buffer.from('abcdefgh');
    const b = Buffer.from('abcdXXXX');
    expect(crc32cWithFieldZeroed(a, 4)).toBe(crc32cWithFieldZeroed(b, 4));
  });
});
