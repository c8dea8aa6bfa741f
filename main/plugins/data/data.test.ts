import { afterEach, describe, expect, it } from 'vitest';
import type { OpenChain } from '../../backend/chain.ts';
import { mapOf, readAll } from '../../backend/testing.ts';
import { openTestChain } from '../../testing/chains.ts';
import { MBR_EXAMPLE } from './examples.testing.ts';

let open: OpenChain | null = null;
afterEach(async () => {
  await open?.close();
  open = null;
});

describe('data plugin', () => {
  it("serves the man page's MBR example padded to size=1M", async () => {
    open = await openTestChain('data', { data: MBR_EXAMPLE, size: '1M' });
    expect(open.top.getSize()).toBe(2 ** 20);
    expect((await readAll(open, 0x1be, 16)).toString('hex')).toBe('000002008320200001000000ff070000');
    expect((await readAll(open, 0x1fe, 2)).toString('hex')).toBe('55aa');
    expect(await mapOf(open)).toEqual([[0, 4096, 0], [4096, 2 ** 20 - 4096, 3]]);
  });

  it('size= truncates', async () => {
    open = await openTestChain('data', { data: '( "Hello" )*2000', size: '8192' });
    const all = await readAll(open);
    expect(all.length).toBe(8192);
    expect(all.subarray(8185).toString()).toBe('HelloHe');
  });

  it('raw= serves the text itself', async () => {
    open = await openTestChain('data', { raw: 'Hello, world!' });
    expect((await readAll(open)).toString()).toBe('Hello, world!');
  });

  it('base64= decodes, then pads to size', async () => {
    open = await openTestChain('data', { base64: 'MTIz', size: '1M' });
    expect((await readAll(open, 0, 4)).toString('hex')).toBe('31323300');
  });

  it('takes exactly one of data, raw and base64', async () => {
    await expect(openTestChain('data', {})).rejects.toThrow(/exactly one/);
    await expect(openTestChain('data', { raw: 'a', base64: 'YQ==' })).rejects.toThrow(/exactly one/);
    await expect(openTestChain('data', { base64: 'not base64!' })).rejects.toThrow(/base64/);
  });

  it('keeps writes for later connections to the same export', async () => {
    open = await openTestChain('data', { data: '1 2 3 4' });
    await open.top.pwrite(Buffer.from([9, 9]), 1);
    expect((await readAll(open)).toString('hex')).toBe('01090904');
    await open.top.zero(2, 0);
    expect((await readAll(open)).toString('hex')).toBe('00000904');
  });
});
