// null: a disk of nothing (nbdkit-null-plugin). Reads are zeroes, writes vanish, and the whole
// disk is an unallocated hole, which makes it the baseline for benchmarks and filter tests.
import { EXTENT_HOLE_ZERO } from '../../../shared/extents.ts';
import { definePlugin } from '../../backend/types.ts';

export const nullPlugin = definePlugin({
  name: 'null',
  summary: 'empty disk: reads zeroes, discards writes',
  magicKey: 'size',
  params: [{ key: 'size', kind: 'size', default: '0', description: 'virtual size, e.g. 1G' }],
  create(params) {
    const size = params.size;
    return {
      description: `null disk of ${size} bytes`,
      open: () => ({
        getSize: () => size,
        canMultiConn: () => true,
        // Nothing is ever stored, so every write is already as durable as it will get.
        canFua: () => 'native',
        canCache: () => 'native',
        pread: (buf) => void buf.fill(0),
        pwrite: () => {},
        flush: () => {},
        trim: () => {},
        zero: () => {},
        cache: () => {},
        extents: (count, offset) => [{ offset, length: count, flags: EXTENT_HOLE_ZERO }],
      }),
    };
  },
});
