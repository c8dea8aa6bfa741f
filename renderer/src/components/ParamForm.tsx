// A filter's parameters: the common ones, then the per-operation overrides under "more". A value
// refused (by the shared parser, or by the engine when the chain does not open with it) stays in
// its field with the reason beside it, to be corrected.
import { useEffect, useState } from 'react';
import { parseParams, type ParamSpec } from '../../../shared/params.ts';
import { aliasesOf, draftFrom, fieldError, fieldGroups, type FieldError } from '../params/param-form.ts';
import { ParamField } from './ParamField.tsx';

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

export function ParamForm({ specs, component, values, enabled, asked, onApply }: ParamFormProps) {
  const { draft, setDraft, error, apply, reset } = useParamDraft({ specs, component, values, asked, onApply });
  const groups = fieldGroups(specs);
  const [more, setMore] = useState(() => groups.more.some((s) => (values[s.key] ?? '') !== ''));
  if (error?.key && groups.more.some((s) => s.key === error.key) && !more) setMore(true);
  const field = (s: ParamSpec) => (
    <ParamField
      key={s.key}
      spec={s}
      component={component}
      aliases={aliasesOf(specs, s.key)}
      value={draft[s.key] ?? ''}
      error={error?.key === s.key ? error.text : null}
      onChange={(v) => setDraft({ ...draft, [s.key]: v })}
    />
  );
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
        <button className="btn small" onClick={reset}>Reset</button>
      </div>
    </div>
  );
}

type DraftOptions = Pick<ParamFormProps, 'specs' | 'component' | 'values' | 'asked' | 'onApply'>;

/** The form's edits and the error placed on one of its fields; apply checks before it sends. */
function useParamDraft({ specs, component, values, asked, onApply }: DraftOptions) {
  const [draft, setDraft] = useState<Record<string, string>>(() => draftFrom(specs, values));
  const [error, setError] = useState<FieldError | null>(asked);
  useEffect(() => setDraft(draftFrom(specs, values)), [specs, values]);
  useEffect(() => setError(asked), [asked]);
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
  const reset = () => {
    setDraft(draftFrom(specs, values));
    setError(null);
  };
  return { draft, setDraft, error, apply, reset };
}
