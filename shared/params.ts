// Parameter specs for plugins and filters. One description serves the CLI (key=value
// parsing, --help), the services (validation of chain configs) and the renderer (the
// sidebar forms), so a parameter is declared exactly once.

export type ParamKind = 'size' | 'offset' | 'int' | 'bool' | 'string' | 'path' | 'enum' | 'duration' | 'percent';

export interface ParamSpec {
  key: string;
  kind: ParamKind;
  description: string;
  required?: boolean;
  /** Default as the user would type it (shown in forms and help). */
  default?: string;
  /** Allowed values for kind 'enum'. */
  values?: readonly string[];
  /** Inclusive bounds for numeric kinds (after unit conversion). */
  min?: number;
  max?: number;
  /** Forms fold a 'more' spec under a disclosure: per-operation overrides of a common one. */
  group?: 'more';
  /** Another name for this key (rdelay for delay-read): forms show the key once. */
  alias?: string;
  /** What the default means when it does nothing ("0 = never"), shown beside the field. */
  noop?: string;
  /**
   * The key may be given several times on a command line (protect=, header=): the values are
   * joined with REPEAT_SEPARATOR into one, which the component splits again.
   */
  repeat?: true;
}

/** Joins the values of a `repeat` key: a newline, which no single value may hold. */
export const REPEAT_SEPARATOR = '\n';

/** The values a `repeat` key was given, in command-line order. */
export function repeatedValues(text: string): string[] {
  return text.split(REPEAT_SEPARATOR);
}

export type ParamValue = number | boolean | string;
export type ParsedParams = Record<string, ParamValue>;

type NumericKind = 'size' | 'offset' | 'int' | 'duration' | 'percent';

/** The parsed value of one spec: a number for numeric kinds, a boolean, an enum's values, or text. */
export type ParamValueOf<S extends ParamSpec> = S['kind'] extends NumericKind ? number
  : S['kind'] extends 'bool' ? boolean
    : S extends { values: readonly (infer V)[] } ? V : string;

/** Specs whose key is a literal (declared in place, not generated from a table). */
type Declared<S> = S extends ParamSpec ? (string extends S['key'] ? never : S) : never;
/** parseParams always sets these: required ones and ones with a default. */
type AlwaysSet<S> = S extends { required: true } | { default: string } ? S : never;

/**
 * What a component's `create` receives, derived from its specs (declared with
 * definePlugin/defineFilter, which keep their literal types): `params.offset` is a number
 * without a cast. Specs generated from a table (per-operation keys) are read by key.
 */
export type ParamsOf<P extends readonly ParamSpec[]> =
  { [S in AlwaysSet<Declared<P[number]>> as S['key']]: ParamValueOf<S> } &
  { [S in Exclude<Declared<P[number]>, AlwaysSet<P[number]>> as S['key']]?: ParamValueOf<S> } &
  (string extends P[number]['key'] ? Readonly<Partial<ParsedParams>> : unknown);

const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50, e: 2 ** 60,
  s: 512, // nbdkit accepts "s" for 512-byte sectors
};

/** "64M", "1G", "4096", "10s" (sectors): nbdkit's size syntax, binary units. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([bkmgtpes]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) throw new Error(`'${text}' is not a size (examples: 512, 64K, 1M, 2G)`);
  const value = Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!;
  if (!Number.isInteger(value)) throw new Error(`'${text}' is not a whole number of bytes`);
  if (!Number.isSafeInteger(value)) {
    throw new Error(`'${text}' is larger than 2^53 bytes, the largest size Blockscope handles exactly`);
  }
  return value;
}

/** "10ms", "1.5s", "2" (seconds): returns milliseconds, like nbdkit's delay syntax. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|us)?\s*$/i.exec(text);
  if (!m) throw new Error(`'${text}' is not a duration (examples: 10ms, 1.5s, 2)`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  return unit === 'ms' ? n : unit === 'us' ? n / 1000 : n * 1000;
}

/** "10%", "0.1", "10": a rate as a fraction in [0, 1]; bare numbers > 1 are percentages. */
export function parsePercent(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text);
  if (!m) throw new Error(`'${text}' is not a percentage (examples: 10%, 0.5%)`);
  const n = Number(m[1]);
  const fraction = m[2] === '%' || n > 1 ? n / 100 : n;
  if (fraction > 1) throw new Error(`'${text}' is more than 100%`);
  return fraction;
}

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);
const FALSE_WORDS = new Set(['0', 'false', 'no', 'off']);

export function parseBool(text: string): boolean {
  const t = text.trim().toLowerCase();
  if (TRUE_WORDS.has(t)) return true;
  if (FALSE_WORDS.has(t)) return false;
  throw new Error(`'${text}' is not a boolean (true/false, yes/no, on/off, 1/0)`);
}

function parseOne(spec: ParamSpec, text: string): ParamValue {
  let value: ParamValue;
  switch (spec.kind) {
    case 'size':
    case 'offset':
      value = parseSize(text);
      break;
    case 'int': {
      if (!/^\s*-?\d+\s*$/.test(text)) throw new Error(`'${text}' is not an integer`);
      value = Number(text);
      break;
    }
    case 'bool':
      return parseBool(text);
    case 'duration':
      value = parseDuration(text);
      break;
    case 'percent':
      return parsePercent(text);
    case 'enum':
      if (!spec.values?.includes(text)) {
        throw new Error(`'${text}' is not one of ${spec.values?.join(', ')}`);
      }
      return text;
    case 'string':
    case 'path':
      if (text === '') throw new Error('must not be empty');
      return text;
  }
  if (spec.min !== undefined && value < spec.min) throw new Error(`${text} is below the minimum ${spec.min}`);
  if (spec.max !== undefined && value > spec.max) throw new Error(`${text} is above the maximum ${spec.max}`);
  return value;
}

/**
 * Validates raw key=value strings against specs: unknown keys, missing required keys and
 * bad values each get an error naming the component and the key.
 */
export function parseParams<const P extends readonly ParamSpec[]>(component: string, specs: P, raw: Record<string, string>): ParamsOf<P> {
  const out: ParsedParams = {};
  const byKey = new Map(specs.map((s) => [s.key, s]));
  for (const [key, text] of Object.entries(raw)) {
    const spec = byKey.get(key);
    if (!spec) {
      const known = specs.map((s) => s.key).join(', ') || 'none';
      throw new Error(`${component}: unknown parameter '${key}' (known: ${known})`);
    }
    try {
      out[key] = parseOne(spec, text);
    } catch (e) {
      throw new Error(`${component}: ${key}: ${(e as Error).message}`, { cause: e });
    }
  }
  for (const spec of specs) {
    if (keyMissing(out, spec)) {
      if (spec.required) throw new Error(`${component}: missing required parameter '${spec.key}'`);
      if (spec.default !== undefined) out[spec.key] = parseOne(spec, spec.default);
    }
  }
  // Every key was checked against these very specs, so `out` is what ParamsOf<P> describes.
  return out as ParamsOf<P>;
}

function keyMissing(out: ParsedParams, spec: ParamSpec): boolean {
  return !(spec.key in out);
}
