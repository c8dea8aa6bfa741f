// Stats samples in fixed-size ring buffers, one per image, outside React: four samples a
// second would otherwise re-render the tree, and the charts only need the columns when they
// draw (once per animation frame at most).
import { STATS_OPS, type StatsOp, type StatsSample } from '../../../shared/ipc.ts';

/** Two minutes at the sampler's 4 Hz. */
export const SERIES_CAPACITY = 480;

export type Metric = 'ops' | 'bytes' | 'errors' | 'p50' | 'p99';
const METRICS: readonly Metric[] = ['ops', 'bytes', 'errors', 'p50', 'p99'];

export class StatsSeries {
  private readonly t: Float64Array;
  private readonly values = new Map<string, Float64Array>();
  private head = 0;
  length = 0;
  /** Bumped per push, so a chart can tell whether it has drawn the latest data. */
  version = 0;

  constructor(readonly capacity = SERIES_CAPACITY) {
    this.t = new Float64Array(capacity);
    for (const op of STATS_OPS) for (const m of METRICS) this.values.set(key(op, m), new Float64Array(capacity));
  }

  push(sample: StatsSample): void {
    const at = this.head;
    this.t[at] = sample.t / 1000;
    for (const op of STATS_OPS) {
      const s = sample.perOp[op];
      for (const m of METRICS) {
        // NaN marks "no requests" for latency, so the chart shows a gap instead of a zero.
        const v = s ? s[m] : null;
        this.values.get(key(op, m))![at] = v === null || v === undefined ? NaN : v;
      }
    }
    this.head = (this.head + 1) % this.capacity;
    this.length = Math.min(this.capacity, this.length + 1);
    this.version++;
  }

  /** Times in seconds, oldest first. */
  times(): number[] {
    return this.ordered(this.t);
  }

  /** One metric of one op, oldest first; gaps are null (what uPlot draws as a break). */
  column(op: StatsOp, metric: Metric): (number | null)[] {
    return this.ordered(this.values.get(key(op, metric))!).map((v) => (Number.isNaN(v) ? null : v));
  }

  /** The newest value of one metric, null when none or a gap. */
  latest(op: StatsOp, metric: Metric): number | null {
    if (this.length === 0) return null;
    const v = this.values.get(key(op, metric))![(this.head - 1 + this.capacity) % this.capacity]!;
    return Number.isNaN(v) ? null : v;
  }

  private ordered(a: Float64Array): number[] {
    const out = new Array<number>(this.length);
    const first = (this.head - this.length + this.capacity) % this.capacity;
    for (let k = 0; k < this.length; k++) out[k] = a[(first + k) % this.capacity]!;
    return out;
  }
}

function key(op: StatsOp, m: Metric): string {
  return `${op}:${m}`;
}

const byImage = new Map<string, StatsSeries>();
const listeners = new Set<(imageId: string) => void>();

export function seriesFor(imageId: string): StatsSeries {
  let s = byImage.get(imageId);
  if (!s) byImage.set(imageId, (s = new StatsSeries()));
  return s;
}

export function recordSample(sample: StatsSample): void {
  seriesFor(sample.imageId).push(sample);
  for (const l of listeners) l(sample.imageId);
}

export function onSample(listener: (imageId: string) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function forgetSeries(imageId: string): void {
  byImage.delete(imageId);
}
