// Like nbdkit's tests/test-layers.c: three probe filters around a plugin show the order
// in which the backend opens, prepares, calls and closes the layers.
import { beforeEach, describe, expect, it } from 'vitest';
import { callNames, probeFilter, probePlugin, type ProbeCall } from '../filters/probe/index.ts';
import { memoryPlugin } from '../plugins/memory/index.ts';
import type { Chain, OpenChain } from './chain.ts';
import { FLAG_FUA, FLAG_MAY_TRIM } from './flags.ts';
import { Registry } from './registry.ts';

const PREPARE_FILTER = ['getSize', 'canWrite', 'canFlush', 'isRotational', 'canTrim', 'canZero', 'canFastZero', 'canFua', 'canMultiConn', 'canCache', 'canExtents'];
const DOWN = ['filter3', 'filter2', 'filter1', 'memory'];

let log: ProbeCall[];
let chain: Chain;
let open: OpenChain;

beforeEach(async () => {
  log = [];
  const registry = new Registry([probePlugin(memoryPlugin, log)], ['filter1', 'filter2', 'filter3'].map((n) => probeFilter(n, log)));
  // The first filter in a config is the outermost, as with nbdkit --filter order.
  chain = await registry.build({
    plugin: { name: 'memory', params: { size: '1M' } },
    filters: ['filter3', 'filter2', 'filter1'].map((name) => ({ name, params: {}, enabled: true })),
  });
  open = await chain.open({ readonly: false, exportName: 'e' });
});

/** The calls made by `fn`, as layer.call names. */
async function callsOf(fn: () => Promise<unknown>): Promise<string[]> {
  log.length = 0;
  await fn();
  return callNames(log);
}

describe('layers', () => {
  it('opens the plugin first, then the filters from inner to outer', () => {
    expect(log.filter((c) => c.call === 'open').map((c) => c.layer)).toEqual(['memory', 'filter1', 'filter2', 'filter3']);
  });

  it('passes the open options to every layer', () => {
    expect(log.filter((c) => c.call === 'open').map((c) => c.args[0])).toEqual(Array(4).fill({ readonly: false, exportName: 'e' }));
  });

  it('prepares each layer right after opening it, asking every can* once, in order', () => {
    expect(callNames(log)).toEqual([
      'memory.open', 'memory.getSize', 'memory.canFua', 'memory.canMultiConn', 'memory.canCache',
      ...['filter1', 'filter2', 'filter3'].flatMap((f) => [`${f}.open`, ...PREPARE_FILTER.map((c) => `${f}.${c}`)]),
    ]);
  });

  it('asks nothing more once prepared: can* answers are cached', async () => {
    expect(await callsOf(async () => [open.top.canWrite(), open.top.canZero(), open.top.getSize()])).toEqual([]);
  });

  it('pread passes filter3 -> filter2 -> filter1 -> plugin with its arguments', async () => {
    expect(await callsOf(() => open.top.pread(Buffer.alloc(512), 4096))).toEqual(DOWN.map((l) => `${l}.pread`));
    expect(log.map((c) => c.args)).toEqual(Array(4).fill([512, 4096, 0]));
  });

  it('pwrite with FUA reaches the plugin with FUA (the plugin does FUA natively)', async () => {
    expect(await callsOf(() => open.top.pwrite(Buffer.alloc(512), 0, FLAG_FUA))).toEqual(DOWN.map((l) => `${l}.pwrite`));
    expect(log.map((c) => c.args)).toEqual(Array(4).fill([512, 0, FLAG_FUA]));
  });

  it('zero passes down as zero', async () => {
    expect(await callsOf(() => open.top.zero(8192, 0, FLAG_MAY_TRIM))).toEqual(DOWN.map((l) => `${l}.zero`));
    expect(log.map((c) => c.args)).toEqual(Array(4).fill([8192, 0, FLAG_MAY_TRIM]));
  });

  it('trim passes down', async () => {
    expect(await callsOf(() => open.top.trim(4096, 4096))).toEqual(DOWN.map((l) => `${l}.trim`));
  });

  it('flush passes down', async () => {
    expect(await callsOf(() => open.top.flush())).toEqual(DOWN.map((l) => `${l}.flush`));
  });

  it('cache passes down (the plugin caches natively)', async () => {
    expect(await callsOf(() => open.top.cache(4096, 0))).toEqual(DOWN.map((l) => `${l}.cache`));
  });

  it('extents pass down and the answer comes back up', async () => {
    await open.top.pwrite(Buffer.alloc(4096, 1), 4096);
    expect(await callsOf(() => open.top.extents(16384, 0))).toEqual(DOWN.map((l) => `${l}.extents`));
    expect(await open.top.extents(16384, 0)).toEqual([{ offset: 0, length: 4096, flags: 3 }, { offset: 4096, length: 4096, flags: 0 }, { offset: 8192, length: 8192, flags: 3 }]);
  });

  it('closes the outermost layer first', async () => {
    expect(await callsOf(() => open.close())).toEqual(DOWN.map((l) => `${l}.close`));
  });

  it('unloads the filters outermost first, then the plugin', async () => {
    expect(await callsOf(() => chain.unload())).toEqual(DOWN.map((l) => `${l}.unload`));
  });

  it('a second connection opens and prepares its own layers', async () => {
    const calls = await callsOf(() => chain.open({ readonly: false, exportName: 'e' }));
    expect(calls.filter((c) => c.endsWith('.open'))).toEqual(['memory.open', 'filter1.open', 'filter2.open', 'filter3.open']);
  });
});
