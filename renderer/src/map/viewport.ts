// Zoom and pan over the virtual disk. A view is a byte range [start, end); the detail map
// shows it at one bin per device pixel. All functions are pure and clamp to the disk, so the
// component can feed them raw wheel and drag deltas.

export interface View {
  start: number;
  end: number;
}

/** The block the map zooms down to: one 512-byte sector. */
export const BLOCK = 512;
/** The narrowest view: this many blocks across the map, each a visible cell. */
export const MIN_BLOCKS_IN_VIEW = 16;

export function minSpan(size: number): number {
  return Math.min(size, BLOCK * MIN_BLOCKS_IN_VIEW);
}

/** Keeps the span within [minSpan, size] and the range inside the disk, preserving the span. */
export function clampView(view: View, size: number): View {
  if (size <= 0) return { start: 0, end: 0 };
  let span = Math.round(view.end - view.start);
  span = Math.max(minSpan(size), Math.min(size, span));
  let start = Math.round(view.start);
  start = Math.max(0, Math.min(size - span, start));
  return { start, end: start + span };
}

/**
 * Zooms by `factor` (< 1 zooms in) keeping the byte under `anchor` (0..1 across the map)
 * where it is, the way maps and profilers zoom around the pointer.
 */
export function zoomAt(view: View, anchor: number, factor: number, size: number): View {
  const span = view.end - view.start;
  const pivot = view.start + anchor * span;
  const newSpan = Math.max(minSpan(size), Math.min(size, span * factor));
  return clampView({ start: pivot - anchor * newSpan, end: pivot - anchor * newSpan + newSpan }, size);
}

/** Moves the view by a fraction of its own width (positive = toward the end of the disk). */
export function panBy(view: View, fraction: number, size: number): View {
  const delta = (view.end - view.start) * fraction;
  return clampView({ start: view.start + delta, end: view.end + delta }, size);
}

/** Centres the view on `offset`, keeping its span. */
export function centreOn(view: View, offset: number, size: number): View {
  const span = view.end - view.start;
  return clampView({ start: offset - span / 2, end: offset + span / 2 }, size);
}

/** The view of [from, to), widened to the minimum span: "zoom to selection / partition". */
export function viewOf(from: number, to: number, size: number): View {
  const span = Math.max(minSpan(size), to - from);
  const mid = (from + to) / 2;
  return clampView({ start: mid - span / 2, end: mid + span / 2 }, size);
}

/**
 * The view once the disk's size changed from `before` to `after` bytes (a partition, offset or
 * truncate filter toggled): the whole disk stays the whole disk, anything else keeps its range
 * as far as the new disk allows.
 */
export function followSize(view: View, before: number, after: number): View {
  if (view.start === 0 && view.end === before) return { start: 0, end: after };
  return clampView(view, after);
}

/** How many bins to ask for: one per device pixel, but never more than there are blocks. */
export function binsFor(view: View, devicePixels: number): number {
  const blocks = Math.ceil((view.end - view.start) / BLOCK);
  return Math.max(1, Math.min(Math.floor(devicePixels), blocks));
}

/** The byte at horizontal position x (0..width) of a map showing `view`. */
export function offsetAtX(view: View, x: number, width: number): number {
  const f = Math.max(0, Math.min(1, x / width));
  return Math.min(view.end - 1, Math.floor(view.start + f * (view.end - view.start)));
}

/** Horizontal position of byte `offset` on a map showing `view` (may fall outside 0..width). */
export function xOfOffset(view: View, offset: number, width: number): number {
  return ((offset - view.start) / (view.end - view.start)) * width;
}

/** "bytes per pixel" text for the zoom indicator. */
export function bytesPerPixel(view: View, width: number): number {
  return (view.end - view.start) / Math.max(1, width);
}
