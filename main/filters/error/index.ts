// error: inject errors (nbdkit-error-filter), to test how clients cope. Each operation has
// an errno, a rate and optionally a trigger file; the general error / error-rate /
// error-file apply to every operation that has no override of its own.
import { existsSync } from 'node:fs';
import { DATA_OPS, type DataOp } from '../../../shared/ops.ts';
import type { ParsedParams } from '../../../shared/params.ts';
import { BlockError, type Errno } from '../../backend/errors.ts';
import { defineFilter } from '../../backend/types.ts';
import { interceptDataOps } from '../intercept.ts';
import { perOpSpecs, resolvePerOp } from '../per-op-params.ts';
import { createRandom, type Random } from '../seeded-random.ts';

/** The errors an NBD client can be told about. */
const ERRNOS = ['EPERM', 'EIO', 'ENOMEM', 'EINVAL', 'ENOSPC', 'ESHUTDOWN'] as const;

export interface ErrorSetting {
  errno: Errno;
  /** Probability in [0, 1]. */
  rate: number;
  /** Errors only while this file exists. */
  file?: string;
}

export function errorSettingsOf(params: Readonly<Partial<ParsedParams>>): Record<DataOp, ErrorSetting> {
  const errno = resolvePerOp<DataOp, string>(params, DATA_OPS, (op) => [`error-${op}`, 'error'], 'EIO');
  const rate = resolvePerOp<DataOp, number>(params, DATA_OPS, (op) => [`error-${op}-rate`, 'error-rate'], 0);
  const file = resolvePerOp<DataOp, string | undefined>(params, DATA_OPS, (op) => [`error-${op}-file`, 'error-file'], undefined);
  const out = {} as Record<DataOp, ErrorSetting>;
  for (const op of DATA_OPS) out[op] = { errno: errno[op] as Errno, rate: rate[op], file: file[op] };
  return out;
}

/** nbdkit's order: no rate, no error; no trigger file, no error; then the dice. */
function shouldFail(setting: ErrorSetting, random: Random): boolean {
  if (setting.rate <= 0) return false;
  if (setting.file !== undefined && !existsSync(setting.file)) return false;
  return setting.rate >= 1 || random() < setting.rate;
}

export const errorFilter = defineFilter({
  name: 'error',
  summary: 'inject errors into requests, to test clients',
  params: [
    { key: 'error', kind: 'enum', values: ERRNOS, default: 'EIO', description: 'the error to inject' },
    { key: 'error-rate', kind: 'percent', default: '0', noop: '0 = never', description: 'share of requests that fail (e.g. 10%, 0.1)' },
    { key: 'error-file', kind: 'path', description: 'inject errors only while this file exists' },
    { key: 'error-seed', kind: 'int', min: 0, description: 'seed for the random choices (for reproducible tests)' },
    // Per-operation overrides: forms fold them under "more".
    ...perOpSpecs(DATA_OPS, (op) => `error-${op}`, { kind: 'enum', values: ERRNOS, group: 'more' }, (op) => `the error to inject into ${op}`),
    ...perOpSpecs(DATA_OPS, (op) => `error-${op}-rate`, { kind: 'percent', group: 'more' }, (op) => `share of ${op} requests that fail`),
    ...perOpSpecs(DATA_OPS, (op) => `error-${op}-file`, { kind: 'path', group: 'more' }, (op) => `inject ${op} errors only while this file exists`),
  ],
  create(params) {
    const settings = errorSettingsOf(params);
    // One generator per export, so a seeded run is reproducible across its connections.
    const random = createRandom(params['error-seed']);
    return {
      open: (next) =>
        interceptDataOps(next, (req, run) => {
          const setting = settings[req.op];
          if (shouldFail(setting, random)) {
            return Promise.reject(new BlockError(setting.errno, `error: injecting ${setting.errno} into ${req.op}`));
          }
          return run();
        }),
    };
  },
});
