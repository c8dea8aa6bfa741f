import { describe, expect, it } from 'vitest';
import { readAll } from '../../backend/testing.ts';
import { openTestChain } from '../../testing/chains.ts';
import { parseRanges, protectedParts } from './ranges.ts';

const LAST = Number.MAX_SAFE_INTEGER;

describe('protect ranges', () => {
  it('parse decimal, octal and hex ends, open ends, complements, and merge', () => {
    expect(parseRanges('0-511')).toEqual([{ start: 0, end: 511 }]);
    expect(parseRanges('0x200-01777,1024-')).toEqual([{ start: 512, end: LAST }]);
    expect(parseRanges('-99,~200-299')).toEqual([{ start: 0, end: 199 }, { start: 300, end: LAST }]);
    expect(() => parseRanges('5-1')).toThrow("'5-1': the end is before the start");
    expect(() => parseRanges('100')).toThrow("'100' is not START-END (missing '-')");
  });

  it('find the protected parts of a request', () => {
    expect(protectedParts(parseRanges('100-199,300-399'), 150, 200)).toEqual([[150, 200], [300, 350]]);
  });
});

describe('protect filter', () => {
  it('refuses a write that would change protected bytes with EPERM, and changes nothing', async () => {
    await expect(openTestChain('memory', { size: '1M' }, [['protect', { protect: '512-1023' }]]).then((o) => o.top.pwrite(Buffer.alloc(1024, 7), 0)))
      .rejects.toThrow('protect: bytes 512-1023 are protected');
    const o = await openTestChain('memory', { size: '1M' }, [['protect', { protect: '512-1023' }]]);
    await expect(o.top.pwrite(Buffer.from([1, 2]), 1023)).rejects.toMatchObject({ code: 'EPERM' });
    expect([...(await readAll(o, 1022, 3))]).toEqual([0, 0, 0]);
  });

  it('allows writes outside, and writes inside that leave the bytes as they are', async () => {
    const o = await openTestChain('memory', { size: '1M' }, [['protect', { protect: '512-1023' }]]);
    await o.top.pwrite(Buffer.from([0, 0, 9]), 1022);
    await o.top.pwrite(Buffer.from([5]), 511);
    expect([...(await readAll(o, 510, 2)), ...(await readAll(o, 1022, 3))]).toEqual([0, 5, 0, 0, 9]);
  });

  it('allows trim and zero of protected bytes only where they already read as zero', async () => {
    const zeroes = await openTestChain('memory', { size: '1M' }, [['protect', { protect: '~0-4095' }]]);
    await zeroes.top.pwrite(Buffer.alloc(4096, 1), 0);
    await zeroes.top.trim(4096, 0);
    await zeroes.top.zero(8192, 2048);
    // pattern's bytes are never all zero; cow makes it writable below protect.
    const pattern = await openTestChain('pattern', { size: '1M' }, [['protect', { protect: '4096-' }], ['cow']]);
    await pattern.top.zero(4096, 0);
    // pattern holds each offset as a big-endian 64-bit number: 4102 holds 0x10.
    await pattern.top.zero(4102, 0);
    await expect(pattern.top.zero(4103, 0)).rejects.toThrow('protect: bytes 4096-4102 are protected');
    await expect(pattern.top.trim(512, 8192)).rejects.toMatchObject({ code: 'EPERM' });
  });
});
