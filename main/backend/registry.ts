// Plugins and filters by name, and the one place a chain config becomes a Chain.
import type { ChainConfig, ComponentConfig } from '../../shared/chain-config.ts';
import type { ComponentInfo } from '../../shared/ipc.ts';
import { parseParams } from '../../shared/params.ts';
import { Chain, type NamedFilter } from './chain.ts';
import type { FilterDefinition, FilterInstance, PluginDefinition } from './types.ts';

/** Declared in the contract, where the sidebar and --help read it. */
export type { ComponentInfo };

export class Registry {
  private readonly plugins = new Map<string, PluginDefinition>();
  private readonly filters = new Map<string, FilterDefinition>();

  constructor(plugins: readonly PluginDefinition[], filters: readonly FilterDefinition[]) {
    for (const p of plugins) this.plugins.set(p.name, p);
    for (const f of filters) this.filters.set(f.name, f);
  }

  plugin(name: string): PluginDefinition {
    const p = this.plugins.get(name);
    if (!p) throw new Error(`unknown plugin '${name}' (known: ${[...this.plugins.keys()].join(', ')})`);
    return p;
  }

  filter(name: string): FilterDefinition {
    const f = this.filters.get(name);
    if (!f) throw new Error(`unknown filter '${name}' (known: ${[...this.filters.keys()].join(', ')})`);
    return f;
  }

  hasPlugin(name: string): boolean {
    return this.plugins.has(name);
  }

  hasFilter(name: string): boolean {
    return this.filters.has(name);
  }

  /** The catalogue the CLI's --help and the renderer's sidebar forms are generated from. */
  describe(): ComponentInfo[] {
    return [
      ...[...this.plugins.values()].map((p) => ({ kind: 'plugin' as const, name: p.name, summary: p.summary, magicKey: p.magicKey, params: p.params })),
      ...[...this.filters.values()].map((f) => ({ kind: 'filter' as const, name: f.name, summary: f.summary, params: f.params })),
    ];
  }

  /** Throws a message naming the component and parameter when the config is invalid. */
  validate(config: ChainConfig): void {
    parseParams(config.plugin.name, this.plugin(config.plugin.name).params, config.plugin.params);
    for (const f of config.filters) parseParams(f.name, this.filter(f.name).params, f.params);
  }

  async createFilter(config: ComponentConfig): Promise<FilterInstance> {
    const def = this.filter(config.name);
    return def.create(parseParams(def.name, def.params, config.params));
  }

  /**
   * Build a chain from a config. `reuse` supplies existing filter instances (keyed by the
   * filter's position-independent identity) so that state such as a cow overlay survives
   * when other filters are toggled.
   */
  async build(config: ChainConfig, reuse?: (filter: ComponentConfig) => FilterInstance | undefined): Promise<Chain> {
    this.validate(config);
    const pdef = this.plugin(config.plugin.name);
    const plugin = { name: pdef.name, instance: await pdef.create(parseParams(pdef.name, pdef.params, config.plugin.params)) };
    const filters: NamedFilter[] = [];
    for (const f of config.filters) {
      if (!f.enabled) continue;
      filters.push({ name: f.name, instance: reuse?.(f) ?? (await this.createFilter(f)) });
    }
    return new Chain(plugin, filters);
  }
}
