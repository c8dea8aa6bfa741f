// blocksize-policy: advertise block size constraints the plugin does not, and optionally
// refuse requests that break them (nbdkit-blocksize-policy-filter). Pair it with the
// blocksize filter to advertise a limit and still serve clients that ignore it.
import { BlockError } from '../../backend/errors.ts';
import { defineFilter, type BlockSizes, type FilterHandle, type Next } from '../../backend/types.ts';
import { interceptDataOps } from '../intercept.ts';
import { isPowerOfTwo } from '../power-of-two.ts';

const U32_MAX = 0xffffffff;

interface Configured {
  minimum?: number | undefined;
  preferred?: number | undefined;
  maximum?: number | undefined;
  disconnect?: number | undefined;
}

export const blocksizePolicyFilter = defineFilter({
  name: 'blocksize-policy',
  summary: 'advertise block size constraints and refuse requests that break them',
  params: [
    { key: 'blocksize-minimum', kind: 'size', min: 1, max: 65536, description: 'advertised minimum size and alignment (a power of 2 up to 64K)' },
    { key: 'blocksize-preferred', kind: 'size', min: 512, max: 32 * 2 ** 20, description: 'advertised preferred size (a power of 2, 512 to 32M)' },
    { key: 'blocksize-maximum', kind: 'size', min: 1, max: U32_MAX, description: 'advertised largest read or write (a multiple of the minimum)' },
    { key: 'blocksize-error-policy', kind: 'enum', values: ['allow', 'error'] as const, default: 'allow', description: 'allow: pass requests that break the limits on; error: refuse them with EINVAL' },
    { key: 'blocksize-write-disconnect', kind: 'size', min: 1, max: U32_MAX, description: 'refuse any write larger than this with ESHUTDOWN (above the minimum)' },
  ],
  create(params) {
    const cfg: Configured = {
      minimum: params['blocksize-minimum'], preferred: params['blocksize-preferred'],
      maximum: params['blocksize-maximum'], disconnect: params['blocksize-write-disconnect'],
    };
    checkConfigured(cfg);
    const refuse = params['blocksize-error-policy'] === 'error';
    return {
      open(next) {
        const sizes = policySizes(next.blockSize(), cfg);
        return policyHandle(next, sizes, refuse, cfg.disconnect);
      },
    };
  },
});

/** nbdkit's config_complete checks, "filter: key: reason" for the form field at fault. */
function checkConfigured({ minimum, preferred, maximum, disconnect }: Configured): void {
  const fail = (key: string, why: string) => new Error(`blocksize-policy: blocksize-${key}: ${why}`);
  if (minimum !== undefined && !isPowerOfTwo(minimum)) throw fail('minimum', `${minimum} is not a power of 2`);
  if (preferred !== undefined && !isPowerOfTwo(preferred)) throw fail('preferred', `${preferred} is not a power of 2`);
  if (minimum && maximum && maximum !== U32_MAX && maximum % minimum !== 0) throw fail('maximum', `${maximum} is not a multiple of the minimum ${minimum}`);
  if (minimum && preferred && minimum > preferred) throw fail('minimum', `${minimum} is larger than the preferred size ${preferred}`);
  if (preferred && maximum && preferred > maximum) throw fail('preferred', `${preferred} is larger than the maximum ${maximum}`);
  if (minimum && disconnect && disconnect <= minimum) throw fail('write-disconnect', `${disconnect} must be larger than the minimum ${minimum}`);
}

/** What to advertise: the configured values over the layer below's (nbdkit's rules for the gaps). */
export function policySizes(below: BlockSizes | null, cfg: Configured): BlockSizes | null {
  const { minimum, preferred, maximum, disconnect } = cfg;
  if (minimum && preferred && maximum) return { minimum, preferred, maximum };
  if (!minimum && !preferred && !maximum) return below;
  let sizes: BlockSizes;
  if (below === null) {
    const min = minimum ?? 1;
    sizes = { minimum: min, preferred: preferred ?? 4096, maximum: maximum ?? (disconnect ? disconnect - (disconnect % min) : U32_MAX) };
  } else {
    sizes = { minimum: minimum ?? below.minimum, preferred: preferred ?? below.preferred, maximum: maximum ?? below.maximum };
  }
  if (sizes.minimum > sizes.preferred || sizes.preferred > sizes.maximum) {
    throw new BlockError('EINVAL', `blocksize-policy: computed block sizes are invalid: minimum ${sizes.minimum}, preferred ${sizes.preferred}, maximum ${sizes.maximum}`);
  }
  return sizes;
}

function policyHandle(next: Next, sizes: BlockSizes | null, refuse: boolean, disconnect: number | undefined): FilterHandle {
  /** The NBD spec asks for EINVAL; the maximum binds only requests that carry data. */
  const check = (op: string, data: boolean, count: number, offset: number) => {
    if (!refuse || !sizes) return;
    const { minimum, maximum } = sizes;
    let why = '';
    if (count < minimum) why = `count ${count} is smaller than the minimum size ${minimum}`;
    else if (data && count > maximum) why = `count ${count} is larger than the maximum size ${maximum}`;
    else if (count % minimum !== 0) why = `count ${count} is not a multiple of the minimum size ${minimum}`;
    else if (offset % minimum !== 0) why = `offset ${offset} is not aligned to the minimum size ${minimum}`;
    if (why) throw new BlockError('EINVAL', `blocksize-policy: ${op} request refused: ${why}`);
  };
  return {
    ...interceptDataOps(next, (req, run) => {
      // ESHUTDOWN: the connection closes after this reply, as nbdkit drops it.
      if (req.op === 'pwrite' && disconnect && req.count > disconnect) throw new BlockError('ESHUTDOWN', `blocksize-policy: a write of ${req.count} bytes is over the ${disconnect}-byte limit`);
      if (req.op !== 'flush') check(req.op, req.op === 'pread' || req.op === 'pwrite', req.count, req.offset);
      return run();
    }),
    blockSize: () => sizes,
  };
}
