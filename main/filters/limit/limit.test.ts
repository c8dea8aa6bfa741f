// limit: slots taken at admission, freed when the connection's Release runs.
import { describe, expect, it } from 'vitest';
import { Chain, ConnectionRefused } from '../../backend/chain.ts';
import type { PeerInfo } from '../../backend/types.ts';
import { memoryPlugin } from '../../plugins/memory/index.ts';
import { filterInstance, sharedPlugin } from '../testing.ts';
import { limitFilter } from './index.ts';

const peer: PeerInfo = { family: 'ipv4', address: '127.0.0.1', port: 1 };

async function limitedChain(params: Record<string, string>): Promise<Chain> {
  const plugin = await sharedPlugin(memoryPlugin, { size: '64K' });
  return new Chain({ name: 'memory', instance: plugin.instance }, [await filterInstance(limitFilter, params)]);
}

describe('limit filter', () => {
  it('admits one client by default and the next once the first has gone', async () => {
    const chain = await limitedChain({});
    const first = await chain.preconnect(peer);
    await expect(chain.preconnect(peer)).rejects.toThrow(new ConnectionRefused('limit', '1 of at most 1 client already connected'));
    first();
    first(); // a second close report must not free a second slot
    const second = await chain.preconnect(peer);
    await expect(chain.preconnect(peer)).rejects.toBeInstanceOf(ConnectionRefused);
    second();
  });

  it('counts up to limit=N', async () => {
    const chain = await limitedChain({ limit: '3' });
    const held = [await chain.preconnect(peer), await chain.preconnect(peer), await chain.preconnect(peer)];
    await expect(chain.preconnect(peer)).rejects.toThrow('3 of at most 3 clients already connected');
    held[1]!();
    await chain.preconnect(peer);
  });

  it('admits any number with limit=0', async () => {
    const chain = await limitedChain({ limit: '0' });
    for (let i = 0; i < 50; i++) await chain.preconnect(peer);
  });

  it('refuses a negative limit', async () => {
    await expect(filterInstance(limitFilter, { limit: '-1' })).rejects.toThrow('limit: limit: -1 is below the minimum 0');
  });
});
