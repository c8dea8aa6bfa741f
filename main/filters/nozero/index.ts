// nozero: take away or fake efficient zeroing (nbdkit-nozero-filter), to time naive clients
// against sparse-aware ones and to exercise their fallbacks.
import { EMULATION_CHUNK, zeroes } from '../../backend/context.ts';
import { BlockError } from '../../backend/errors.ts';
import { FLAG_FAST_ZERO, FLAG_FUA, FLAG_MAY_TRIM } from '../../backend/flags.ts';
import { defineFilter, type FilterHandle, type Next } from '../../backend/types.ts';

export const ZERO_MODES = ['none', 'emulate', 'notrim', 'plugin'] as const;
export const FAST_ZERO_MODES = ['default', 'none', 'slow', 'ignore'] as const;
type ZeroMode = (typeof ZERO_MODES)[number];
type FastZeroMode = (typeof FAST_ZERO_MODES)[number];

export const nozeroFilter = defineFilter({
  name: 'nozero',
  summary: 'stop advertising WRITE_ZEROES, or emulate it with writes',
  params: [
    { key: 'zeromode', kind: 'enum', values: ZERO_MODES, default: 'none', description: 'none: not advertised; emulate: written as zero bytes; notrim: passed on without MAY_TRIM; plugin: passed on' },
    { key: 'fastzeromode', kind: 'enum', values: FAST_ZERO_MODES, default: 'default', description: 'fast zero: none: not advertised; slow: always ENOTSUP; ignore: treated as a plain zero (unsafe); default: by zeromode' },
  ],
  create(params) {
    const zeromode: ZeroMode = params.zeromode;
    const fastzeromode: FastZeroMode = params.fastzeromode;
    return {
      open(next, options) {
        if ((zeromode === 'notrim' || zeromode === 'plugin') && !options.readonly && next.canWrite() && !next.canZero()) {
          throw new BlockError('EINVAL', `nozero: zeromode: ${zeromode} needs a layer below that can zero`);
        }
        return nozeroHandle(next, zeromode, fastzeromode);
      },
    };
  },
});

function nozeroHandle(next: Next, zeromode: ZeroMode, fastzeromode: FastZeroMode): FilterHandle {
  if (zeromode === 'none') return { canZero: () => false };
  return {
    canZero: () => true,
    canFastZero: () => fastzeromode !== 'none' && (zeromode === 'emulate' || fastzeromode !== 'default' || next.canFastZero()),
    async zero(count, offset, flags) {
      if (flags & FLAG_FAST_ZERO) {
        if (fastzeromode === 'slow' || (fastzeromode === 'default' && zeromode === 'emulate')) {
          throw new BlockError('ENOTSUP', 'nozero: fast zero requests are refused');
        }
        if (fastzeromode === 'ignore') flags &= ~FLAG_FAST_ZERO;
      }
      if (zeromode === 'notrim') flags &= ~FLAG_MAY_TRIM;
      if (zeromode !== 'emulate') return next.zero(count, offset, flags);
      await writeZeroes(next, count, offset, flags & FLAG_FUA);
    },
  };
}

/** Zeroing as plain writes; an emulated FUA becomes one flush at the end, not one per piece. */
async function writeZeroes(next: Next, count: number, offset: number, fua: number): Promise<void> {
  const flushAfter = fua !== 0 && next.canFua() === 'emulate';
  for (let done = 0; done < count; done += EMULATION_CHUNK) {
    const n = Math.min(EMULATION_CHUNK, count - done);
    await next.pwrite(zeroes(n), offset + done, flushAfter ? 0 : fua);
  }
  if (flushAfter) await next.flush();
}
