// What the map draws over its bins: the partition band and boundaries (the detail map, and the
// exported picture through the same canvas), the hover line, and the overview's viewport
// window. Plain functions of a 2D context, so the renderer keeps only state and scheduling.
import type { PartitionInfo } from '../../../shared/ipc.ts';
import { partitionSpans } from './overlay.ts';
import { cssColour, type Palette } from './palette.ts';
import { xOfOffset, type View } from './viewport.ts';

/** Where overlays go on a canvas: its device size, DPR, and the band's height above the bins. */
export interface OverlayFrame {
  ctx: CanvasRenderingContext2D;
  width: number;
  height: number;
  dpr: number;
  band: number;
  palette: Palette;
}

const rgba = (rgb: readonly number[], alpha: number) => `rgba(${rgb.join(',')}, ${alpha})`;

/** Each partition as a tinted, labelled span of the band, with a line down its start. */
export function drawPartitionBand(f: OverlayFrame, partitions: readonly PartitionInfo[], view: View): void {
  const { ctx, dpr, band, palette: p } = f;
  const line = Math.max(1, Math.round(dpr));
  ctx.font = `${Math.round(11 * dpr)}px system-ui, sans-serif`;
  ctx.textBaseline = 'middle';
  for (const s of partitionSpans(partitions, view, f.width)) {
    const w = s.x1 - s.x0;
    ctx.fillStyle = rgba(p.partition, 0.08);
    ctx.fillRect(s.x0, 0, w, band);
    ctx.fillStyle = rgba(p.partition, 0.55);
    ctx.fillRect(Math.round(s.x0), 0, line, f.height);
    ctx.fillRect(Math.round(s.x1) - 1, 0, line, band);
    ctx.save();
    ctx.beginPath();
    ctx.rect(s.x0, 0, w, band);
    ctx.clip();
    ctx.fillStyle = cssColour(p.partition);
    ctx.fillText(s.label, s.x0 + 6 * dpr, band / 2);
    ctx.restore();
  }
}

export function drawHoverLine(f: OverlayFrame, x: number): void {
  f.ctx.fillStyle = rgba(f.palette.partition, 0.9);
  f.ctx.fillRect(Math.round(x), f.band, Math.max(1, Math.round(f.dpr)), f.height - f.band);
}

/** The overview dims what lies outside the detail view and frames the view. */
export function drawViewportWindow(f: OverlayFrame, window: View, view: View): void {
  const { ctx, width: w, height: h } = f;
  const x0 = Math.max(0, xOfOffset(view, window.start, w));
  const x1 = Math.min(w, Math.max(x0 + 2 * f.dpr, xOfOffset(view, window.end, w)));
  ctx.fillStyle = rgba(f.palette.background, 0.55);
  ctx.fillRect(0, 0, x0, h);
  ctx.fillRect(x1, 0, w - x1, h);
  ctx.strokeStyle = rgba(f.palette.partition, 0.95);
  ctx.lineWidth = Math.max(1, Math.round(f.dpr * 1.5));
  ctx.strokeRect(x0 + ctx.lineWidth / 2, ctx.lineWidth / 2, x1 - x0 - ctx.lineWidth, h - ctx.lineWidth);
}
