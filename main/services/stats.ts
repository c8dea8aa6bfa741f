// Turns the server's per-request events into samples for the charts: per operation the
// rate, throughput, errors and latency percentiles over the last interval, and per client
// its counters. Latencies are kept in a bounded reservoir so a flood of requests between two
// samples costs fixed memory.
import { STATS_OPS, type ClientStats, type OpStats, type StatsOp, type StatsSample } from '../../shared/ipc.ts';

/** One finished request, as the NBD server reports it. */
export interface RequestEvent {
  connection: number;
  exportName: string;
  op: StatsOp;
  offset: number;
  length: number;
  latencyMs: number;
  error?: string;
}

/** A connection's running totals, as the NBD server lists them. */
export interface ConnectionCounters {
  id: number;
  remote: string;
  requests: number;
  bytesRead: number;
  bytesWritten: number;
}

const RESERVOIR = 2048;

class OpInterval {
  ops = 0;
  bytes = 0;
  errors = 0;
  private readonly latencies = new Float64Array(RESERVOIR);
  private seen = 0;

  add(ev: RequestEvent): void {
    this.ops++;
    if (ev.error) this.errors++;
    else this.bytes += ev.length;
    // Reservoir sampling: every latency of the interval has the same chance to be kept.
    if (this.seen < RESERVOIR) this.latencies[this.seen] = ev.latencyMs;
    else {
      const slot = Math.floor(Math.random() * (this.seen + 1));
      if (slot < RESERVOIR) this.latencies[slot] = ev.latencyMs;
    }
    this.seen++;
  }

  summarise(seconds: number): OpStats {
    const kept = this.latencies.slice(0, Math.min(this.seen, RESERVOIR)).sort();
    return {
      ops: this.ops / seconds,
      bytes: this.bytes / seconds,
      errors: this.errors,
      p50: percentile(kept, 0.5),
      p99: percentile(kept, 0.99),
    };
  }
}

/** Nearest-rank percentile of sorted values; null when there are none. */
export function percentile(sorted: Float64Array, p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

interface Interval {
  since: number;
  perOp: Map<StatsOp, OpInterval>;
  perConnection: Map<number, number>;
}

/** Samples per key (the session uses image ids); a key's interval restarts at each sample. */
export class StatsSampler {
  private readonly intervals = new Map<string, Interval>();
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  private interval(key: string): Interval {
    let iv = this.intervals.get(key);
    if (!iv) {
      iv = { since: this.now(), perOp: new Map(), perConnection: new Map() };
      this.intervals.set(key, iv);
    }
    return iv;
  }

  record(key: string, ev: RequestEvent): void {
    const iv = this.interval(key);
    let op = iv.perOp.get(ev.op);
    if (!op) iv.perOp.set(ev.op, (op = new OpInterval()));
    op.add(ev);
    iv.perConnection.set(ev.connection, (iv.perConnection.get(ev.connection) ?? 0) + 1);
  }

  /** The sample since the last one for `key`, with counters of the connections given. */
  sample(key: string, connections: readonly ConnectionCounters[]): StatsSample {
    const iv = this.interval(key);
    const t = this.now();
    const intervalMs = Math.max(1, t - iv.since);
    const seconds = intervalMs / 1000;
    const idle = new OpInterval();
    const perOp = Object.fromEntries(STATS_OPS.map((op) => [op, (iv.perOp.get(op) ?? idle).summarise(seconds)])) as Record<StatsOp, OpStats>;
    const clients: ClientStats[] = connections.map((c) => ({
      id: c.id,
      remote: c.remote,
      requests: c.requests,
      bytesRead: c.bytesRead,
      bytesWritten: c.bytesWritten,
      ops: (iv.perConnection.get(c.id) ?? 0) / seconds,
    }));
    this.intervals.set(key, { since: t, perOp: new Map(), perConnection: new Map() });
    return { imageId: key, t, intervalMs, perOp, clients };
  }

  forget(key: string): void {
    this.intervals.delete(key);
  }
}
