// stats: count requests, bytes, latency and errors per operation (nbdkit-stats-filter).
// The counters belong to the export (every connection adds to them) and are readable
// at any time through statsSnapshot(), which the app's stats sampler polls; the statsfile,
// if given, is written once when the filter is unloaded.
import { appendFile, writeFile } from 'node:fs/promises';
import { defineFilter, type FilterInstance } from '../../backend/types.ts';
import { DATA_OPS, type DataOp } from '../../../shared/ops.ts';
import { interceptDataOps } from '../intercept.ts';
import { LatencyRecorder, type LatencySnapshot } from './latency.ts';
import { formatStats } from './report.ts';

/** One operation's counts since the filter instance was created (the statsfile's numbers). */
export interface OpTotals {
  /** Requests that succeeded. */
  ops: number;
  /** Bytes those requests covered (the request length; 0 for flush). */
  bytes: number;
  /** Requests that failed (not counted in ops, bytes or latency). */
  errors: number;
  latency: LatencySnapshot;
}

export interface StatsSnapshot {
  /** Since the filter instance was created. */
  elapsedMs: number;
  ops: Record<DataOp, OpTotals>;
}

export interface StatsInstance extends FilterInstance {
  snapshot(): StatsSnapshot;
}

/** The numbers of a stats filter instance, or undefined for any other filter. */
export function statsSnapshot(instance: FilterInstance): StatsSnapshot | undefined {
  const s = (instance as Partial<StatsInstance>).snapshot;
  return typeof s === 'function' ? s.call(instance) : undefined;
}

class OpCounter {
  ops = 0;
  bytes = 0;
  errors = 0;
  readonly latency = new LatencyRecorder();

  snapshot(): OpTotals {
    return { ops: this.ops, bytes: this.bytes, errors: this.errors, latency: this.latency.snapshot() };
  }
}

export const statsFilter = defineFilter({
  name: 'stats',
  summary: 'count requests, bytes, latency and errors per operation',
  params: [
    { key: 'statsfile', kind: 'path', description: 'write the statistics to this file when the export closes' },
    { key: 'statsappend', kind: 'bool', default: 'false', description: 'append to the statsfile instead of replacing it' },
  ],
  create(params): StatsInstance {
    const file = params['statsfile'];
    const append = params['statsappend'];
    const started = performance.now();
    const counters = Object.fromEntries(DATA_OPS.map((op) => [op, new OpCounter()])) as Record<DataOp, OpCounter>;
    const snapshot = (): StatsSnapshot => ({
      elapsedMs: performance.now() - started,
      ops: Object.fromEntries(DATA_OPS.map((op) => [op, counters[op].snapshot()])) as Record<DataOp, OpTotals>,
    });
    return {
      snapshot,
      open: (next) =>
        interceptDataOps(next, async (req, run) => {
          const counter = counters[req.op];
          const t0 = performance.now();
          try {
            const result = await run();
            counter.ops++;
            counter.bytes += req.count;
            counter.latency.record(performance.now() - t0);
            return result;
          } catch (err) {
            counter.errors++;
            throw err;
          }
        }),
      async unload() {
        if (file) await (append ? appendFile : writeFile)(file, formatStats(snapshot()));
      },
    };
  },
});
