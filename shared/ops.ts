// The names of the operations on an export, declared once. The chain's filters know them by
// their callback names (DataOp); the stats, the charts and the server's request events by the
// NBD command that carries each one (StatsOp), which is this one mapping of the data ops.

/** The chain's data operations, named as plugin and filter callbacks are. */
export const DATA_OPS = ['pread', 'pwrite', 'trim', 'zero', 'extents', 'cache', 'flush'] as const;
export type DataOp = (typeof DATA_OPS)[number];

/** Each data operation's stats name: the NBD command that carries it. */
export const STATS_OP_OF = {
  pread: 'read',
  pwrite: 'write',
  trim: 'trim',
  zero: 'zero',
  extents: 'block-status',
  cache: 'cache',
  flush: 'flush',
} as const satisfies Record<DataOp, string>;
export type StatsOp = (typeof STATS_OP_OF)[DataOp];

/** Every stats operation, one per data operation. */
export const STATS_OPS: readonly StatsOp[] = DATA_OPS.map((op) => STATS_OP_OF[op]);
