import { describe, expect, it } from 'vitest';
import { readAll } from '../../backend/testing.ts';
import { openTestChain } from '../../testing/chains.ts';

const open = (bits: string, size = '1M') => openTestChain('memory', { size }, [['swab', { 'swab-bits': bits }]]);

describe('swab filter', () => {
  it('reads each 16-bit word byte-swapped (the default), and writes swap back', async () => {
    const o = await openTestChain('memory', { size: '1M' }, [['swab'], ['swab', { 'swab-bits': '8' }]]);
    await o.top.pwrite(Buffer.from([0, 1, 2, 3]), 0);
    expect([...(await readAll(o, 0, 4))]).toEqual([0, 1, 2, 3]);
    const plain = await openTestChain('memory', { size: '1M' }, [['swab', { 'swab-bits': '8' }], ['swab']]);
    await plain.top.pwrite(Buffer.from([0, 1, 2, 3]), 0);
    expect([...(await readAll(plain, 0, 4))]).toEqual([0, 1, 2, 3]);
  });

  it('swaps 16-, 32- and 64-bit words of the pattern plugin (offset 8 holds 00 .. 00 08)', async () => {
    const at8 = async (bits: string) => [...(await readAll(await openTestChain('pattern', { size: '1M' }, [['swab', { 'swab-bits': bits }]]), 8, 8))];
    expect(await at8('8')).toEqual([0, 0, 0, 0, 0, 0, 0, 8]);
    expect(await at8('16')).toEqual([0, 0, 0, 0, 0, 0, 8, 0]);
    expect(await at8('32')).toEqual([0, 0, 0, 0, 8, 0, 0, 0]);
    expect(await at8('64')).toEqual([8, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('leaves the caller\'s buffer as it was', async () => {
    const o = await open('16');
    const buf = Buffer.from([1, 2]);
    await o.top.pwrite(buf, 0);
    expect([...buf]).toEqual([1, 2]);
  });

  it('rounds the size down to whole words and refuses requests that split one with EINVAL', async () => {
    const o = await open('64', '1001');
    expect(o.top.getSize()).toBe(1000);
    await expect(o.top.pread(Buffer.alloc(8), 4)).rejects.toThrow('swab: pread of 8 bytes at 4 splits a 64-bit word');
    await expect(o.top.zero(4, 0)).rejects.toMatchObject({ code: 'EINVAL' });
  });
});
