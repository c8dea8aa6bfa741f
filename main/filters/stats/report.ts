// The statsfile text, in nbdkit-stats-filter's shape so existing habits carry over:
//   total: 370 ops, 1.282993 s, 1.04 GiB, 827.29 MiB/s
//   read: 250 ops, 0.000364 s, 4.76 MiB, 12.78 GiB/s op, 3.71 MiB/s total
// plus a latency line and an error count per operation, which nbdkit does not print.
import { scaleBytes } from '../../../shared/bytes.ts';
import { STATS_OP_OF, type DataOp } from '../../../shared/ops.ts';
import type { StatsSnapshot } from './index.ts';

/** nbdkit's names for the operations: the command names, but block status is 'extents'. */
const LABEL: Record<DataOp, string> = { ...STATS_OP_OF, extents: 'extents' };

export function humanBytes(n: number): string {
  const scaled = scaleBytes(n);
  return scaled ? `${scaled.value.toFixed(2)} ${scaled.unit}` : `${Math.round(n)} bytes`;
}

const rate = (bytes: number, ms: number) => `${humanBytes(ms > 0 ? (bytes * 1000) / ms : 0)}/s`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(6)} s`;
const millis = (ms: number) => `${ms.toFixed(3)} ms`;

export function formatStats(s: StatsSnapshot): string {
  const lines = [`elapsed time: ${seconds(s.elapsedMs)}`];
  const used = (Object.keys(s.ops) as DataOp[]).filter((op) => s.ops[op].ops > 0 || s.ops[op].errors > 0);
  const total = used.reduce((t, op) => ({ ops: t.ops + s.ops[op].ops, ms: t.ms + s.ops[op].latency.sumMs, bytes: t.bytes + s.ops[op].bytes }), { ops: 0, ms: 0, bytes: 0 });
  lines.push(`total: ${total.ops} ops, ${seconds(total.ms)}, ${humanBytes(total.bytes)}, ${rate(total.bytes, s.elapsedMs)}`);
  for (const op of used) {
    const o = s.ops[op];
    const l = o.latency;
    lines.push(`${LABEL[op]}: ${o.ops} ops, ${seconds(l.sumMs)}, ${humanBytes(o.bytes)}, ${rate(o.bytes, l.sumMs)} op, ${rate(o.bytes, s.elapsedMs)} total`);
    if (o.ops > 0) lines.push(`  latency: min ${millis(l.minMs)}, p50 ${millis(l.p50Ms)}, p99 ${millis(l.p99Ms)}, max ${millis(l.maxMs)}`);
    if (o.errors > 0) lines.push(`  errors: ${o.errors}`);
  }
  return lines.join('\n') + '\n';
}
