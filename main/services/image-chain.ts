// One image's chain across sidebar edits. The plugin instance (the image) is created once;
// filter instances are kept by identity (name and parameters), so state that belongs to
// the export, such as a cow overlay, survives when other filters are toggled or moved.
// Dropping an instance that holds writes existing nowhere else needs the user's consent.
import { describeChain, type ChainConfig, type ComponentConfig } from '../../shared/chain-config.ts';
import { parseParams } from '../../shared/params.ts';
import { Chain, type NamedPlugin } from '../backend/chain.ts';
import type { Registry } from '../backend/registry.ts';
import type { FilterInstance } from '../backend/types.ts';
import { isLayeredImageInstance, type ImageLayerDescription } from '../formats/image-plugin.ts';
import { ServiceError } from './errors.ts';

/** Same name and same parameters: the same filter, wherever it sits in the list. */
export function filterIdentity(f: ComponentConfig): string {
  const params = Object.keys(f.params).sort().map((k) => [k, f.params[k]]);
  return JSON.stringify([f.name, params]);
}

export class ImageChain {
  private readonly registry: Registry;
  private readonly plugin: NamedPlugin;
  private instances = new Map<string, FilterInstance>();
  private _config: ChainConfig;
  private _chain: Chain;

  private constructor(registry: Registry, plugin: NamedPlugin, config: ChainConfig, chain: Chain, instances: Map<string, FilterInstance>) {
    this.registry = registry;
    this.plugin = plugin;
    this._config = config;
    this._chain = chain;
    this.instances = instances;
  }

  static async create(registry: Registry, config: ChainConfig): Promise<ImageChain> {
    registry.validate(config);
    const def = registry.plugin(config.plugin.name);
    const plugin = { name: def.name, instance: await def.create(parseParams(def.name, def.params, config.plugin.params)) };
    const instances = new Map<string, FilterInstance>();
    const chain = await buildChain(registry, plugin, config, instances);
    return new ImageChain(registry, plugin, config, chain, instances);
  }

  get config(): ChainConfig {
    return this._config;
  }

  get chain(): Chain {
    return this._chain;
  }

  get label(): string {
    return describeChain(this._config);
  }

  /** The image file and its backing files, top first, when the plugin is a layered image format. */
  get imageLayers(): readonly ImageLayerDescription[] | null {
    return isLayeredImageInstance(this.plugin.instance) ? this.plugin.instance.layers : null;
  }

  /** Enabled filters whose instance holds unsaved data (cow with writes). */
  unsavedFilters(): string[] {
    return this._config.filters
      .filter((f) => f.enabled && this.instances.get(filterIdentity(f))?.hasUnsavedData?.())
      .map((f) => f.name);
  }

  /**
   * Switch to `config`. Throws needs-confirmation naming the filters whose unsaved data the
   * change would drop, unless `force`. `check` may refuse the new chain (by throwing) before
   * anything changes. Returns the new chain; the old one stays usable by connections that
   * opened it.
   */
  async set(config: ChainConfig, force = false, check?: (chain: Chain) => Promise<void>): Promise<Chain> {
    const p = config.plugin;
    if (p.name !== this._config.plugin.name || filterIdentity(p) !== filterIdentity(this._config.plugin)) {
      throw new ServiceError('invalid-input', `the plugin of an open image cannot change (it is ${this._config.plugin.name}); open the image again instead`);
    }
    try {
      this.registry.validate(config);
    } catch (err) {
      throw new ServiceError('invalid-input', (err as Error).message);
    }
    const kept = new Set(config.filters.filter((f) => f.enabled).map(filterIdentity));
    const dropped = this._config.filters.filter((f) => f.enabled && !kept.has(filterIdentity(f)));
    const losing = dropped.filter((f) => this.instances.get(filterIdentity(f))?.hasUnsavedData?.()).map((f) => f.name);
    if (losing.length && !force) {
      throw new ServiceError('needs-confirmation', `${losing.join(', ')} holds writes that exist nowhere else; switching it off discards them`, losing);
    }
    const instances = new Map([...this.instances].filter(([key]) => kept.has(key)));
    const chain = await buildChain(this.registry, this.plugin, config, instances);
    await check?.(chain);
    this._chain = chain;
    this.instances = instances;
    this._config = config;
    return this._chain;
  }
}

/** Enabled filters in config order, reusing instances by identity and recording new ones. */
async function buildChain(registry: Registry, plugin: NamedPlugin, config: ChainConfig, instances: Map<string, FilterInstance>): Promise<Chain> {
  const filters = [];
  for (const f of config.filters) {
    if (!f.enabled) continue;
    const key = filterIdentity(f);
    let instance = instances.get(key);
    if (!instance) {
      instance = await registry.createFilter(f);
      instances.set(key, instance);
    }
    filters.push({ name: f.name, instance });
  }
  return new Chain(plugin, filters);
}
