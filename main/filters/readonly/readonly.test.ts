import { describe, expect, it } from 'vitest';
import { EXTENT_HOLE_ZERO as HZ } from '../../../shared/extents.ts';
import { Registry } from '../../backend/registry.ts';
import { mapOf, readAll } from '../../backend/testing.ts';
import { openTestChain } from '../../testing/chains.ts';
import { memoryPlugin } from '../../plugins/memory/index.ts';
import { probeFilter, probePlugin, type ProbeCall } from '../probe/index.ts';
import { readonlyFilter } from './index.ts';

const M = 1 << 20;

describe('readonly filter', () => {
  it('makes the export read-only', async () => {
    const open = await openTestChain('memory', { size: '1M' }, [['readonly']]);
    expect([open.top.canWrite(), open.top.canTrim(), open.top.canZero(), open.top.canFua()]).toEqual([false, false, false, 'none']);
  });

  it('refuses pwrite with EPERM', async () => {
    const open = await openTestChain('memory', { size: '1M' }, [['readonly']]);
    await expect(open.top.pwrite(Buffer.from('x'), 0)).rejects.toMatchObject({ code: 'EPERM' });
  });

  it('refuses trim and zero with EPERM', async () => {
    const open = await openTestChain('memory', { size: '1M' }, [['readonly']]);
    await expect(open.top.trim(4096, 0)).rejects.toMatchObject({ code: 'EPERM' });
    await expect(open.top.zero(4096, 0)).rejects.toMatchObject({ code: 'EPERM' });
  });

  it('still reads, and passes extents through', async () => {
    const open = await openTestChain('memory', { size: '1M' }, [['readonly']]);
    expect((await readAll(open, 0, 16)).equals(Buffer.alloc(16))).toBe(true);
    expect(await mapOf(open)).toEqual([[0, M, HZ]]);
  });

  it('opens the layers below read-only, so a file plugin needs no write access', async () => {
    const log: ProbeCall[] = [];
    const registry = new Registry([probePlugin(memoryPlugin, log)], [readonlyFilter, probeFilter('below', log)]);
    const chain = await registry.build({ plugin: { name: 'memory', params: { size: '1M' } }, filters: [{ name: 'readonly', params: {}, enabled: true }, { name: 'below', params: {}, enabled: true }] });
    await chain.open({ readonly: false, exportName: '' });
    expect(log.filter((c) => c.call === 'open').map((c) => [c.layer, (c.args[0] as { readonly: boolean }).readonly])).toEqual([['memory', true], ['below', true]]);
  });
});
