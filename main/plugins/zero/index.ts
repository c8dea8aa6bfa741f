// zero: a read-only disk of zeroes (nbdkit-zero-plugin). nbdkit's is always zero bytes long;
// size= is our extension for a read-only counterpart of the null plugin.
import { EXTENT_HOLE_ZERO } from '../../../shared/extents.ts';
import { definePlugin } from '../../backend/types.ts';

export const zeroPlugin = definePlugin({
  name: 'zero',
  summary: 'read-only disk of zeroes, empty by default',
  magicKey: 'size',
  params: [{ key: 'size', kind: 'size', default: '0', description: 'virtual size (nbdkit: always 0)' }],
  create(params) {
    const size = params.size;
    return {
      description: `zero disk of ${size} bytes`,
      open: () => ({
        getSize: () => size,
        canWrite: () => false,
        canMultiConn: () => true,
        canCache: () => 'native',
        pread: (buf) => void buf.fill(0),
        cache: () => {},
        extents: (count, offset) => [{ offset, length: count, flags: EXTENT_HOLE_ZERO }],
      }),
    };
  },
});
