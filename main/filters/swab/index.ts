// swab: swap the bytes of every 2-, 4- or 8-byte word (nbdkit-swab-filter), e.g. for disks
// from an Atari Falcon, whose IDE bus is wired byte-swapped. The size is rounded down to
// whole words, and requests that split a word fail with EINVAL (put the blocksize filter
// above this one for byte access).
import { BlockError } from '../../backend/errors.ts';
import { defineFilter } from '../../backend/types.ts';

const SWAPS = {
  16: (b: Buffer) => b.swap16(),
  32: (b: Buffer) => b.swap32(),
  64: (b: Buffer) => b.swap64(),
} as const;

export const swabFilter = defineFilter({
  name: 'swab',
  summary: 'swap the bytes of each 16, 32 or 64 bit word',
  params: [
    { key: 'swab-bits', kind: 'enum', values: ['8', '16', '32', '64'] as const, default: '16', description: 'word size in bits (8 turns the filter off)' },
  ],
  create(params) {
    const bits = Number(params['swab-bits']);
    if (bits === 8) return { open: () => ({}) };
    const word = bits / 8;
    const swap = SWAPS[bits as keyof typeof SWAPS];
    const check = (op: string, count: number, offset: number) => {
      if (count % word !== 0 || offset % word !== 0) {
        throw new BlockError('EINVAL', `swab: ${op} of ${count} bytes at ${offset} splits a ${bits}-bit word`);
      }
    };
    return {
      open: (next) => ({
        getSize: () => next.getSize() - (next.getSize() % word),
        async pread(buf, offset, flags) {
          check('pread', buf.length, offset);
          await next.pread(buf, offset, flags);
          swap(buf);
        },
        async pwrite(buf, offset, flags) {
          check('pwrite', buf.length, offset);
          // The caller's buffer is only lent: swap a copy.
          await next.pwrite(swap(Buffer.from(buf)), offset, flags);
        },
        async trim(count, offset, flags) {
          check('trim', count, offset);
          await next.trim(count, offset, flags);
        },
        async zero(count, offset, flags) {
          check('zero', count, offset);
          await next.zero(count, offset, flags);
        },
        async cache(count, offset, flags) {
          check('cache', count, offset);
          await next.cache(count, offset, flags);
        },
      }),
    };
  },
});
