// The exported map picture: what the panel shows around the canvas, composed on one offscreen
// canvas so the file reads on its own. A title (image name and size), the detail map as drawn
// (its partition band included), the offset axis with the same labels as the panel
// (axis.ts), and a legend with each kind's colour and its exact total.
import type { AllocationTotals } from '../../../shared/ipc.ts';
import { formatBytes } from '../format/bytes.ts';
import { axisLabels } from './axis.ts';
import type { MapSnapshot } from './MapRenderer.ts';
import { hatch } from './paint.ts';
import { PICTURE } from './picture-layout.ts';
import { backingColour, cssColour, type Rgb } from './palette.ts';
import { formatShare } from './share.ts';

const { title: TITLE_HEIGHT, axis: AXIS_HEIGHT, legendRow: LEGEND_ROW, swatch: SWATCH, pad: PAD, gap: GAP } = PICTURE;

export interface PictureFacts {
  title: string;
  size: number;
  totals: AllocationTotals;
}

interface LegendItem {
  colour: Rgb | 'hatch';
  text: string;
}

/** One legend entry per kind the image holds, with its exact total and share of the disk. */
export function legendItems(snapshot: Pick<MapSnapshot, 'palette'>, facts: PictureFacts): LegendItem[] {
  const p = snapshot.palette;
  const { totals, size } = facts;
  const ownData = totals.data - (totals.backing ?? []).reduce((a, b) => a + b, 0);
  const kinds: [Rgb | 'hatch', string, number][] = [
    [p.kinds.data, 'data', ownData],
    ...(totals.backing ?? []).map((bytes, k): [Rgb, string, number] => [backingColour(p, k + 1), `backing ${k + 1}`, bytes]),
    [p.kinds.zero, 'zero', totals.zero],
    [p.kinds.hole, 'hole', totals.hole],
    [p.kinds['hole-undefined'], 'hole (undefined)', totals.holeUndefined],
    ['hatch', 'not scanned', totals.unknown],
  ];
  return kinds
    .filter(([, , bytes], k) => bytes > 0 || k === 0)
    .map(([colour, name, bytes]) => ({ colour, text: `${name} ${formatBytes(bytes)} (${formatShare(bytes, size)})` }));
}

interface Placed {
  item: LegendItem;
  x: number;
  row: number;
}

/** Legend entries placed left to right, wrapping to a new row at the picture's width. */
function placeLegend(items: readonly LegendItem[], width: number, s: number, measure: (text: string) => number): Placed[] {
  const placed: Placed[] = [];
  let x = PAD * s;
  let row = 0;
  for (const item of items) {
    const w = (SWATCH + 6) * s + measure(item.text);
    if (x > PAD * s && x + w > width - PAD * s) {
      row++;
      x = PAD * s;
    }
    placed.push({ item, x, row });
    x += w + GAP * s;
  }
  return placed;
}

const font = (px: number, s: number, weight = '') => `${weight} ${Math.round(px * s)}px system-ui, sans-serif`.trim();

/** The picture as a canvas; `toPngBlob` turns it into the file. */
export function composeMapPicture(snapshot: MapSnapshot, facts: PictureFacts): HTMLCanvasElement {
  const { canvas: map, dpr: s, palette } = snapshot;
  const out = document.createElement('canvas');
  const ctx = out.getContext('2d', { alpha: false })!;
  ctx.font = font(12, s);
  const placed = placeLegend(legendItems(snapshot, facts), map.width, s, (t) => ctx.measureText(t).width);
  const rows = placed.length === 0 ? 0 : placed[placed.length - 1]!.row + 1;
  const top = Math.round(TITLE_HEIGHT * s);
  const axisTop = top + map.height;
  const legendTop = axisTop + Math.round(AXIS_HEIGHT * s);
  out.width = map.width;
  out.height = legendTop + Math.round((rows * LEGEND_ROW + PAD / 2) * s);
  // Resizing reset the context: paint the background, then every part.
  ctx.fillStyle = cssColour(palette.background);
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = cssColour(palette.partition);
  ctx.font = font(14, s, '600');
  ctx.textBaseline = 'middle';
  ctx.fillText(`${facts.title} · ${formatBytes(facts.size)} · allocation map`, PAD * s, top / 2);
  ctx.drawImage(map, 0, top);
  drawAxis(ctx, snapshot, axisTop);
  drawLegend(ctx, snapshot, placed, legendTop);
  return out;
}

/** Tick marks and labels under the map: first label left-aligned, last right-aligned. */
function drawAxis(ctx: CanvasRenderingContext2D, snapshot: MapSnapshot, y: number): void {
  const { dpr: s, palette } = snapshot;
  const width = snapshot.canvas.width;
  const labels = axisLabels(snapshot.view);
  ctx.font = font(11, s);
  ctx.textBaseline = 'top';
  labels.forEach((label, k) => {
    const x = Math.round((k / (labels.length - 1)) * (width - 1));
    ctx.fillStyle = `rgba(${palette.partition.join(',')}, 0.5)`;
    ctx.fillRect(x, y, Math.max(1, Math.round(s)), Math.round(4 * s));
    ctx.fillStyle = cssColour(palette.partition);
    ctx.textAlign = k === 0 ? 'left' : k === labels.length - 1 ? 'right' : 'center';
    ctx.fillText(label, x, y + 6 * s);
  });
  ctx.textAlign = 'left';
}

function drawLegend(ctx: CanvasRenderingContext2D, snapshot: MapSnapshot, placed: readonly Placed[], top: number): void {
  const { dpr: s, palette } = snapshot;
  const sw = Math.round(SWATCH * s);
  ctx.font = font(12, s);
  ctx.textBaseline = 'middle';
  for (const { item, x, row } of placed) {
    const y = Math.round(top + row * LEGEND_ROW * s);
    const mid = y + Math.round((LEGEND_ROW * s) / 2);
    const sx = Math.round(x);
    const sy = mid - Math.round(sw / 2);
    if (item.colour === 'hatch') {
      for (let yy = 0; yy < sw; yy++) {
        for (let xx = 0; xx < sw; xx++) {
          ctx.fillStyle = cssColour(hatch(palette, xx, yy));
          ctx.fillRect(sx + xx, sy + yy, 1, 1);
        }
      }
    } else {
      ctx.fillStyle = cssColour(item.colour);
      ctx.fillRect(sx, sy, sw, sw);
    }
    ctx.fillStyle = cssColour(palette.partition);
    ctx.fillText(item.text, sx + sw + 6 * s, mid);
  }
}

export function toPngBlob(canvas: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the browser made no PNG'))), 'image/png'));
}
