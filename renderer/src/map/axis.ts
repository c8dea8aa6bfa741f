// The offset axis under the detail map: evenly spaced labels across the view. Three significant
// digits ("32 GiB") name a tick well while the view spans a good part of the disk, but deep in
// a large disk every tick rounds to the same text; then the first tick gives its exact offset
// and the others their distance from it.
import { formatBytes, formatHex } from '../format/bytes.ts';
import type { View } from './viewport.ts';

export const AXIS_TICKS = 5;

/** `ticks` labels from the view's start to its end, every one different from the others. */
export function axisLabels(view: View, ticks = AXIS_TICKS): string[] {
  const span = view.end - view.start;
  const offsets = Array.from({ length: ticks }, (_, k) => Math.round(view.start + (k / (ticks - 1)) * span));
  const plain = offsets.map((o) => formatBytes(o));
  if (new Set(plain).size === plain.length) return plain;
  return offsets.map((o, k) => (k === 0 ? formatHex(o) : `+${formatBytes(o - offsets[0]!)}`));
}
