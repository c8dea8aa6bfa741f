// Test helpers for filters whose state outlives a connection (cow's overlay, stats'
// counters): build instances directly, so a test can hold them, open several connections
// through them, and open the same plugin instance with and without a filter on top.
import { parseParams } from '../../shared/params.ts';
import { Chain, type NamedFilter, type OpenChain } from '../backend/chain.ts';
import type { FilterDefinition, FilterInstance, PluginDefinition, PluginInstance } from '../backend/types.ts';

export async function filterInstance<I extends FilterInstance = FilterInstance>(def: FilterDefinition, raw: Record<string, string> = {}): Promise<NamedFilter & { instance: I }> {
  return { name: def.name, instance: (await def.create(parseParams(def.name, def.params, raw))) as I };
}

/** One plugin instance (one export); every `open` is a new connection to it. */
export async function sharedPlugin(def: PluginDefinition, raw: Record<string, string>) {
  const instance: PluginInstance = await def.create(parseParams(def.name, def.params, raw));
  return {
    instance,
    open(filters: readonly NamedFilter[] = [], options: { readonly?: boolean } = {}): Promise<OpenChain> {
      return new Chain({ name: def.name, instance }, filters).open({ readonly: options.readonly ?? false, exportName: '' });
    },
  };
}
