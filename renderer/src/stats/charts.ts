// Which series each stats chart draws, and their colours. Pure data, so the chart component
// stays a thin uPlot shell.
import type { StatsOp } from '../../../shared/ipc.ts';
import type { Metric, StatsSeries } from './series.ts';

export const OP_COLOURS: Record<StatsOp, string> = {
  read: '#4f8cff',
  write: '#f2994a',
  trim: '#b07cf0',
  zero: '#34c791',
  flush: '#8b94a3',
  cache: '#2fb7c9',
  'block-status': '#e86fa5',
};

export interface SeriesSpec {
  label: string;
  op: StatsOp;
  metric: Metric;
  colour: string;
  dash?: number[];
  /** Multiplier applied when drawing (bytes -> MB). */
  scale?: number;
}

export interface ChartSpec {
  id: string;
  title: string;
  unit: string;
  series: SeriesSpec[];
}

const each = (ops: StatsOp[], metric: Metric, scale?: number): SeriesSpec[] =>
  ops.map((op) => ({ label: op, op, metric, colour: OP_COLOURS[op], scale }));

export const CHARTS: ChartSpec[] = [
  { id: 'ops', title: 'Requests', unit: 'ops/s', series: each(['read', 'write', 'trim', 'zero', 'flush', 'block-status'], 'ops') },
  { id: 'bytes', title: 'Throughput', unit: 'MB/s', series: each(['read', 'write', 'trim', 'zero'], 'bytes', 1 / 1e6) },
  {
    id: 'latency',
    title: 'Latency p50 / p99',
    unit: 'ms',
    series: [
      { label: 'read p50', op: 'read', metric: 'p50', colour: OP_COLOURS.read },
      { label: 'read p99', op: 'read', metric: 'p99', colour: OP_COLOURS.read, dash: [4, 3] },
      { label: 'write p50', op: 'write', metric: 'p50', colour: OP_COLOURS.write },
      { label: 'write p99', op: 'write', metric: 'p99', colour: OP_COLOURS.write, dash: [4, 3] },
    ],
  },
  { id: 'errors', title: 'Errors', unit: 'per interval', series: each(['read', 'write', 'trim', 'zero', 'flush'], 'errors') },
];

/** uPlot's aligned data for one chart: times, then one column per series. */
export function chartData(series: StatsSeries, spec: ChartSpec): (number | null)[][] {
  const cols = spec.series.map((s) => {
    const col = series.column(s.op, s.metric);
    return s.scale === undefined ? col : col.map((v) => (v === null ? null : v * s.scale!));
  });
  return [series.times(), ...cols];
}

/** The newest value of each series, for the chart's header line. */
export function latestLine(series: StatsSeries, spec: ChartSpec): string {
  const parts = spec.series
    .map((s) => ({ s, v: series.latest(s.op, s.metric) }))
    .filter(({ v }) => v !== null && v > 0)
    .map(({ s, v }) => `${s.label} ${(v! * (s.scale ?? 1)).toFixed(v! * (s.scale ?? 1) >= 100 ? 0 : 1)}`);
  return parts.length ? parts.join(' · ') : 'idle';
}
