import { afterEach, describe, expect, it } from 'vitest';
import type { OpenChain } from '../../backend/chain.ts';
import { mapOf, readAll } from '../../backend/testing.ts';
import { openTestChain } from '../../testing/chains.ts';

let open: OpenChain | null = null;
afterEach(async () => {
  await open?.close();
  open = null;
});

describe('zero plugin', () => {
  it('is empty by default, as nbdkit zero', async () => {
    open = await openTestChain('zero', {});
    expect(open.top.getSize()).toBe(0);
    expect(open.top.canWrite()).toBe(false);
  });

  it('reads zeroes and is one hole,zero extent', async () => {
    open = await openTestChain('zero', { size: '1M' });
    expect((await readAll(open, 4096, 8192)).equals(Buffer.alloc(8192))).toBe(true);
    expect(await mapOf(open)).toEqual([[0, 2 ** 20, 3]]);
  });

  it('refuses writes with EPERM', async () => {
    open = await openTestChain('zero', { size: '1M' });
    await expect(open.top.pwrite(Buffer.alloc(512, 1), 0)).rejects.toMatchObject({ code: 'EPERM' });
  });
});
