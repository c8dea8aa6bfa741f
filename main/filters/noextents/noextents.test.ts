import { describe, expect, it } from 'vitest';
import { EXTENT_DATA as D } from '../../../shared/extents.ts';
import { mapOf } from '../../backend/testing.ts';
import { openTestChain } from '../../testing/chains.ts';

describe('noextents filter', () => {
  it('reports an empty disk as all data', async () => {
    const open = await openTestChain('memory', { size: '1M' }, [['noextents']]);
    expect(await mapOf(open)).toEqual([[0, 1048576, D]]);
  });

  it('reports a partly written disk as all data', async () => {
    const open = await openTestChain('memory', { size: '1M' }, [['noextents']]);
    await open.top.pwrite(Buffer.alloc(4096, 1), 65536);
    expect(await mapOf(open)).toEqual([[0, 1048576, D]]);
  });

  it('answers a sub-range query with that range only', async () => {
    const open = await openTestChain('memory', { size: '1M' }, [['noextents']]);
    expect(await open.top.extents(1000, 5000)).toEqual([{ offset: 5000, length: 1000, flags: D }]);
  });

  it('says it cannot do extents', async () => {
    const open = await openTestChain('memory', { size: '1M' }, [['noextents']]);
    expect(open.top.canExtents()).toBe(false);
  });
});
