// pattern: a read-only disk whose every 8-byte big-endian word is its own offset
// (nbdkit-pattern-plugin), for checking that reads land where they should.
import { definePlugin } from '../../backend/types.ts';
import { fillPattern } from './pattern-fill.ts';

export const patternPlugin = definePlugin({
  name: 'pattern',
  summary: 'read-only test disk: each 8-byte word holds its own offset',
  magicKey: 'size',
  params: [{ key: 'size', kind: 'size', required: true, description: 'virtual size, e.g. 1G' }],
  create(params) {
    const size = params.size;
    return {
      description: `offset pattern of ${size} bytes`,
      open: () => ({
        getSize: () => size,
        canWrite: () => false,
        canMultiConn: () => true,
        // Content is computed: there is nothing to warm, so cache can succeed at once.
        canCache: () => 'native',
        cache: () => {},
        pread: (buf, offset) => fillPattern(buf, offset),
      }),
    };
  },
});
