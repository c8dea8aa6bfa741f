// Test support: open a chain of catalogued plugins and filters from literal configs. It lives
// outside main/backend because the backend knows no plugin, filter or format.
import type { ChainConfig } from '../../shared/chain-config.ts';
import type { OpenChain } from '../backend/chain.ts';
import { registry } from '../catalog.ts';

export type FilterSpec = [name: string, params?: Record<string, string>];

/** Open `plugin` behind `filters` (outermost first) for one connection. */
export async function openTestChain(
  plugin: string,
  pluginParams: Record<string, string>,
  filters: FilterSpec[] = [],
  options: { readonly?: boolean } = {},
): Promise<OpenChain> {
  const config: ChainConfig = {
    plugin: { name: plugin, params: pluginParams },
    filters: filters.map(([name, params]) => ({ name, params: params ?? {}, enabled: true })),
  };
  const chain = await registry.build(config);
  return chain.open({ readonly: options.readonly ?? false, exportName: '' });
}
