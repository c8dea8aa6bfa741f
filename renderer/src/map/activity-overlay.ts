// The heat overlay: where clients read and wrote, painted over the allocation map. A bin with
// activity becomes a full column on a dark-red-to-yellow ramp (log scale, so one 4 KiB read
// beside a 1 GiB stream still shows); the other bins keep their allocation colours, dimmed
// toward the background so the lit ones stand out. ActivityFeed asks main for the bins of the
// view the map shows, with the latest answer winning, and the painter works on the same pixel
// buffer as paint.ts so the renderer blits one picture.
import type { ActivityBins, ActivitySelection, IpcRequest } from '../../../shared/ipc.ts';
import { binAtColumn, packRgb, type PaintTarget } from './paint.ts';
import { mix, type Palette, type Rgb } from './palette.ts';

/** What the map shows: allocation alone, or one of the activity selections over it. */
export type ActivityMode = 'allocation' | ActivitySelection;
type ActivityBinsRequest = IpcRequest<'activity.bins'>;
export const ACTIVITY_MODES: readonly ActivityMode[] = ['allocation', 'reads', 'writes', 'both'];
/** "Last N seconds" choices; null is everything since serving began (or the last clear). */
export const ACTIVITY_WINDOWS: readonly (number | null)[] = [null, 10, 60, 300];

/** A window as the controls and the totals name it. */
export function windowLabel(seconds: number | null): string {
  if (seconds === null) return 'all';
  return seconds < 60 ? `${seconds} s` : `${seconds / 60} min`;
}

export interface ActivitySettings {
  mode: ActivityMode;
  windowSeconds: number | null;
}

/** One activity.bins answer in the form the painter reads. */
export interface ActivityHeat {
  start: number;
  end: number;
  count: number;
  values: Float64Array;
  max: number;
}

export function heatFromReply(reply: ActivityBins): ActivityHeat {
  const values = Float64Array.from(reply.counts);
  return { start: reply.start, end: reply.end, count: reply.bins, values, max: values.reduce((a, b) => Math.max(a, b), 0) };
}

/** The ramp's ends: the least activity shown, and the most. */
export const HEAT_LOW: Rgb = [176, 36, 36];
export const HEAT_HIGH: Rgb = [255, 226, 84];
/** Share of the way to the background that quiet bins are dimmed. */
export const QUIET_DIM = 0.72;

/** 0 for no activity; else the bin's place on the ramp, 0.2..1 on a log scale of `max`. */
export function heatLevel(value: number, max: number): number {
  if (value <= 0 || max <= 0) return 0;
  return 0.2 + 0.8 * (Math.log1p(value) / Math.log1p(max));
}

export function heatColour(level: number): Rgb {
  return mix(HEAT_LOW, HEAT_HIGH, Math.min(1, Math.max(0, (level - 0.2) / 0.8)));
}

/**
 * Paints `heat` over the allocation picture in `target` (paintBins' output for the same
 * bins): lit columns in the ramp's colour, quiet ones dimmed. Returns false, leaving the
 * picture as it was, when the heat is for other bins than `bins` (an answer still on its way).
 */
export function paintActivity(target: PaintTarget, bins: { start: number; end: number; count: number }, heat: ActivityHeat, palette: Palette): boolean {
  if (heat.start !== bins.start || heat.end !== bins.end || heat.count !== bins.count || heat.count === 0) return false;
  const { width, height } = target;
  const words = new Uint32Array(target.data.buffer, target.data.byteOffset, width * height);
  const bytes = target.data;
  const bg = palette.background;
  for (let x = 0; x < width; x++) {
    const level = heatLevel(heat.values[binAtColumn(x, width, heat.count)]!, heat.max);
    if (level > 0) {
      const word = packRgb(heatColour(level));
      for (let p = x; p < width * height; p += width) words[p] = word;
      continue;
    }
    for (let p = x * 4; p < bytes.length; p += width * 4) {
      bytes[p] = bytes[p]! + (bg[0] - bytes[p]!) * QUIET_DIM;
      bytes[p + 1] = bytes[p + 1]! + (bg[1] - bytes[p + 1]!) * QUIET_DIM;
      bytes[p + 2] = bytes[p + 2]! + (bg[2] - bytes[p + 2]!) * QUIET_DIM;
    }
  }
  return true;
}

/** The legend's gradient, low to high, as a CSS background. */
export function heatGradientCss(): string {
  const stops = [0.2, 0.6, 1].map((l) => `rgb(${heatColour(l).join(', ')})`);
  return `linear-gradient(to right, ${stops.join(', ')})`;
}

/**
 * Keeps a map's heat in step with its view and the settings: asks for activity.bins when
 * either moves or main says clients were busy, shows null in allocation mode. Answers to
 * superseded questions are dropped.
 */
export class ActivityFeed {
  private wanted: Omit<ActivityBinsRequest, 'op' | 'windowSeconds'> | null = null;
  private asked = 0;
  private disposed = false;

  constructor(
    private readonly fetch: (request: ActivityBinsRequest) => Promise<ActivityBins>,
    private readonly settings: () => ActivitySettings,
    private readonly show: (heat: ActivityHeat | null) => void,
    private readonly onError: (error: Error) => void = (e) => console.error(e),
  ) {}

  want(wanted: { imageId: string; start: number; end: number; bins: number }): void {
    this.wanted = wanted;
    this.refresh();
  }

  refresh(): void {
    const { mode, windowSeconds } = this.settings();
    const ticket = ++this.asked;
    const wanted = this.wanted;
    if (mode === 'allocation' || !wanted || wanted.end <= wanted.start) return this.show(null);
    const request = { ...wanted, op: mode, ...(windowSeconds === null ? {} : { windowSeconds }) };
    this.fetch(request).then(
      (reply) => !this.disposed && ticket === this.asked && this.show(heatFromReply(reply)),
      (e: Error) => !this.disposed && ticket === this.asked && this.onError(e),
    );
  }

  dispose(): void {
    this.disposed = true;
  }
}
