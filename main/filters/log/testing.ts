// Test support for filters observed through a log filter below them: the log records client
// connections only (those that passed preconnect), so tests open their chain as a client.
import type { ChainConfig } from '../../../shared/chain-config.ts';
import type { OpenChain } from '../../backend/chain.ts';
import type { PeerInfo } from '../../backend/types.ts';
import { registry } from '../../catalog.ts';
import type { FilterSpec } from '../../testing/chains.ts';

const LOOPBACK: PeerInfo = { family: 'ipv4', address: '127.0.0.1', port: 40000 };

/** openTestChain, as a client connection: admitted by preconnect first, as the server does. */
export async function openClientChain(plugin: string, pluginParams: Record<string, string>, filters: FilterSpec[]): Promise<OpenChain> {
  const config: ChainConfig = {
    plugin: { name: plugin, params: pluginParams },
    filters: filters.map(([name, params]) => ({ name, params: params ?? {}, enabled: true })),
  };
  const chain = await registry.build(config);
  const release = await chain.preconnect(LOOPBACK);
  const open = await chain.open({ readonly: false, exportName: '' });
  return { top: open.top, close: () => open.close().finally(release) };
}
