// Every filter the engine has, with an on/off switch and a parameter form generated from its
// ParamSpec list (the same specs the CLI parses with). Chain filters come first, outermost at
// the top, with their position; toggling builds a new chain for new connections.
import { useEffect, useState } from 'react';
import type { ChainConfig, FilterConfig } from '../../../shared/chain-config.ts';
import type { ComponentInfo } from '../../../shared/ipc.ts';
import { parseParams, type ParamSpec } from '../../../shared/params.ts';
import { applyChain, loadChain } from '../app/actions.ts';
import { aliasesOf, draftFrom, fieldError, fieldGroups, missingRequired, type FieldError } from '../params/param-form.ts';
import { keepOrder, sidebarOrder, withFilterEnabled, withFilterMoved, withFilterParams } from '../store/chain-slice.ts';
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
  // The order the list had when a card was toggled: toggling does not re-sort, a move does.
  const [kept, setKept] = useState<{ imageId: string; names: string[] } | null>(null);
  const config = chain?.config ?? opened;
  if (!config) return null;
  const sorted = sidebarOrder(config, components);
  const names = kept?.imageId === imageId ? keepOrder(kept.names, sorted.map((x) => x.info.name)) : sorted.map((x) => x.info.name);
  const cards = names.map((n) => sorted.find((x) => x.info.name === n)!);
  const keepPlaces = () => setKept({ imageId, names });
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
        {cards.map(({ info, config: fc, position, last }) => (
          <FilterCard
            key={info.name}
            info={info}
            filter={fc}
            position={position}
            last={last ?? false}
            unsaved={chain?.unsavedFilters.includes(info.name) ?? false}
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
  // Switched on without a required value: the form opens asking for it, no round trip.
  const [asked, setAsked] = useState<FieldError | null>(null);
  const toggle = () => {
    const missing = on ? [] : missingRequired(info.params, filter?.params ?? NO_PARAMS);
    if (missing.length === 0) return onToggle(!on);
    setOpen(true);
    setAsked({ key: missing[0]!.key, text: 'required: fill it in, then Apply & enable' });
  };
  return (
    <div className={`filter${on ? ' on' : ''}`} data-testid={`filter-${info.name}`}>
      <div className="filter-head">
        <button
          className="toggle"
          role="switch"
          aria-checked={on}
          aria-label={`${on ? 'Disable' : 'Enable'} ${info.name}`}
          data-testid={`toggle-${info.name}`}
          onClick={toggle}
        />
        <span className="name">{info.name}</span>
        <span className="spacer" />
        {on && position !== undefined && (
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
      {open && (
        <ParamForm specs={info.params} component={info.name} values={filter?.params ?? NO_PARAMS} enabled={on} asked={asked} onApply={onParams} />
      )}
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
  /** A field the card asks for (a required one, when the filter was switched on without it). */
  asked: FieldError | null;
  onApply(p: Record<string, string>, enable: boolean): Promise<string | null>;
}

/**
 * A filter's parameters: the common ones, then the per-operation overrides under "more". A value
 * refused (by the shared parser, or by the engine when the chain does not open with it) stays in
 * its field with the reason beside it, to be corrected.
 */
function ParamForm({ specs, component, values, enabled, asked, onApply }: ParamFormProps) {
  const [draft, setDraft] = useState<Record<string, string>>(() => draftFrom(specs, values));
  const [error, setError] = useState<FieldError | null>(asked);
  useEffect(() => setDraft(draftFrom(specs, values)), [specs, values]);
  useEffect(() => setError(asked), [asked]);
  const groups = fieldGroups(specs);
  const [more, setMore] = useState(() => groups.more.some((s) => (values[s.key] ?? '') !== ''));
  const apply = async (enable: boolean) => {
    const clean = Object.fromEntries(Object.entries(draft).filter(([, v]) => v.trim() !== ''));
    try {
      // The same parser the CLI and the engine use: bad values are caught before a round trip.
      parseParams(component, specs, clean);
    } catch (e) {
      return setError(fieldError(component, specs, (e as Error).message));
    }
    const refused = await onApply(clean, enable);
    setError(refused === null ? null : fieldError(component, specs, refused));
  };
  if (error?.key && groups.more.some((s) => s.key === error.key) && !more) setMore(true);
  const field = (s: ParamSpec) => {
    const aliases = aliasesOf(specs, s.key);
    const wrong = error?.key === s.key;
    return (
      <div className="param" key={s.key}>
        <label htmlFor={`${component}-${s.key}`}>
          {s.key}
          {s.required ? ' *' : ''} <span className="faint">({s.kind}{aliases.length > 0 ? `, also ${aliases.join(', ')}` : ''})</span>
        </label>
        <ParamInput id={`${component}-${s.key}`} spec={s} value={draft[s.key] ?? ''} invalid={wrong} onChange={(v) => setDraft({ ...draft, [s.key]: v })} />
        {wrong && (
          <div role="alert" className="param-error" style={{ color: 'var(--bad)', fontSize: 11.5 }} data-testid="param-error" data-key={s.key}>
            {error.text}
          </div>
        )}
        <div className="hint">
          {s.description}
          {s.noop && <span data-testid={`noop-${s.key}`}> · {s.noop}</span>}
        </div>
      </div>
    );
  };
  return (
    <div className="filter-body">
      {groups.common.map(field)}
      {groups.more.length > 0 && (
        <>
          <button className="btn small" aria-expanded={more} data-testid={`more-${component}`} style={{ marginBottom: 6 }} onClick={() => setMore(!more)}>
            {more ? '▾' : '▸'} more ({groups.more.length})
          </button>
          {more && groups.more.map(field)}
        </>
      )}
      {error && error.key === null && (
        <div role="alert" style={{ color: 'var(--bad)', fontSize: 11.5, marginBottom: 6 }} data-testid="param-error">
          {error.text}
        </div>
      )}
      <div style={{ display: 'flex', gap: 6 }}>
        <button className="btn small primary" onClick={() => void apply(true)}>{enabled ? 'Apply' : 'Apply & enable'}</button>
        <button
          className="btn small"
          onClick={() => {
            setDraft(draftFrom(specs, values));
            setError(null);
          }}
        >
          Reset
        </button>
      </div>
    </div>
  );
}

interface ParamInputProps {
  id: string;
  spec: ParamSpec;
  value: string;
  invalid: boolean;
  onChange(v: string): void;
}

function ParamInput({ id, spec, value, invalid, onChange }: ParamInputProps) {
  if (spec.kind === 'bool') {
    return (
      <select id={id} className="input" value={value} aria-invalid={invalid} onChange={(e) => onChange(e.target.value)}>
        <option value="">default{spec.default ? ` (${spec.default})` : ''}</option>
        <option value="true">true</option>
        <option value="false">false</option>
      </select>
    );
  }
  if (spec.kind === 'enum') {
    return (
      <select id={id} className="input" value={value} aria-invalid={invalid} onChange={(e) => onChange(e.target.value)}>
        <option value="">default{spec.default ? ` (${spec.default})` : ''}</option>
        {spec.values?.map((v) => <option key={v} value={v}>{v}</option>)}
      </select>
    );
  }
  const examples: Partial<Record<ParamSpec['kind'], string>> = { size: 'e.g. 64M', offset: 'e.g. 1M', duration: 'e.g. 10ms', percent: 'e.g. 10%' };
  return (
    <input
      id={id}
      className="input mono"
      value={value}
      aria-invalid={invalid}
      style={invalid ? { borderColor: 'var(--bad)' } : undefined}
      placeholder={spec.default ?? examples[spec.kind] ?? ''}
      onChange={(e) => onChange(e.target.value)}
    />
  );
}
