import { describe, expect, it } from 'vitest';
import { FLAG_FUA } from '../../backend/flags.ts';
import { Registry } from '../../backend/registry.ts';
import { memoryPlugin } from '../../plugins/memory/index.ts';
import { probePlugin, type ProbeCall } from '../probe/index.ts';
import { multiConnFilter } from './index.ts';

/** Three connections to one export; the log shows which connection (by open order) flushed. */
async function connections(params: Record<string, string>) {
  const log: ProbeCall[] = [];
  const plugin = probePlugin({ ...memoryPlugin, name: 'memory' }, log);
  const chain = await new Registry([plugin], [multiConnFilter]).build({ plugin: { name: 'memory', params: { size: '1M' } }, filters: [{ name: 'multi-conn', params, enabled: true }] });
  const opens = [];
  for (let i = 0; i < 3; i++) opens.push(await chain.open({ readonly: false, exportName: '' }));
  const flushes = () => log.splice(0).filter((c) => c.call === 'flush').length;
  return { tops: opens.map((o) => o.top), opens, flushes };
}

describe('multi-conn filter', () => {
  it('emulate advertises multi-conn and repeats a flush on every dirty connection', async () => {
    const { tops, flushes } = await connections({ 'multi-conn-mode': 'emulate' });
    expect(tops[0]!.canMultiConn()).toBe(true);
    await tops[0]!.pwrite(Buffer.from('a'), 0);
    await tops[1]!.pread(Buffer.alloc(1), 0);
    await tops[2]!.flush();
    expect(flushes()).toBe(2);
    await tops[2]!.flush();
    expect(flushes()).toBe(0);
  });

  it('emulate with track-dirty=off flushes every connection; a FUA write flushes them too', async () => {
    const { tops, flushes } = await connections({ 'multi-conn-mode': 'emulate', 'multi-conn-track-dirty': 'off' });
    await tops[0]!.flush();
    expect(flushes()).toBe(3);
    expect(tops[0]!.canFua()).toBe('emulate');
    await tops[1]!.pwrite(Buffer.from('a'), 0, FLAG_FUA);
    expect(flushes()).toBe(3);
  });

  it('track-dirty=fast skips flushes while nothing was written anywhere', async () => {
    const { tops, flushes } = await connections({ 'multi-conn-mode': 'plugin', 'multi-conn-track-dirty': 'fast' });
    await tops[0]!.flush();
    expect(flushes()).toBe(0);
    await tops[1]!.zero(512, 0);
    await tops[0]!.flush();
    await tops[2]!.flush();
    expect(flushes()).toBe(1);
  });

  it('disable hides multi-conn; unsafe claims it; closed connections are not flushed', async () => {
    expect((await connections({ 'multi-conn-mode': 'disable' })).tops[0]!.canMultiConn()).toBe(false);
    expect((await connections({ 'multi-conn-mode': 'unsafe' })).tops[0]!.canMultiConn()).toBe(true);
    const { tops, opens, flushes } = await connections({ 'multi-conn-mode': 'emulate', 'multi-conn-track-dirty': 'off' });
    await opens[2]!.close();
    await tops[0]!.flush();
    expect(flushes()).toBe(2);
  });
});
