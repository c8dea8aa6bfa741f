// nocache: cripple the client's advisory CACHE requests (nbdkit-nocache-filter), to measure
// what they are worth.
import { defineFilter } from '../../backend/types.ts';

export const nocacheFilter = defineFilter({
  name: 'nocache',
  summary: 'stop advertising CACHE, emulate it with reads, or ignore it',
  params: [
    { key: 'cachemode', kind: 'enum', values: ['none', 'emulate', 'nop'] as const, default: 'none', description: 'none: not advertised; emulate: done by reading, even if the layer below caches itself; nop: accepted and ignored' },
  ],
  create(params) {
    const mode = params.cachemode;
    return {
      open: () => {
        if (mode === 'none') return { canCache: () => 'none' as const };
        // emulate: the backend reads the range through this layer on its behalf.
        if (mode === 'emulate') return { canCache: () => 'emulate' as const };
        return { canCache: () => 'native' as const, cache: () => {} };
      },
    };
  },
});
