import { describe, expect, it } from 'vitest';
import { STATS_OPS, type OpStats, type StatsSample } from '../../../shared/ipc.ts';
import { StatsSeries } from './series.ts';

function sample(t: number, readOps: number, p50: number | null = 1): StatsSample {
  const idle: OpStats = { ops: 0, bytes: 0, errors: 0, p50: null, p99: null };
  const perOp = Object.fromEntries(STATS_OPS.map((op) => [op, idle])) as StatsSample['perOp'];
  perOp.read = { ops: readOps, bytes: readOps * 4096, errors: 0, p50, p99: p50 };
  return { imageId: 'a', t, intervalMs: 250, perOp, clients: [] };
}

describe('StatsSeries', () => {
  it('returns samples oldest first with times in seconds', () => {
    const s = new StatsSeries(4);
    s.push(sample(1000, 1));
    s.push(sample(2000, 2));
    expect(s.times()).toEqual([1, 2]);
    expect(s.column('read', 'ops')).toEqual([1, 2]);
  });

  it('drops the oldest sample when full', () => {
    const s = new StatsSeries(2);
    [1, 2, 3].forEach((n) => s.push(sample(n * 1000, n)));
    expect(s.column('read', 'ops')).toEqual([2, 3]);
    expect(s.length).toBe(2);
  });

  it('turns "no requests" latency into a gap', () => {
    const s = new StatsSeries(4);
    s.push(sample(1000, 0, null));
    expect(s.column('read', 'p50')).toEqual([null]);
    expect(s.latest('read', 'bytes')).toBe(0);
  });
});
