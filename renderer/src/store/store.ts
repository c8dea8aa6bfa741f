// The one app store, built from slices (images, map view, server, chain, stats).
import { create } from 'zustand';
import { createActivitySlice, type ActivitySlice } from './activity-slice.ts';
import { createChainSlice, type ChainSlice } from './chain-slice.ts';
import { createImagesSlice, type ImagesSlice } from './images-slice.ts';
import { createMapSlice, type MapSlice } from './map-slice.ts';
import { createServerSlice, type ServerSlice } from './server-slice.ts';
import { createStatsSlice, type StatsSlice } from './stats-slice.ts';

export type AppState = ImagesSlice & MapSlice & ServerSlice & ChainSlice & StatsSlice & ActivitySlice;

export function createAppStore() {
  return create<AppState>()((...a) => ({
    ...createImagesSlice(...a),
    ...createMapSlice(...a),
    ...createServerSlice(...a),
    ...createChainSlice(...a),
    ...createStatsSlice(...a),
    ...createActivitySlice(...a),
  }));
}

export const useApp = createAppStore();

/** The active image's summary, or null. */
export const selectActive = (s: AppState) => s.images.find((i) => i.id === s.activeId) ?? null;
