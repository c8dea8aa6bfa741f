// exitlast: the server is told to exit when the client count falls back to zero, not before.
import { describe, expect, it } from 'vitest';
import { Chain } from '../../backend/chain.ts';
import type { PeerInfo } from '../../backend/types.ts';
import { memoryPlugin } from '../../plugins/memory/index.ts';
import { filterInstance, sharedPlugin } from '../testing.ts';
import { exitlastFilter } from './index.ts';

const peer: PeerInfo = { family: 'unix', credentials: null, security: null };

async function exitlastChain(): Promise<Chain> {
  const plugin = await sharedPlugin(memoryPlugin, { size: '64K' });
  return new Chain({ name: 'memory', instance: plugin.instance }, [await filterInstance(exitlastFilter, {})]);
}

describe('exitlast filter', () => {
  it('exits once, when the last of two clients leaves', async () => {
    const chain = await exitlastChain();
    const reasons: string[] = [];
    chain.watchServer((r) => reasons.push(r));
    expect(reasons).toEqual([]); // no client yet: nbdkit does not exit before the first
    const a = await chain.preconnect(peer);
    const b = await chain.preconnect(peer);
    a();
    expect(reasons).toEqual([]);
    b();
    b(); // a socket reporting its close twice
    expect(reasons).toEqual(['exitlast: the last client disconnected']);
    (await chain.preconnect(peer))();
    expect(reasons).toHaveLength(1);
  });

  it('passes data through and is CLI only', async () => {
    expect(exitlastFilter.cliOnly).toBe(true);
    const chain = await exitlastChain();
    const open = await chain.open({ readonly: false, exportName: '' });
    await open.top.pwrite(Buffer.from('abc'), 100);
    const back = Buffer.alloc(3);
    await open.top.pread(back, 100);
    expect(back.toString()).toBe('abc');
    await open.close();
  });

  it('stops telling once the server stopped watching', async () => {
    const chain = await exitlastChain();
    const reasons: string[] = [];
    const stop = chain.watchServer((r) => reasons.push(r));
    const a = await chain.preconnect(peer);
    stop();
    a();
    expect(reasons).toEqual([]);
  });
});
