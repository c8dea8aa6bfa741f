import { describe, expect, it } from 'vitest';
import { FLAG_FUA } from '../../backend/flags.ts';
import { openTestChain } from '../../testing/chains.ts';
import { fuaFilter } from './index.ts';
import { probedChain } from './probed-chain.ts';

describe('fua filter', () => {
  it('fuamode=none (the default) hides FUA but keeps flush', async () => {
    const { top } = await probedChain(fuaFilter, {});
    expect([top.canFua(), top.canFlush()]).toEqual(['none', true]);
  });

  it('fuamode=emulate turns a FUA write into a write and a flush', async () => {
    const { top, seen } = await probedChain(fuaFilter, { fuamode: 'emulate' });
    expect(top.canFua()).toBe('emulate');
    await top.pwrite(Buffer.alloc(512, 1), 0, FLAG_FUA);
    expect(seen()).toEqual([['pwrite', 512, 0, 0], ['flush', 0]]);
  });

  it('fuamode=native and pass hand FUA down unchanged', async () => {
    for (const fuamode of ['native', 'pass']) {
      const { top, seen } = await probedChain(fuaFilter, { fuamode });
      expect(top.canFua()).toBe('native');
      await top.zero(4096, 0, FLAG_FUA);
      expect(seen()).toEqual([['zero', 4096, 0, FLAG_FUA]]);
    }
  });

  it('fuamode=force adds FUA to every write-like request and makes flush a no-op', async () => {
    const { top, seen } = await probedChain(fuaFilter, { fuamode: 'force' });
    await top.pwrite(Buffer.alloc(512, 1), 512, 0);
    await top.trim(4096, 4096, 0);
    await top.zero(4096, 8192, 0);
    await top.flush();
    expect(seen()).toEqual([['pwrite', 512, 512, FLAG_FUA], ['trim', 4096, 4096, FLAG_FUA], ['zero', 4096, 8192, FLAG_FUA]]);
  });

  it('fuamode=discard drops FUA and flushes (unsafe), and still writes', async () => {
    const { top, seen } = await probedChain(fuaFilter, { fuamode: 'discard' });
    expect([top.canFua(), top.canFlush()]).toEqual(['native', true]);
    await top.pwrite(Buffer.from('abc'), 10, FLAG_FUA);
    await top.flush();
    expect(seen()).toEqual([['pwrite', 3, 10, 0]]);
  });

  it('refuses native over a layer without FUA; emulate over one that can flush is fine', async () => {
    await expect(openTestChain('memory', { size: '1M' }, [['fua', { fuamode: 'emulate' }], ['fua', { fuamode: 'discard' }]])).resolves.toBeDefined();
    await expect(openTestChain('memory', { size: '1M' }, [['fua', { fuamode: 'native' }], ['fua', { fuamode: 'none' }]])).rejects.toThrow('fua: fuamode: native needs a layer below that supports FUA');
  });

  it('asks nothing of the layer below when the export is read-only', async () => {
    const open = await openTestChain('memory', { size: '1M' }, [['fua', { fuamode: 'force' }], ['fua', { fuamode: 'none' }]], { readonly: true });
    expect(open.top.canFua()).toBe('none');
  });
});
