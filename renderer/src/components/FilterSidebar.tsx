// Every filter the engine has, with an on/off switch and a parameter form generated from its
// ParamSpec list (the same specs the CLI parses with). Chain filters come first, outermost at
// the top, with their position; toggling builds a new chain for new connections.
import { useEffect, useState } from 'react';
import type { ChainConfig, FilterConfig } from '../../../shared/chain-config.ts';
import type { ComponentInfo } from '../../../shared/ipc.ts';
import { parseParams, type ParamSpec } from '../../../shared/params.ts';
import { applyChain, loadChain } from '../app/actions.ts';
import { sidebarOrder, withFilterEnabled, withFilterMoved, withFilterParams } from '../store/chain-slice.ts';
import { selectChainLabel, selectChainOf } from '../store/selectors.ts';
import { useApp } from '../store/store.ts';

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
  const set = (next: ChainConfig) => void applyChain(imageId, next);
  // A refused parameter is shown beside its field, not in the banner.
  const setParams = (next: ChainConfig) => applyChain(imageId, next, { inline: true });
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
      <div className="section">
        <h2>
          Filters <span className="right faint">outermost first</span>
        </h2>
        {sidebarOrder(config, components).map(({ info, config: fc, position }) => (
          <FilterCard
            key={info.name}
            info={info}
            filter={fc}
            position={position}
            last={position === config.filters.length - 1}
            unsaved={chain?.unsavedFilters.includes(info.name) ?? false}
            onToggle={(on) => set(withFilterEnabled(config, info.name, on))}
            onParams={(params, enable) => setParams(withFilterEnabled(withFilterParams(config, info.name, params), info.name, enable))}
            onMove={(d) => set(withFilterMoved(config, info.name, d))}
          />
        ))}
        {components.length === 0 && <div className="faint">Loading the catalogue…</div>}
      </div>
      <PluginSection plugin={config.plugin} components={components} />
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

interface CardProps {
  info: ComponentInfo;
  filter?: FilterConfig;
  position?: number;
  last: boolean;
  unsaved: boolean;
  onToggle(on: boolean): void;
  /** Resolves with the engine's reason when it refuses the parameters, else null. */
  onParams(params: Record<string, string>, enable: boolean): Promise<string | null>;
  onMove(delta: -1 | 1): void;
}

function FilterCard({ info, filter, position, last, unsaved, onToggle, onParams, onMove }: CardProps) {
  const on = filter?.enabled ?? false;
  const [open, setOpen] = useState(false);
  return (
    <div className={`filter${on ? ' on' : ''}`} data-testid={`filter-${info.name}`}>
      <div className="filter-head">
        <button
          className="toggle"
          role="switch"
          aria-checked={on}
          aria-label={`${on ? 'Disable' : 'Enable'} ${info.name}`}
          data-testid={`toggle-${info.name}`}
          onClick={() => onToggle(!on)}
        />
        <span className="name">{info.name}</span>
        <span className="spacer" />
        {position !== undefined && (
          <>
            <span className="pos" title="Position in the chain (1 = outermost)">{position + 1}</span>
            <button className="btn icon small" disabled={position === 0} title="Move outward" onClick={() => onMove(-1)}>↑</button>
            <button className="btn icon small" disabled={last} title="Move inward" onClick={() => onMove(1)}>↓</button>
          </>
        )}
        {info.params.length > 0 && (
          <button className="btn icon small" aria-expanded={open} title="Parameters" onClick={() => setOpen(!open)}>
            {open ? '▾' : '▸'}
          </button>
        )}
      </div>
      <div className="filter-summary">
        {unsaved && (
          <span className="pill" style={{ color: 'var(--warn)', marginRight: 6 }} title="Holds writes that exist nowhere else" data-testid={`unsaved-${info.name}`}>
            unsaved writes
          </span>
        )}
        {info.summary}
      </div>
      {open && <ParamForm specs={info.params} component={info.name} values={filter?.params ?? NO_PARAMS} enabled={on} onApply={onParams} />}
    </div>
  );
}

/** One object for "no parameters", so a re-render does not look like new values arriving. */
const NO_PARAMS: Record<string, string> = {};

interface ParamFormProps {
  specs: readonly ParamSpec[];
  component: string;
  /** The parameters the chain holds: the draft starts from them and follows when they change. */
  values: Record<string, string>;
  enabled: boolean;
  onApply(p: Record<string, string>, enable: boolean): Promise<string | null>;
}

/**
 * A filter's parameters. A value refused (by the shared parser, or by the engine when the chain
 * does not open with it) stays in its field with the reason under the form, to be corrected.
 */
function ParamForm({ specs, component, values, enabled, onApply }: ParamFormProps) {
  const [draft, setDraft] = useState<Record<string, string>>(values);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setDraft(values), [values]);
  const apply = async (enable: boolean) => {
    const clean = Object.fromEntries(Object.entries(draft).filter(([, v]) => v.trim() !== ''));
    try {
      // The same parser the CLI and the engine use: bad values are caught before a round trip.
      parseParams(component, specs, clean);
    } catch (e) {
      return setError((e as Error).message);
    }
    setError(await onApply(clean, enable));
  };
  return (
    <div className="filter-body">
      {specs.map((s) => (
        <div className="param" key={s.key}>
          <label htmlFor={`${component}-${s.key}`}>
            {s.key}
            {s.required ? ' *' : ''} <span className="faint">({s.kind})</span>
          </label>
          <ParamInput id={`${component}-${s.key}`} spec={s} value={draft[s.key] ?? ''} onChange={(v) => setDraft({ ...draft, [s.key]: v })} />
          <div className="hint">{s.description}</div>
        </div>
      ))}
      {error && (
        <div role="alert" style={{ color: 'var(--bad)', fontSize: 11.5, marginBottom: 6 }} data-testid="param-error">
          {error}
        </div>
      )}
      <div style={{ display: 'flex', gap: 6 }}>
        <button className="btn small primary" onClick={() => void apply(true)}>{enabled ? 'Apply' : 'Apply & enable'}</button>
        <button
          className="btn small"
          onClick={() => {
            setDraft(values);
            setError(null);
          }}
        >
          Reset
        </button>
      </div>
    </div>
  );
}

function ParamInput({ id, spec, value, onChange }: { id: string; spec: ParamSpec; value: string; onChange(v: string): void }) {
  if (spec.kind === 'bool') {
    return (
      <select id={id} className="input" value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">default{spec.default ? ` (${spec.default})` : ''}</option>
        <option value="true">true</option>
        <option value="false">false</option>
      </select>
    );
  }
  if (spec.kind === 'enum') {
    return (
      <select id={id} className="input" value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">default{spec.default ? ` (${spec.default})` : ''}</option>
        {spec.values?.map((v) => <option key={v} value={v}>{v}</option>)}
      </select>
    );
  }
  const examples: Partial<Record<ParamSpec['kind'], string>> = { size: 'e.g. 64M', offset: 'e.g. 1M', duration: 'e.g. 10ms', percent: 'e.g. 10%' };
  return <input id={id} className="input mono" value={value} placeholder={spec.default ?? examples[spec.kind] ?? ''} onChange={(e) => onChange(e.target.value)} />;
}
