// cache: keep blocks of the disk in memory in front of a slow or expensive layer
// (nbdkit-cache-filter). Writes stay in the cache until the client flushes (writeback), go
// straight through as well (writethrough), or stay until the cache must shrink (unsafe, which
// ignores flush). Reads are kept too with cache-on-read. The cache belongs to the export, so
// every connection sees the same bytes; with cache-max-size the least recently used blocks
// are dropped once it passes the high threshold (dirty ones written back first).
import { existsSync } from 'node:fs';
import { defineFilter } from '../../backend/types.ts';
import { requirePowerOfTwo } from '../power-of-two.ts';
import { cachingHandle, type CacheMode } from './handle.ts';
import { CacheStore } from './store.ts';

/** cache-on-read=true|false|/PATH: a path turns it on while the file exists. */
function cacheOnReadOf(text: string, where = 'cache: cache-on-read'): () => boolean {
  const t = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return () => true;
  if (['0', 'false', 'no', 'off'].includes(t)) return () => false;
  if (!text.startsWith('/')) throw new Error(`${where}: '${text}' is neither a boolean nor an absolute path`);
  return () => existsSync(text);
}

export const cacheFilter = defineFilter({
  name: 'cache',
  summary: 'keep blocks in memory in front of a slow disk (writeback, writethrough or unsafe)',
  params: [
    { key: 'cache', kind: 'enum', values: ['writeback', 'writethrough', 'unsafe'], default: 'writeback', description: 'writeback: writes reach the disk on flush; writethrough: at once; unsafe: flush is ignored' },
    { key: 'cache-on-read', kind: 'string', default: 'false', description: 'keep what is read too: true, false, or /PATH (on while the file exists)' },
    // nbdkit refuses less than 1M.
    { key: 'cache-max-size', kind: 'size', min: 2 ** 20, description: 'limit the cache to about this size (least recently used blocks go first)' },
    { key: 'cache-high-threshold', kind: 'int', min: 1, default: '95', group: 'more', description: 'start dropping blocks above this % of cache-max-size' },
    { key: 'cache-low-threshold', kind: 'int', min: 1, default: '80', group: 'more', description: 'stop dropping blocks below this % of cache-max-size' },
    { key: 'cache-min-block-size', kind: 'size', min: 4096, default: '64K', group: 'more', description: 'block size of the cache (a power of 2, at least 4K)' },
  ],
  create(params) {
    requirePowerOfTwo('cache', 'cache-min-block-size', params['cache-min-block-size']);
    const high = params['cache-high-threshold'];
    const low = params['cache-low-threshold'];
    if (low >= high) throw new Error(`cache: cache-low-threshold: ${low} must be below cache-high-threshold (${high})`);
    const max = params['cache-max-size'];
    const store = new CacheStore(params['cache-min-block-size']);
    const settings = {
      mode: params.cache as CacheMode,
      cacheOnRead: cacheOnReadOf(params['cache-on-read']),
      limit: max === undefined ? null : { maxSize: max, high, low },
    };
    return {
      open: (next) => cachingHandle(next, store, settings),
      // Writeback and unsafe hold writes the disk below does not have until a flush.
      hasUnsavedData: () => store.dirtyCount > 0,
    };
  },
});
