// How the window names the files of a backing chain: by allocation depth, the way the map's
// legend and tints count them (depth 2 is "backing 1", the image's own backing file).
import { backingLayerOfDepth } from '../../../shared/bins.ts';
import type { ImageLayerInfo } from '../../../shared/ipc.ts';

/** "image", "backing 1", "backing 2", ...; "no layer" for depth 0. */
export function layerLabel(depth: number): string {
  if (depth <= 0) return 'no layer';
  const backing = backingLayerOfDepth(depth);
  return backing > 0 ? `backing ${backing}` : 'image';
}

/** The file's name without its folders. */
export function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}

/** "backing 1 (base.qcow2)": which file holds a range at `depth`. */
export function depthWords(depth: number, layers: readonly ImageLayerInfo[] | undefined): string {
  const file = layers?.find((l) => l.depth === depth);
  return file ? `${layerLabel(depth)} (${baseName(file.path)})` : layerLabel(depth);
}

/** Backing files an image has, from its chain or, failing that, from what the map has seen. */
export function backingCount(layers: readonly ImageLayerInfo[] | undefined, seen = 0): number {
  return Math.max(seen, layers ? layers.length - 1 : 0);
}
