import { afterEach, describe, expect, it } from 'vitest';
import type { OpenChain } from '../../backend/chain.ts';
import { mapOf, readAll } from '../../backend/testing.ts';
import { openTestChain } from '../../testing/chains.ts';

let open: OpenChain | null = null;
afterEach(async () => {
  await open?.close();
  open = null;
});

describe('null plugin', () => {
  it('is empty by default', async () => {
    open = await openTestChain('null', {});
    expect(open.top.getSize()).toBe(0);
  });

  it('reads zeroes after a write', async () => {
    open = await openTestChain('null', { size: '1M' });
    await open.top.pwrite(Buffer.alloc(4096, 0xff), 8192);
    expect((await readAll(open, 8192, 4096)).equals(Buffer.alloc(4096))).toBe(true);
  });

  it('is one hole,zero extent', async () => {
    open = await openTestChain('null', { size: '1G' });
    expect(await mapOf(open)).toEqual([[0, 2 ** 30, 3]]);
  });

  it('zeroes, trims and flushes natively with multi-conn', async () => {
    open = await openTestChain('null', { size: '1M' });
    expect([open.top.canZero(), open.top.canTrim(), open.top.canFua(), open.top.canMultiConn()]).toEqual([true, true, 'native', true]);
    await open.top.zero(4096, 0, 0);
    await open.top.trim(4096, 0, 0);
    await open.top.flush();
  });
});
