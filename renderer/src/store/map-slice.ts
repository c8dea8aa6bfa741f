// What part of each image the detail map shows, what is under the pointer, and which block is
// selected for the hex view. Views are per image so switching tabs keeps each one's zoom.
import type { ExtentAt, ImageSummary } from '../../../shared/ipc.ts';
import { followSize, panBy, zoomAt, viewOf, type View } from '../map/viewport.ts';
import type { BinSummary } from '../map/bins.ts';
import type { SliceCreator } from './types.ts';

export interface Hover {
  imageId: string;
  offset: number;
  bin: BinSummary;
  /** Filled in when map.extentAt answers for this offset. */
  extent?: ExtentAt;
}

export interface MapSlice {
  views: Record<string, View>;
  hover: Hover | null;
  /** The block the hex view shows. */
  selected: { imageId: string; offset: number } | null;
  viewOf(id: string): View;
  setView(id: string, view: View): void;
  zoom(id: string, anchor: number, factor: number): void;
  pan(id: string, fraction: number): void;
  showRange(id: string, from: number, to: number): void;
  resetView(id: string): void;
  setHover(hover: Hover | null): void;
  select(imageId: string, offset: number): void;
}

export const createMapSlice: SliceCreator<MapSlice> = (set, get) => {
  const sizeOf = (id: string) => get().images.find((i) => i.id === id)?.size ?? 0;
  const update = (id: string, f: (v: View, size: number) => View) =>
    set((s) => ({ views: { ...s.views, [id]: f(get().viewOf(id), sizeOf(id)) } }));
  return {
    views: {},
    hover: null,
    selected: null,
    viewOf: (id) => get().views[id] ?? { start: 0, end: sizeOf(id) },
    setView: (id, view) => update(id, (_v, size) => viewOf(view.start, view.end, size)),
    zoom: (id, anchor, factor) => update(id, (v, size) => zoomAt(v, anchor, factor, size)),
    pan: (id, fraction) => update(id, (v, size) => panBy(v, fraction, size)),
    showRange: (id, from, to) => update(id, (_v, size) => viewOf(from, to, size)),
    resetView: (id) => update(id, (_v, size) => ({ start: 0, end: size })),
    setHover: (hover) => set({ hover }),
    select: (imageId, offset) => set({ selected: { imageId, offset } }),
  };
};

/**
 * The stored views once the images' summaries are replaced: an image whose size changed gets
 * its view moved onto the new disk, so the map, the overview and hover offsets all follow it.
 * The same object when nothing moved (the map re-asks for bins when its view changes).
 */
export function viewsFollowingSizes(views: Record<string, View>, before: readonly ImageSummary[], after: readonly ImageSummary[]): Record<string, View> {
  let out = views;
  for (const image of after) {
    const view = views[image.id];
    const old = before.find((i) => i.id === image.id);
    if (!view || !old || old.size === image.size) continue;
    if (out === views) out = { ...views };
    out[image.id] = followSize(view, old.size, image.size);
  }
  return out;
}
