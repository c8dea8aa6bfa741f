// full: a disk that is always full (nbdkit-full-plugin). Reads are zeroes and every write,
// trim or zero fails with ENOSPC, for testing how clients report a full disk.
import { EXTENT_HOLE_ZERO } from '../../../shared/extents.ts';
import { BlockError } from '../../backend/errors.ts';
import { definePlugin } from '../../backend/types.ts';

function noSpace(): never {
  throw new BlockError('ENOSPC', 'the full plugin has no space left');
}

export const fullPlugin = definePlugin({
  name: 'full',
  summary: 'reads zeroes, every write fails with ENOSPC',
  magicKey: 'size',
  params: [{ key: 'size', kind: 'size', required: true, description: 'virtual size, e.g. 1G' }],
  create(params) {
    const size = params.size;
    return {
      description: `full disk of ${size} bytes`,
      open: () => ({
        getSize: () => size,
        canMultiConn: () => true,
        canCache: () => 'native',
        canFastZero: () => true,
        pread: (buf) => void buf.fill(0),
        pwrite: noSpace,
        trim: noSpace,
        zero: noSpace,
        cache: () => {},
        extents: (count, offset) => [{ offset, length: count, flags: EXTENT_HOLE_ZERO }],
      }),
    };
  },
});
