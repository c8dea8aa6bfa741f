// One parameter of a filter's form: its label (kind and aliases), the input its kind calls
// for, the reason a value was refused, and the spec's description.
import type { ParamSpec } from '../../../shared/params.ts';

interface ParamFieldProps {
  spec: ParamSpec;
  component: string;
  aliases: string[];
  value: string;
  /** Why this field's value was refused, if it was. */
  error: string | null;
  onChange(v: string): void;
}

export function ParamField({ spec: s, component, aliases, value, error, onChange }: ParamFieldProps) {
  const id = `${component}-${s.key}`;
  return (
    <div className="param">
      <label htmlFor={id}>
        {s.key}
        {s.required ? ' *' : ''} <span className="faint">({s.kind}{aliases.length > 0 ? `, also ${aliases.join(', ')}` : ''})</span>
      </label>
      <ParamInput id={id} spec={s} value={value} invalid={error !== null} onChange={onChange} />
      {error !== null && (
        <div role="alert" className="param-error" style={{ color: 'var(--bad)', fontSize: 11.5 }} data-testid="param-error" data-key={s.key}>
          {error}
        </div>
      )}
      <div className="hint">
        {s.description}
        {s.noop && <span data-testid={`noop-${s.key}`}> · {s.noop}</span>}
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

const EXAMPLES: Partial<Record<ParamSpec['kind'], string>> = { size: 'e.g. 64M', offset: 'e.g. 1M', duration: 'e.g. 10ms', percent: 'e.g. 10%' };

function ParamInput({ id, spec, value, invalid, onChange }: ParamInputProps) {
  if (spec.kind === 'bool' || spec.kind === 'enum') {
    const choices = spec.kind === 'bool' ? ['true', 'false'] : (spec.values ?? []);
    return (
      <select id={id} className="input" value={value} aria-invalid={invalid} onChange={(e) => onChange(e.target.value)}>
        <option value="">default{spec.default ? ` (${spec.default})` : ''}</option>
        {choices.map((v) => <option key={v} value={v}>{v}</option>)}
      </select>
    );
  }
  return (
    <input
      id={id}
      className="input mono"
      value={value}
      aria-invalid={invalid}
      style={invalid ? { borderColor: 'var(--bad)' } : undefined}
      placeholder={spec.default ?? EXAMPLES[spec.kind] ?? ''}
      onChange={(e) => onChange(e.target.value)}
    />
  );
}
