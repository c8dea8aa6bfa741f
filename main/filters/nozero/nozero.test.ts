import { describe, expect, it } from 'vitest';
import { FLAG_FAST_ZERO, FLAG_FUA, FLAG_MAY_TRIM } from '../../backend/flags.ts';
import { readAll } from '../../backend/testing.ts';
import { probedChain } from '../fua/probed-chain.ts';
import { nozeroFilter } from './index.ts';

/** nozero over a logged 4 MiB memory disk; `calls` lists the plugin's write-like calls. */
async function open(params: Record<string, string>) {
  const chain = await probedChain(nozeroFilter, params);
  return { ...chain, calls: chain.seen };
}

describe('nozero filter', () => {
  it('zeromode=none (the default) advertises no zeroing and no fast zero', async () => {
    const { top } = await open({});
    expect([top.canZero(), top.canFastZero(), top.canWrite(), top.canTrim()]).toEqual([false, false, true, true]);
  });

  it('zeromode=emulate writes zero bytes instead of zeroing, and refuses fast zero', async () => {
    const { opened, top, calls } = await open({ zeromode: 'emulate' });
    await top.pwrite(Buffer.alloc(8, 0xaa), 100);
    await top.zero(4, 102, FLAG_MAY_TRIM);
    expect([...(await readAll(opened, 100, 8))]).toEqual([0xaa, 0xaa, 0, 0, 0, 0, 0xaa, 0xaa]);
    expect(calls()).toEqual([['pwrite', 8, 100, 0], ['pwrite', 4, 102, 0]]);
    expect(top.canFastZero()).toBe(true);
    await expect(top.zero(4, 0, FLAG_FAST_ZERO)).rejects.toMatchObject({ code: 'ENOTSUP' });
  });

  it('zeromode=emulate writes 1 MiB pieces, each with FUA when the plugin does FUA itself', async () => {
    const { top, calls } = await open({ zeromode: 'emulate' });
    expect(top.canFua()).toBe('native');
    await top.zero(2.5 * 2 ** 20, 4096, FLAG_FUA);
    expect(calls()).toEqual([['pwrite', 1048576, 4096, FLAG_FUA], ['pwrite', 1048576, 1052672, FLAG_FUA], ['pwrite', 524288, 2101248, FLAG_FUA]]);
  });

  it('zeromode=notrim passes zero on without MAY_TRIM', async () => {
    const { top, calls } = await open({ zeromode: 'notrim' });
    await top.zero(4096, 0, FLAG_MAY_TRIM);
    expect(calls()).toEqual([['zero', 4096, 0, 0]]);
  });

  it('zeromode=plugin passes zero on unchanged; fastzeromode=slow refuses fast zero at once', async () => {
    const plain = await open({ zeromode: 'plugin' });
    await plain.top.zero(4096, 0, FLAG_MAY_TRIM | FLAG_FAST_ZERO);
    expect(plain.calls()).toEqual([['zero', 4096, 0, FLAG_MAY_TRIM | FLAG_FAST_ZERO]]);
    const slow = await open({ zeromode: 'plugin', fastzeromode: 'slow' });
    await expect(slow.top.zero(4096, 0, FLAG_FAST_ZERO)).rejects.toMatchObject({ code: 'ENOTSUP' });
    expect(slow.calls()).toEqual([]);
  });

  it('fastzeromode=ignore drops the fast zero flag; fastzeromode=none hides fast zero', async () => {
    const ignore = await open({ zeromode: 'plugin', fastzeromode: 'ignore' });
    await ignore.top.zero(512, 512, FLAG_FAST_ZERO);
    expect(ignore.calls()).toEqual([['zero', 512, 512, 0]]);
    const none = await open({ zeromode: 'emulate', fastzeromode: 'none' });
    expect([none.top.canZero(), none.top.canFastZero()]).toEqual([true, false]);
  });

  it('rejects an unknown zeromode by name', async () => {
    await expect(open({ zeromode: 'trim' })).rejects.toThrow(/nozero: zeromode: 'trim' is not one of none, emulate, notrim, plugin/);
  });
});
