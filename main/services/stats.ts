// Turns the server's per-request events into samples for the charts: per operation the rate
// and throughput over a sliding window (rate.ts), the errors and latency percentiles of the
// last interval, and per client its counters and request rate. Latencies are kept in a
// bounded reservoir so a flood of requests between two samples costs fixed memory.
import type { RequestEvent } from '../nbd/server.ts';
import { STATS_OPS, type ClientStats, type OpStats, type StatsOp, type StatsSample } from '../../shared/ipc.ts';
import { SlidingRate, type Rate } from './rate.ts';

/** One finished request, as the NBD server reports it. */
/** One request as the NBD server reports it (declared there once). */
export type { RequestEvent };

/** A connection's running totals, as the NBD server lists them. */
export interface ConnectionCounters {
  id: number;
  remote: string;
  requests: number;
  bytesRead: number;
  bytesWritten: number;
}

const RESERVOIR = 2048;
/** How far back rates look: long enough to hold many requests of a slow steady stream. */
export const RATE_WINDOW_MS = 2000;

/** What one interval keeps of an operation: its errors and latencies. */
class OpInterval {
  errors = 0;
  private readonly latencies = new Float64Array(RESERVOIR);
  private seen = 0;

  add(ev: RequestEvent): void {
    if (ev.error) this.errors++;
    // Reservoir sampling: every latency of the interval has the same chance to be kept.
    if (this.seen < RESERVOIR) this.latencies[this.seen] = ev.latencyMs;
    else {
      const slot = Math.floor(Math.random() * (this.seen + 1));
      if (slot < RESERVOIR) this.latencies[slot] = ev.latencyMs;
    }
    this.seen++;
  }

  summarise(rate: Rate): OpStats {
    const kept = this.latencies.slice(0, Math.min(this.seen, RESERVOIR)).sort();
    return {
      ops: rate.perSecond,
      bytes: rate.amountPerSecond,
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

/** One key's state: the current interval, and the rates that outlive it. */
interface KeyState {
  since: number;
  perOp: Map<StatsOp, OpInterval>;
  opRates: Map<StatsOp, SlidingRate>;
  clientRates: Map<number, SlidingRate>;
}

const NO_RATE: Rate = { perSecond: 0, amountPerSecond: 0 };

function getOrAdd<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) map.set(key, (v = make()));
  return v;
}

/** Samples per key (the session uses image ids); a key's interval restarts at each sample. */
export class StatsSampler {
  private readonly keys = new Map<string, KeyState>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly windowMs = RATE_WINDOW_MS,
  ) {}

  private state(key: string): KeyState {
    return getOrAdd(this.keys, key, () => ({ since: this.now(), perOp: new Map(), opRates: new Map(), clientRates: new Map() }));
  }

  record(key: string, ev: RequestEvent): void {
    const st = this.state(key);
    const t = this.now();
    getOrAdd(st.perOp, ev.op, () => new OpInterval()).add(ev);
    getOrAdd(st.opRates, ev.op, () => new SlidingRate(this.windowMs)).add(t, ev.error ? 0 : ev.length);
    getOrAdd(st.clientRates, ev.connection, () => new SlidingRate(this.windowMs)).add(t, 0);
  }

  /** The sample since the last one for `key`, with counters of the connections given. */
  sample(key: string, connections: readonly ConnectionCounters[]): StatsSample {
    const st = this.state(key);
    const t = this.now();
    const intervalMs = Math.max(1, t - st.since);
    const rates = new Map([...st.opRates].map(([op, r]) => [op, r.take(t, intervalMs)]));
    const idle = new OpInterval();
    const perOp = Object.fromEntries(
      STATS_OPS.map((op) => [op, (st.perOp.get(op) ?? idle).summarise(rates.get(op) ?? NO_RATE)]),
    ) as Record<StatsOp, OpStats>;
    const clientRates = new Map([...st.clientRates].map(([id, r]) => [id, r.take(t, intervalMs)]));
    const clients: ClientStats[] = connections.map((c) => ({
      id: c.id,
      remote: c.remote,
      requests: c.requests,
      bytesRead: c.bytesRead,
      bytesWritten: c.bytesWritten,
      ops: (clientRates.get(c.id) ?? NO_RATE).perSecond,
    }));
    // Connections that left and went quiet take no more room.
    for (const [id, r] of st.clientRates) if (r.idle && !connections.some((c) => c.id === id)) st.clientRates.delete(id);
    st.since = t;
    st.perOp = new Map();
    return { imageId: key, t, intervalMs, perOp, clients };
  }

  forget(key: string): void {
    this.keys.delete(key);
  }
}
