// fua: change how Forced Unit Access is advertised and honoured (nbdkit-fua-filter), to
// compare FUA with flushes, or to trade safety for speed (discard) or speed for safety (force).
import { BlockError } from '../../backend/errors.ts';
import { FLAG_FUA, type Support } from '../../backend/flags.ts';
import { defineFilter, type FilterHandle, type Next } from '../../backend/types.ts';

export const FUA_MODES = ['none', 'emulate', 'native', 'force', 'pass', 'discard'] as const;
type FuaMode = (typeof FUA_MODES)[number];

export const fuaFilter = defineFilter({
  name: 'fua',
  summary: 'hide, emulate, force or discard FUA and flushes',
  params: [
    {
      key: 'fuamode', kind: 'enum', values: FUA_MODES, default: 'none',
      description: 'none: FUA not advertised; emulate: by a flush; native: passed on; force: every write is FUA, flush does nothing; pass: unchanged; discard: FUA and flush dropped (unsafe)',
    },
  ],
  create(params) {
    const mode: FuaMode = params.fuamode;
    return {
      open(next, options) {
        if (!options.readonly && next.canWrite()) requireBelow(next, mode);
        return fuaHandle(next, mode);
      },
    };
  },
});

/** nbdkit refuses to load where the mode needs what the layer below lacks. */
function requireBelow(next: Next, mode: FuaMode): void {
  if (mode === 'emulate' && !next.canFlush()) {
    throw new BlockError('EINVAL', 'fua: fuamode: emulate needs a layer below that can flush');
  }
  if ((mode === 'native' || mode === 'force') && next.canFua() === 'none') {
    throw new BlockError('EINVAL', `fua: fuamode: ${mode} needs a layer below that supports FUA`);
  }
}

function fuaHandle(next: Next, mode: FuaMode): FilterHandle {
  const advertised: Record<FuaMode, () => Support> = {
    none: () => 'none', emulate: () => 'emulate', native: () => 'native', force: () => 'native', discard: () => 'native', pass: () => next.canFua(),
  };
  // emulate needs nothing more: the backend turns FUA into a flush on this layer's behalf.
  if (mode !== 'force' && mode !== 'discard') return { canFua: advertised[mode] };
  const adjust = mode === 'force' ? (flags: number) => flags | FLAG_FUA : (flags: number) => flags & ~FLAG_FUA;
  return {
    canFua: advertised[mode],
    // Everything written is already durable (force) or deliberately never made so (discard).
    canFlush: () => true,
    flush: () => {},
    pwrite: (buf, offset, flags) => next.pwrite(buf, offset, adjust(flags)),
    trim: (count, offset, flags) => next.trim(count, offset, adjust(flags)),
    zero: (count, offset, flags) => next.zero(count, offset, adjust(flags)),
  };
}
