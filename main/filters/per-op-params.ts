// nbdkit filters such as delay and error take one general parameter and per-operation
// overrides (error-rate, error-pread-rate, ...). The specs are generated from a table and
// the values resolved in one place, so each filter only names its keys.
import type { ParamSpec, ParamValue, ParsedParams } from '../../shared/params.ts';

/** One spec per operation, e.g. ops ['pread','pwrite'] and key (op) => `error-${op}-rate`. */
export function perOpSpecs<Op extends string>(
  ops: readonly Op[],
  key: (op: Op) => string,
  spec: Omit<ParamSpec, 'key' | 'description' | 'default'>,
  describe: (op: Op) => string,
): ParamSpec[] {
  return ops.map((op) => ({ ...spec, key: key(op), description: describe(op) }));
}

/**
 * For each operation, the value of the first key in `keys(op)` that was given (most
 * specific first), else `fallback`.
 */
export function resolvePerOp<Op extends string, T extends ParamValue | undefined>(
  params: Readonly<Partial<ParsedParams>>,
  ops: readonly Op[],
  keys: (op: Op) => readonly string[],
  fallback: T,
): Record<Op, T> {
  const out = {} as Record<Op, T>;
  for (const op of ops) {
    const key = keys(op).find((k) => params[k] !== undefined);
    out[op] = key === undefined ? fallback : (params[key] as T);
  }
  return out;
}
