import { afterEach, describe, expect, it } from 'vitest';
import type { OpenChain } from '../../backend/chain.ts';
import { mapOf, readAll } from '../../backend/testing.ts';
import { openTestChain } from '../../testing/chains.ts';

let open: OpenChain | null = null;
afterEach(async () => {
  await open?.close();
  open = null;
});

describe('full plugin', () => {
  it('reads zeroes over one hole,zero extent', async () => {
    open = await openTestChain('full', { size: '64K' });
    expect((await readAll(open)).equals(Buffer.alloc(65536))).toBe(true);
    expect(await mapOf(open)).toEqual([[0, 65536, 3]]);
  });

  it('fails writes, trims and zeroes with ENOSPC', async () => {
    open = await openTestChain('full', { size: '64K' });
    expect([open.top.canWrite(), open.top.canTrim(), open.top.canZero(), open.top.canFlush()]).toEqual([true, true, true, false]);
    await expect(open.top.pwrite(Buffer.alloc(512, 1), 0)).rejects.toMatchObject({ code: 'ENOSPC' });
    await expect(open.top.trim(512, 0)).rejects.toMatchObject({ code: 'ENOSPC' });
    await expect(open.top.zero(512, 0)).rejects.toMatchObject({ code: 'ENOSPC' });
  });

  it('requires a size', async () => {
    await expect(openTestChain('full', {})).rejects.toThrow(/missing required parameter 'size'/);
  });
});
