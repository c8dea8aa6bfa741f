import { describe, expect, it } from 'vitest';
import { Registry } from '../../backend/registry.ts';
import { definePlugin } from '../../backend/types.ts';
import type { PeerInfo } from '../../backend/types.ts';
import { noparallelFilter } from './index.ts';

/** A plugin whose reads take a few ms and record how many were in flight at once. */
function slowPlugin(peak: { now: number; max: number }) {
  return definePlugin({
    name: 'slow', summary: 'test', params: [],
    create: () => ({
      open: () => ({
        getSize: () => 1 << 20,
        canMultiConn: () => true,
        async pread(buf: Buffer) {
          peak.max = Math.max(peak.max, ++peak.now);
          await new Promise((r) => setTimeout(r, 5));
          peak.now--;
          buf.fill(0);
        },
      }),
    }),
  });
}

async function build(serialize: string) {
  const peak = { now: 0, max: 0 };
  const chain = await new Registry([slowPlugin(peak)], [noparallelFilter]).build({ plugin: { name: 'slow', params: {} }, filters: [{ name: 'noparallel', params: { serialize }, enabled: true }] });
  const reads = async (n: number) => {
    const open = await chain.open({ readonly: true, exportName: '' });
    await Promise.all(Array.from({ length: n }, (_, i) => open.top.pread(Buffer.alloc(512), i * 512)));
  };
  return { chain, peak, reads };
}

const peer: PeerInfo = { family: 'ipv4', address: '127.0.0.1', port: 1 };

describe('noparallel filter', () => {
  it('serialize=requests runs one request at a time per connection, connections side by side', async () => {
    const { peak, reads } = await build('requests');
    await reads(4);
    expect(peak.max).toBe(1);
    await Promise.all([reads(3), reads(3)]);
    expect(peak.max).toBe(2);
  });

  it('serialize=all-requests runs one request at a time over all connections', async () => {
    const { peak, reads } = await build('all-requests');
    await Promise.all([reads(3), reads(3)]);
    expect(peak.max).toBe(1);
  });

  it('serialize=connections admits one client at a time and hides multi-conn', async () => {
    const { chain } = await build('connections');
    expect((await chain.open({ readonly: true, exportName: '' })).top.canMultiConn()).toBe(false);
    const first = await chain.preconnect(peer);
    let secondIn = false;
    const second = chain.preconnect(peer).then((r) => ((secondIn = true), r));
    await new Promise((r) => setTimeout(r, 20));
    expect(secondIn).toBe(false);
    first();
    (await second)();
    expect(secondIn).toBe(true);
  });
});
