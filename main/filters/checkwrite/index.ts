// checkwrite: writes become checks that the disk already holds what is written
// (nbdkit-checkwrite-filter), to test copying tools: `nbdcopy "$uri" "$uri"` must succeed.
// The layer below is opened read-only and never written; a mismatch is EIO.
import { BlockError } from '../../backend/errors.ts';
import { defineFilter, type Next } from '../../backend/types.ts';
import { holds, readsAsZero } from './compare.ts';

export const checkwriteFilter = defineFilter({
  name: 'checkwrite',
  summary: 'turn writes into checks that the disk already holds the data (for testing copy tools)',
  params: [],
  create: () => ({
    readonlyBelow: true,
    open: (next) => ({
      // Every write-like operation is only compared, so all of them can be offered.
      canWrite: () => true,
      canFlush: () => true,
      canTrim: () => true,
      canZero: () => true,
      canFastZero: () => true,
      canFua: () => 'native' as const,
      canMultiConn: () => true,
      flush: () => {},
      async pwrite(buf, offset) {
        if (!(await holds(next, offset, buf))) throw mismatch('pwrite', buf.length, offset);
      },
      trim: (count, offset) => expectZero(next, 'trim', count, offset),
      zero: (count, offset) => expectZero(next, 'zero', count, offset),
    }),
  }),
});

async function expectZero(next: Next, op: string, count: number, offset: number): Promise<void> {
  if (!(await readsAsZero(next, offset, count))) throw mismatch(op, count, offset);
}

function mismatch(op: string, count: number, offset: number): BlockError {
  return new BlockError('EIO', `checkwrite: ${op} of ${count} bytes at ${offset} differs from what the disk holds`);
}
