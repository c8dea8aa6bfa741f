// The heat overlay's settings, one for every map: what it shows and how far back it looks.
import type { ActivitySettings } from '../map/activity-overlay.ts';
import type { SliceCreator } from './types.ts';

export interface ActivitySlice {
  activity: ActivitySettings;
  setActivity(patch: Partial<ActivitySettings>): void;
}

export const createActivitySlice: SliceCreator<ActivitySlice> = (set) => ({
  activity: { mode: 'allocation', windowSeconds: null },
  setActivity: (patch) => set((s) => ({ activity: { ...s.activity, ...patch } })),
});
