import { describe, expect, it } from 'vitest';
import { isPowerOfTwo, requirePowerOfTwo } from './power-of-two.ts';

describe('isPowerOfTwo', () => {
  it('accepts powers of 2, including beyond 32 bits', () => {
    expect([1, 4096, 2 ** 31, 2 ** 40].map(isPowerOfTwo)).toEqual([true, true, true, true]);
  });

  it('refuses everything else', () => {
    expect([0, 3, 12288, 2 ** 40 + 2 ** 39, -4, 0.5].map(isPowerOfTwo)).toEqual([false, false, false, false, false, false]);
  });

  it('names the filter and key in the error', () => {
    expect(() => requirePowerOfTwo('f', 'k', 6)).toThrow('f: k: 6 is not a power of 2');
    expect(() => requirePowerOfTwo('f', 'k', undefined)).not.toThrow();
  });
});
