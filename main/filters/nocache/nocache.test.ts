import { describe, expect, it } from 'vitest';
import { probedChain } from '../fua/probed-chain.ts';
import { nocacheFilter } from './index.ts';

const open = (cachemode: string) => probedChain(nocacheFilter, { cachemode }, '4M', ['pread', 'cache']);

describe('nocache filter', () => {
  it('cachemode=none (the default) stops advertising cache', async () => {
    const { top } = await probedChain(nocacheFilter, {});
    expect(top.canCache()).toBe('none');
    await expect(top.cache(4096, 0)).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('cachemode=emulate caches by reading the range', async () => {
    const { top, seen } = await open('emulate');
    await top.cache(4096, 8192);
    expect(seen()).toEqual([['pread', 4096, 8192, 0]]);
  });

  it('cachemode=nop accepts cache requests and does nothing', async () => {
    const { top, seen } = await open('nop');
    expect(top.canCache()).toBe('native');
    await top.cache(4096, 8192);
    expect(seen()).toEqual([]);
  });
});
