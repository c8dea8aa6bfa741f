// The detail map currently on screen, for actions that need its pixels (Export PNG).
import type { MapRenderer } from '../map/MapRenderer.ts';

let current: MapRenderer | null = null;

export function setActiveMap(renderer: MapRenderer | null): void {
  current = renderer;
}

export function activeMap(): MapRenderer | null {
  return current;
}
