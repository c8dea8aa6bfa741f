// What a filter's parameter form shows, without React: which field an error belongs to and
// how it reads there, which fields are missing, and the order and grouping of the fields.
import type { ParamSpec } from '../../../shared/params.ts';

/** An error message placed on a field (key) or, when no field is to blame, under the form. */
export interface FieldError {
  key: string | null;
  text: string;
}

/**
 * Places an error from the shared parser ("offset: offset: 'x' is not a size", "partition:
 * missing required parameter 'partition'") or from the engine ("offset: range: the window
 * ends at ...") on its field, without the component and key prefixes the field already shows.
 */
export function fieldError(component: string, specs: readonly ParamSpec[], message: string): FieldError {
  const keys = new Set(specs.map((s) => s.key));
  const rest = message.startsWith(`${component}: `) ? message.slice(component.length + 2) : message;
  const missing = /^missing required parameter '([^']+)'$/.exec(rest);
  if (missing && keys.has(missing[1]!)) return { key: canonicalKey(specs, missing[1]!), text: 'required' };
  const colon = rest.indexOf(': ');
  if (colon > 0 && keys.has(rest.slice(0, colon))) return { key: canonicalKey(specs, rest.slice(0, colon)), text: rest.slice(colon + 2) };
  const unknown = /^unknown parameter '([^']+)'/.exec(rest);
  if (unknown) return { key: null, text: `'${unknown[1]}' is not a parameter of ${component}` };
  // A filter with one field: whatever the engine refused is that field's value.
  const visible = specs.filter((s) => !s.alias);
  if (visible.length === 1) return { key: visible[0]!.key, text: rest };
  return { key: null, text: rest };
}

/** The key a form shows for `key`: an alias's other name. */
export function canonicalKey(specs: readonly ParamSpec[], key: string): string {
  return specs.find((s) => s.key === key)?.alias ?? key;
}

/** Required fields with no value in `params`: turning the filter on needs them first. */
export function missingRequired(specs: readonly ParamSpec[], params: Readonly<Record<string, string>>): ParamSpec[] {
  return specs.filter((s) => s.required && (params[s.key] ?? '').trim() === '');
}

/** The fields a form shows: common ones first, per-operation overrides under "more", aliases folded away. */
export function fieldGroups(specs: readonly ParamSpec[]): { common: ParamSpec[]; more: ParamSpec[] } {
  const shown = specs.filter((s) => !s.alias);
  return { common: shown.filter((s) => s.group !== 'more'), more: shown.filter((s) => s.group === 'more') };
}

/** The other names of a key ("rdelay" for delay-read), to mention beside its label. */
export function aliasesOf(specs: readonly ParamSpec[], key: string): string[] {
  return specs.filter((s) => s.alias === key).map((s) => s.key);
}

/**
 * The draft a form starts from: a value given under an alias shows in its key's field
 * (the more specific key wins, as the filters resolve them).
 */
export function draftFrom(specs: readonly ParamSpec[], values: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    const target = canonicalKey(specs, key);
    if (target === key || out[target] === undefined) out[target] = value;
  }
  for (const [key, value] of Object.entries(values)) if (canonicalKey(specs, key) === key) out[key] = value;
  return out;
}
