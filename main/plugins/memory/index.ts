// memory: a sparse RAM disk shared by every connection to the export (nbdkit-memory-plugin,
// sparse allocator). Extents are exact to the 4 KiB page; zeroing whole pages frees them.
import { FLAG_REQ_ONE } from '../../backend/flags.ts';
import { definePlugin } from '../../backend/types.ts';
import { SparsePages } from './sparse-pages.ts';

export const memoryPlugin = definePlugin({
  name: 'memory',
  summary: 'sparse RAM disk (contents are lost when the export is closed)',
  magicKey: 'size',
  params: [{ key: 'size', kind: 'size', required: true, description: 'virtual size, e.g. 1G' }],
  create(params) {
    const size = params.size;
    const pages = new SparsePages();
    return {
      description: `RAM disk of ${size} bytes`,
      open: () => ({
        getSize: () => size,
        canMultiConn: () => true,
        canFua: () => 'native',
        canCache: () => 'native',
        pread: (buf, offset) => pages.read(buf, offset),
        pwrite: (buf, offset) => pages.write(buf, offset),
        flush: () => {},
        trim: (count, offset) => pages.zero(offset, count),
        zero: (count, offset) => pages.zero(offset, count),
        cache: () => {},
        extents: (count, offset, flags) => pages.extents(offset, count, (flags & FLAG_REQ_ONE) !== 0),
      }),
    };
  },
});
