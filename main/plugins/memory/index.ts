// memory: a sparse RAM disk shared by every connection to the export (nbdkit-memory-plugin,
// sparse allocator). Extents are exact to the 4 KiB page; zeroing whole pages frees them.
import { definePlugin } from '../../backend/types.ts';
import { SparsePages, sparsePagesHandle } from './sparse-pages.ts';

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
      open: () => sparsePagesHandle(pages, size),
    };
  },
});
