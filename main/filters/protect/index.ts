// protect: write-protect byte ranges while the rest stays writable (nbdkit-protect-filter),
// e.g. so a client cannot plant a qcow2 header on a raw disk. A write into a protected range
// is allowed only if it changes nothing there; otherwise it fails with EPERM.
import { BlockError } from '../../backend/errors.ts';
import { defineFilter, type Next } from '../../backend/types.ts';
import { holds, readsAsZero } from '../checkwrite/compare.ts';
import { parseRanges, protectedParts, type ProtectedRange } from './ranges.ts';

export const protectFilter = defineFilter({
  name: 'protect',
  summary: 'refuse writes that would change protected byte ranges',
  params: [
    {
      key: 'protect', kind: 'string', required: true, repeat: true,
      description: 'START-END (inclusive; decimal, 0NN octal or 0xNN hex; an end may be omitted), ~START-END for everything outside; several separated by commas or given as several protect= keys',
    },
  ],
  create(params) {
    let ranges: ProtectedRange[];
    try {
      ranges = parseRanges(params.protect);
    } catch (err) {
      throw new Error(`protect: protect: ${(err as Error).message}`, { cause: err });
    }
    return {
      open: (next) => ({
        async pwrite(buf, offset, flags) {
          for (const [from, to] of protectedParts(ranges, offset, buf.length)) {
            if (!(await holds(next, from, buf.subarray(from - offset, to - offset)))) throw refused(from, to);
          }
          await next.pwrite(buf, offset, flags);
        },
        async trim(count, offset, flags) {
          await expectZero(next, ranges, count, offset);
          await next.trim(count, offset, flags);
        },
        async zero(count, offset, flags) {
          await expectZero(next, ranges, count, offset);
          await next.zero(count, offset, flags);
        },
      }),
    };
  },
});

async function expectZero(next: Next, ranges: readonly ProtectedRange[], count: number, offset: number): Promise<void> {
  for (const [from, to] of protectedParts(ranges, offset, count)) {
    if (!(await readsAsZero(next, from, to - from))) throw refused(from, to);
  }
}

function refused(from: number, to: number): BlockError {
  return new BlockError('EPERM', `protect: bytes ${from}-${to - 1} are protected`);
}
