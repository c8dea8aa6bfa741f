// The contract's data about what clients do: one stats sample per interval, per operation and
// per client. (Part of the IPC contract: import it through shared/ipc.ts.)
import type { StatsOp } from '../ops.ts';

/** The operations a StatsSample reports (shared/ops.ts names them). */
export { STATS_OPS, type StatsOp } from '../ops.ts';

/** One operation's part of a StatsSample: rates over a sliding window, errors and latency of the interval. */
export interface OpStats {
  /** Requests per second over the last two seconds, divided by the time they span (exact for a steady stream). */
  ops: number;
  /** Bytes per second over the same window (payload bytes; block-status counts its range). */
  bytes: number;
  /** Failed requests in the last interval. */
  errors: number;
  /** Latency percentiles in ms over the last interval; null when there were no requests. */
  p50: number | null;
  p99: number | null;
}

export interface ClientStats {
  id: number;
  remote: string;
  requests: number;
  bytesRead: number;
  bytesWritten: number;
  /** Requests per second, over the same window as OpStats.ops. */
  ops: number;
}

export interface StatsSample {
  imageId: string;
  /** ms since the epoch at the end of the interval */
  t: number;
  intervalMs: number;
  perOp: Record<StatsOp, OpStats>;
  clients: ClientStats[];
}
