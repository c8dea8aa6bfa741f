// The imperative canvas behind a map component. It owns the canvas size (CSS pixels x device
// pixel ratio), one reusable ImageData for the painted bins, and the overlays; React only
// tells it what to show. Input (wheel, drag, keys, hover) comes back as callbacks in map
// terms (anchor fractions, byte offsets), so the store decides what a gesture means.
import type { PartitionInfo } from '../../../shared/ipc.ts';
import { binOf } from '../../../shared/bins.ts';
import { paintActivity, type ActivityHeat } from './activity-overlay.ts';
import { summariseBin, type BinCounts, type BinSummary } from './bins.ts';
import { listenToMapInput } from './map-input.ts';
import { drawHoverLine, drawPartitionBand, drawViewportWindow, type OverlayFrame } from './map-overlays.ts';
import { paintBins } from './paint.ts';
import { cssColour, type Palette } from './palette.ts';
import { offsetAtX, xOfOffset, type View } from './viewport.ts';

export interface MapRendererOptions {
  /** 'detail' draws partition labels and a hover column; 'overview' draws the viewport window. */
  mode: 'detail' | 'overview';
  palette: Palette;
  /** Device pixels available for bins changed: ask for new bins. */
  onResize?(deviceWidth: number): void;
  onHover?(hover: { offset: number; bin: BinSummary | null } | null): void;
  /** Wheel zoom: factor < 1 zooms in, around `anchor` (0..1 across the map). */
  onZoom?(anchor: number, factor: number): void;
  /** Drag: a fraction of the view width, positive toward the end of the disk. */
  onPan?(fraction: number): void;
  onClick?(offset: number): void;
}

/** The detail map as drawn, for the exported picture (export-png.ts). */
export interface MapSnapshot {
  canvas: HTMLCanvasElement;
  view: View;
  palette: Palette;
  dpr: number;
  /** Device pixels of the partition band at the canvas's top. */
  band: number;
}

/** CSS pixels of the partition band above the detail map. */
const BAND = 20;

export class MapRenderer {
  private readonly ctx: CanvasRenderingContext2D;
  private readonly painted: HTMLCanvasElement;
  private image: ImageData | null = null;
  private bins: BinCounts | null = null;
  private heat: ActivityHeat | null = null;
  private view: View = { start: 0, end: 1 };
  private window: View | null = null;
  private partitions: readonly PartitionInfo[] = [];
  private hoverX: number | null = null;
  private frame = 0;
  private dpr = 1;
  private readonly resizeObserver: ResizeObserver;
  private readonly stopInput: () => void;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly options: MapRendererOptions,
  ) {
    this.ctx = canvas.getContext('2d', { alpha: false })!;
    this.painted = document.createElement('canvas');
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(canvas);
    this.stopInput = listenToMapInput({
      canvas,
      options,
      dpr: () => this.dpr,
      offsetAt: (x) => this.offsetAt(x),
      hoverAt: (x) => this.hoverAt(x),
    });
    // Sized now, but no callback: the owner is still constructing and asks for bins itself.
    this.resize(false);
  }

  /** Device pixels across the map: one bin each. */
  get deviceWidth(): number {
    return this.canvas.width;
  }

  private get bandHeight(): number {
    return this.options.mode === 'detail' ? Math.round(BAND * this.dpr) : 0;
  }

  private get mapHeight(): number {
    return Math.max(1, this.canvas.height - this.bandHeight);
  }

  setPalette(palette: Palette): void {
    this.options.palette = palette;
    this.repaintBins();
  }

  setView(view: View): void {
    this.view = view;
    this.canvas.dataset.viewStart = String(view.start);
    this.canvas.dataset.viewEnd = String(view.end);
    this.schedule();
  }

  /** The overview's highlighted range (the detail view). */
  setWindow(window: View | null): void {
    this.window = window;
    this.schedule();
  }

  setPartitions(partitions: readonly PartitionInfo[]): void {
    this.partitions = partitions;
    this.schedule();
  }

  setBins(bins: BinCounts): void {
    this.bins = bins;
    // What the e2e suite reads to turn byte offsets into pixels.
    Object.assign(this.canvas.dataset, {
      binsStart: String(bins.start),
      binsEnd: String(bins.end),
      bins: String(bins.count),
      // Zero once the bins hold no unscanned bytes: the map drawn next is the full map.
      binsUnknown: String(bins.unknown.reduce((a, b) => a + b, 0)),
      mapTop: String(this.bandHeight),
    });
    this.repaintBins();
    // The pointer did not move but what lies under it did (zoom, pan, a client's write).
    if (this.hoverX !== null) this.hoverAt(this.hoverX);
  }

  /** The heat overlay, painted over the bins it was counted for (null: allocation only). */
  setActivity(heat: ActivityHeat | null): void {
    this.heat = heat;
    this.repaintBins();
  }

  dispose(): void {
    cancelAnimationFrame(this.frame);
    this.resizeObserver.disconnect();
    this.stopInput();
  }

  /** What the exported picture is composed from: the canvas as drawn, without the hover line. */
  snapshot(): MapSnapshot {
    const hover = this.hoverX;
    this.hoverX = null;
    this.draw();
    this.hoverX = hover;
    if (hover !== null) this.schedule();
    return { canvas: this.canvas, view: this.view, palette: this.options.palette, dpr: this.dpr, band: this.bandHeight };
  }

  private resize(notify = true): void {
    const rect = this.canvas.getBoundingClientRect();
    this.dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(rect.width * this.dpr));
    const h = Math.max(1, Math.round(rect.height * this.dpr));
    if (w === this.canvas.width && h === this.canvas.height) return;
    this.canvas.width = w;
    this.canvas.height = h;
    this.canvas.dataset.mapTop = String(this.bandHeight);
    this.repaintBins();
    if (notify) this.options.onResize?.(w);
  }

  /** Paints the bins into the offscreen canvas, reusing the pixel buffer when the size holds. */
  private repaintBins(): void {
    const bins = this.bins;
    if (!bins) return this.schedule();
    const width = bins.count;
    const height = this.mapHeight;
    if (!this.image || this.image.width !== width || this.image.height !== height) {
      this.image = new ImageData(width, height);
      this.painted.width = width;
      this.painted.height = height;
    }
    paintBins(this.image, bins, this.options.palette, Infinity);
    // For the e2e suite: the range whose heat the pixels show ('' when none).
    const lit = this.heat !== null && paintActivity(this.image, bins, this.heat, this.options.palette);
    this.canvas.dataset.activity = lit ? `${bins.start}-${bins.end}` : '';
    this.painted.getContext('2d')!.putImageData(this.image, 0, 0);
    this.schedule();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    const { ctx, canvas } = this;
    const p = this.options.palette;
    ctx.fillStyle = cssColour(p.background);
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    this.drawBins();
    // For the e2e suite: which bins the pixels show now, and a frame counter to wait on.
    this.canvas.dataset.drawn = this.bins ? `${this.bins.start}-${this.bins.end}` : '';
    this.canvas.dataset.frames = String(Number(this.canvas.dataset.frames ?? 0) + 1);
    const frame = this.overlayFrame();
    if (this.options.mode === 'detail') {
      drawPartitionBand(frame, this.partitions, this.view);
      if (this.hoverX !== null) drawHoverLine(frame, this.hoverX);
    } else if (this.window) {
      drawViewportWindow(frame, this.window, this.view);
    }
  }

  /**
   * Draws the last bins where their range falls in the current view, scaled: while a new
   * answer is on its way a zoom or pan already moves the picture, so gestures feel immediate.
   * When the bins fit the view exactly, the copy is 1:1 and pixel-exact.
   */
  private drawBins(): void {
    const bins = this.bins;
    if (!bins || bins.count === 0) return;
    const x0 = xOfOffset(this.view, bins.start, this.canvas.width);
    const x1 = xOfOffset(this.view, bins.end, this.canvas.width);
    const ctx = this.ctx;
    ctx.imageSmoothingEnabled = false;
    // Fewer bins than pixels (zoomed to single blocks): the cells are drawn wide, with a gap
    // after each so neighbouring blocks of one kind stay countable.
    const cell = (x1 - x0) / bins.count;
    if (cell >= 6) {
      for (let i = 0; i < bins.count; i++) {
        const a = Math.round(x0 + i * cell);
        const b = Math.round(x0 + (i + 1) * cell);
        ctx.drawImage(this.painted, i, 0, 1, this.mapHeight, a, this.bandHeight, Math.max(1, b - a - 1), this.mapHeight);
      }
      return;
    }
    ctx.drawImage(this.painted, 0, 0, bins.count, this.mapHeight, x0, this.bandHeight, x1 - x0, this.mapHeight);
  }

  private overlayFrame(): OverlayFrame {
    const { ctx, canvas, dpr } = this;
    return { ctx, width: canvas.width, height: canvas.height, dpr, band: this.bandHeight, palette: this.options.palette };
  }

  private offsetAt(deviceX: number): number {
    return offsetAtX(this.view, deviceX, this.canvas.width);
  }

  private hoverAt(deviceX: number | null): void {
    this.hoverX = deviceX;
    this.schedule();
    if (deviceX === null) return this.options.onHover?.(null);
    const offset = this.offsetAt(deviceX);
    const b = this.bins;
    const i = b ? binOf(b.start, b.end, b.count, offset) : -1;
    this.options.onHover?.({ offset, bin: b && i >= 0 ? summariseBin(b, i) : null });
  }
}
