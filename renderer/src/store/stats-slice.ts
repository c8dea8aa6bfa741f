// The slow-moving part of the stats (per-client counters, whether anything moved); the per-
// sample series live in the ring buffers of stats/series.ts, outside React.
import type { ClientStats } from '../../../shared/ipc.ts';
import type { SliceCreator } from './types.ts';

export interface StatsSlice {
  clientStats: Record<string, ClientStats[]>;
  setClientStats(imageId: string, clients: ClientStats[]): void;
}

export const createStatsSlice: SliceCreator<StatsSlice> = (set) => ({
  clientStats: {},
  setClientStats: (imageId, clients) =>
    set((s) => (sameClients(s.clientStats[imageId], clients) ? {} : { clientStats: { ...s.clientStats, [imageId]: clients } })),
});

/** Skips a re-render when a sample repeats the counters (an idle server samples 4 times a second). */
function sameClients(a: ClientStats[] | undefined, b: ClientStats[]): boolean {
  if (!a || a.length !== b.length) return false;
  return a.every((x, k) => {
    const y = b[k]!;
    return x.id === y.id && x.requests === y.requests && x.bytesRead === y.bytesRead && x.bytesWritten === y.bytesWritten && x.ops === y.ops;
  });
}
