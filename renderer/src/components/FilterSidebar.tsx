// Every filter the engine has, with an on/off switch and a parameter form generated from its
// ParamSpec list (the same specs the CLI parses with). Chain filters come first, outermost at
// the top, with their position; toggling builds a new chain for new connections.
import { useEffect, useState } from 'react';
import type { ChainConfig } from '../../../shared/chain-config.ts';
import type { ComponentInfo } from '../../../shared/ipc.ts';
import { applyChain, loadChain } from '../app/actions.ts';
import { keepOrder, sidebarOrder, withFilterEnabled, withFilterMoved, withFilterParams } from '../store/chain-slice.ts';
import { selectChainLabel, selectChainOf } from '../store/selectors.ts';
import { useApp } from '../store/store.ts';
import { FilterCard } from './FilterCard.tsx';

const NO_FILTERS: readonly string[] = [];

export function FilterSidebar({ imageId }: { imageId: string }) {
  const components = useApp((s) => s.components);
  const chain = useApp((s) => s.chains[imageId]);
  const opened = useApp((s) => selectChainOf(s, imageId));
  const chainLabel = useApp((s) => selectChainLabel(s, imageId));
  useEffect(() => {
    void loadChain(imageId);
  }, [imageId, chainLabel]);
  const config = chain?.config ?? opened;
  if (!config) return null;
  return (
    <div aria-label="Filters" data-testid="filter-sidebar">
      <div className="section">
        <h2>Chain</h2>
        <div className="chain-line" data-testid="chain-label">
          client → {config.filters.filter((f) => f.enabled).map((f) => f.name).concat(config.plugin.name).join(' → ')}
        </div>
        <div className="faint" style={{ fontSize: 11, marginTop: 6 }}>
          Changes apply to new connections; open ones keep their chain.
        </div>
      </div>
      <FilterList imageId={imageId} config={config} components={components} unsaved={chain?.unsavedFilters ?? NO_FILTERS} />
      <PluginSection plugin={config.plugin} components={components} />
    </div>
  );
}

interface FilterListProps {
  imageId: string;
  config: ChainConfig;
  components: readonly ComponentInfo[];
  /** Filters holding writes that exist nowhere else. */
  unsaved: readonly string[];
}

function FilterList({ imageId, config, components, unsaved }: FilterListProps) {
  // The order the list had when a card was toggled: toggling does not re-sort, a move does.
  const [kept, setKept] = useState<{ imageId: string; names: string[] } | null>(null);
  const sorted = sidebarOrder(config, components);
  const names = kept?.imageId === imageId ? keepOrder(kept.names, sorted.map((x) => x.info.name)) : sorted.map((x) => x.info.name);
  const cards = names.map((n) => sorted.find((x) => x.info.name === n)!);
  const keepPlaces = () => setKept({ imageId, names });
  const set = (next: ChainConfig) => void applyChain(imageId, next);
  // A refused parameter is shown beside its field, not in the banner.
  const setParams = (next: ChainConfig) => applyChain(imageId, next, { inline: true });
  return (
    <div className="section">
      <h2>
        Filters <span className="right faint">outermost first</span>
      </h2>
      {cards.map(({ info, config: fc, position, last }) => (
        <FilterCard
          key={info.name}
          info={info}
          filter={fc}
          position={position}
          last={last ?? false}
          unsaved={unsaved.includes(info.name)}
          onToggle={(on) => {
            keepPlaces();
            set(withFilterEnabled(config, info.name, on));
          }}
          onParams={(params, enable) => {
            keepPlaces();
            return setParams(withFilterEnabled(withFilterParams(config, info.name, params), info.name, enable));
          }}
          onMove={(d) => {
            setKept(null);
            set(withFilterMoved(config, info.name, d));
          }}
        />
      ))}
      {components.length === 0 && <div className="faint">Loading the catalogue…</div>}
    </div>
  );
}

function PluginSection({ plugin, components }: { plugin: ChainConfig['plugin']; components: readonly ComponentInfo[] }) {
  const info = components.find((c) => c.kind === 'plugin' && c.name === plugin.name);
  return (
    <div className="section">
      <h2>Plugin</h2>
      <div className="chain-line">
        <b>{plugin.name}</b> {info?.summary && <span className="faint">· {info.summary}</span>}
      </div>
      {Object.entries(plugin.params).map(([k, v]) => (
        <div key={k} className="chain-line" title={v}>
          {k}={v.length > 40 ? `…${v.slice(-38)}` : v}
        </div>
      ))}
    </div>
  );
}
