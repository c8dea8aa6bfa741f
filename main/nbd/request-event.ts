// What the server reports of each finished request, for the stats sampler and the app's
// request log: the operation by its stats name (shared/ops.ts), its range and its latency.
import type { StatsOp } from '../../shared/ops.ts';
import { CMD } from './protocol.ts';

/** The operations the stats count, plus everything else. */
export type RequestOp = StatsOp | 'other';

export interface RequestEvent {
  connection: number;
  exportName: string;
  op: RequestOp;
  offset: number;
  length: number;
  latencyMs: number;
  error?: string;
}

const STATS_OP_OF_COMMAND: Record<number, StatsOp> = {
  [CMD.READ]: 'read', [CMD.WRITE]: 'write', [CMD.TRIM]: 'trim', [CMD.WRITE_ZEROES]: 'zero',
  [CMD.FLUSH]: 'flush', [CMD.CACHE]: 'cache', [CMD.BLOCK_STATUS]: 'block-status',
};

/** The stats operation of an NBD command type. */
export function requestOp(type: number): RequestOp {
  return STATS_OP_OF_COMMAND[type] ?? 'other';
}
