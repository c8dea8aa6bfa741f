// The detail map currently on screen, for actions that need its pixels (Export PNG).
import type { ImageSummary } from '../../../shared/ipc.ts';
import { composeMapPicture, toPngBlob } from '../map/export-png.ts';
import type { MapRenderer } from '../map/MapRenderer.ts';

let current: MapRenderer | null = null;

export function setActiveMap(renderer: MapRenderer | null): void {
  current = renderer;
}

export function activeMap(): MapRenderer | null {
  return current;
}

/** The map on screen as an exportable picture (title, map, axis, legend), or null without one. */
export async function activeMapPicture(image: Pick<ImageSummary, 'title' | 'size' | 'totals'>): Promise<Blob | null> {
  if (!current) return null;
  return toPngBlob(composeMapPicture(current.snapshot(), image));
}
