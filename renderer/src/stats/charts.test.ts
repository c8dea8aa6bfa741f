import { describe, expect, it } from 'vitest';
import { STATS_OPS, type OpStats, type StatsSample } from '../../../shared/ipc.ts';
import { CHARTS, chartData, latestLine } from './charts.ts';
import { StatsSeries } from './series.ts';

function sample(t: number, writeBytes: number): StatsSample {
  const idle: OpStats = { ops: 0, bytes: 0, errors: 0, p50: null, p99: null };
  const perOp = Object.fromEntries(STATS_OPS.map((op) => [op, idle])) as StatsSample['perOp'];
  perOp.write = { ops: 4, bytes: writeBytes, errors: 0, p50: 0.5, p99: 2 };
  return { imageId: 'a', t, intervalMs: 250, perOp, clients: [] };
}

const throughput = CHARTS.find((c) => c.id === 'bytes')!;

describe('chartData', () => {
  it('scales throughput to MB/s, one column per op after the times', () => {
    const s = new StatsSeries(8);
    s.push(sample(1000, 2_000_000));
    const [times, read, write] = chartData(s, throughput);
    expect(times).toEqual([1]);
    expect(read).toEqual([0]);
    expect(write).toEqual([2]);
  });

  it('names only the ops that moved in the header line', () => {
    const s = new StatsSeries(8);
    s.push(sample(1000, 2_000_000));
    expect(latestLine(s, throughput)).toBe('write 2.0');
  });

  it('says idle when nothing moved', () => {
    expect(latestLine(new StatsSeries(8), throughput)).toBe('idle');
  });
});
