// Chain.preconnect: hooks run outermost first, the first refusal stops the rest and gives
// back what the filters above it took, and a hook that breaks refuses (fail closed).
import { describe, expect, it } from 'vitest';
import { memoryPlugin } from '../plugins/memory/index.ts';
import { parseParams } from '../../shared/params.ts';
import { Chain, ConnectionRefused } from './chain.ts';
import { BlockError } from './errors.ts';
import type { FilterInstance, PeerInfo } from './types.ts';

const peer: PeerInfo = { family: 'ipv6', address: '::1', port: 9 };

async function chainOf(filters: [string, FilterInstance][]): Promise<Chain> {
  const plugin = await memoryPlugin.create(parseParams('memory', memoryPlugin.params, { size: '4K' }));
  return new Chain({ name: 'memory', instance: plugin }, filters.map(([name, instance]) => ({ name, instance })));
}

/** A filter that logs its preconnect and release, and refuses when told to. */
function screen(name: string, log: string[], refuse?: unknown): [string, FilterInstance] {
  return [name, {
    open: () => ({}),
    preconnect(seen) {
      log.push(`${name} ${seen.family}`);
      if (refuse) throw refuse;
      return () => log.push(`${name} released`);
    },
  }];
}

describe('Chain.preconnect', () => {
  it('asks every filter outermost first and releases innermost first', async () => {
    const log: string[] = [];
    const chain = await chainOf([screen('outer', log), ['plain', { open: () => ({}) }], screen('inner', log)]);
    expect(chain.screensPeers).toBe(true);
    const release = await chain.preconnect(peer);
    expect(log).toEqual(['outer ipv6', 'inner ipv6']);
    release();
    release();
    expect(log).toEqual(['outer ipv6', 'inner ipv6', 'inner released', 'outer released']);
  });

  it('stops at the first refusal and gives back what the filters above took', async () => {
    const log: string[] = [];
    const chain = await chainOf([screen('a', log), screen('b', log, new BlockError('EACCES', 'not you')), screen('c', log)]);
    await expect(chain.preconnect(peer)).rejects.toThrow(new ConnectionRefused('b', 'not you'));
    expect(log).toEqual(['a ipv6', 'b ipv6', 'a released']);
  });

  it('refuses when a hook breaks', async () => {
    const chain = await chainOf([screen('broken', [], new TypeError('x is undefined'))]);
    const err = await chain.preconnect(peer).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionRefused);
    expect((err as Error).message).toBe('refused by the broken filter: x is undefined');
  });

  it('admits at once when no filter screens peers', async () => {
    const chain = await chainOf([['plain', { open: () => ({}) }]]);
    expect(chain.screensPeers).toBe(false);
    expect(typeof await chain.preconnect(peer)).toBe('function');
  });
});
