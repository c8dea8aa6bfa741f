// delay: make requests slow (nbdkit-delay-filter), to simulate a remote or slow disk and
// to widen race windows in clients. Each operation waits its own delay before going down.
import type { DataOp } from '../../../shared/ops.ts';
import type { ParsedParams } from '../../../shared/params.ts';
import { BlockError } from '../../backend/errors.ts';
import { FLAG_FAST_ZERO } from '../../backend/flags.ts';
import { defineFilter } from '../../backend/types.ts';
import { interceptDataOps } from '../intercept.ts';
import { perOpSpecs, resolvePerOp } from '../per-op-params.ts';
import { sleepAtLeast } from '../timing.ts';

/** nbdkit's parameter names: delay-read, delay-write, ... */
const DELAYED = ['read', 'write', 'zero', 'trim', 'extents', 'cache', 'open', 'close'] as const;
type Delayed = (typeof DELAYED)[number];

const PARAM_OF_OP: Record<DataOp, Delayed | null> = {
  pread: 'read', pwrite: 'write', zero: 'zero', trim: 'trim', extents: 'extents', cache: 'cache', flush: null,
};

/** Most specific first: delay-zero beats wdelay. */
function keysFor(name: Delayed): string[] {
  const keys = [`delay-${name}`];
  if (name === 'read') keys.push('rdelay');
  if (name === 'write' || name === 'zero' || name === 'trim') keys.push('wdelay');
  return keys;
}

/** Milliseconds per delayed operation, after aliases and overrides. */
export function delaysOf(params: Readonly<Partial<ParsedParams>>): Record<Delayed, number> {
  return resolvePerOp<Delayed, number>(params, DELAYED, keysFor, 0);
}

export const delayFilter = defineFilter({
  name: 'delay',
  summary: 'delay requests, to simulate a slow or remote disk',
  params: [
    { key: 'rdelay', kind: 'duration', min: 0, alias: 'delay-read', description: 'delay reads (same as delay-read)' },
    { key: 'wdelay', kind: 'duration', min: 0, noop: 'empty = no delay', description: 'delay writes, zeroes and trims' },
    // delay-read is the common one (rdelay's other name); the other operations fold under "more".
    ...perOpSpecs(DELAYED, (d) => `delay-${d}`, { kind: 'duration', min: 0 }, (d) => `delay ${d} requests (e.g. 10ms, 1.5s)`)
      .map((s) => (s.key === 'delay-read' ? { ...s, noop: 'empty = no delay' } : { ...s, group: 'more' as const })),
    { key: 'delay-fast-zero', kind: 'bool', default: 'true', group: 'more', description: 'delay fast-zero requests too; false fails them at once with ENOTSUP' },
  ],
  create(params) {
    const ms = delaysOf(params);
    const delayFastZero = params['delay-fast-zero'];
    // Refusing fast zeroes at once is itself a fast answer, so it may be advertised.
    const refuseFastZero = !delayFastZero && ms.zero > 0;
    return {
      async open(next) {
        await sleepAtLeast(ms.open);
        return {
          ...interceptDataOps(next, async (req, run) => {
            if (refuseFastZero && req.op === 'zero' && req.flags & FLAG_FAST_ZERO) {
              throw new BlockError('ENOTSUP', 'delay: fast zero refused (delay-fast-zero=false)');
            }
            const name = PARAM_OF_OP[req.op];
            if (name) await sleepAtLeast(ms[name]);
            return run();
          }),
          canFastZero: () => refuseFastZero || next.canFastZero(),
          close: () => sleepAtLeast(ms.close),
        };
      },
    };
  },
});
