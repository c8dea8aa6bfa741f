// The cache against a plain buffer: random writes, zeroes, trims, flushes and reads through
// the cache (every mode, a block size and limit small enough to evict) must read back as the
// model does; after a flush in writeback or writethrough mode the disk below must hold the
// same bytes, read through a second connection without the cache.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FLAG_FUA } from '../../backend/flags.ts';
import { readAll } from '../../backend/testing.ts';
import { memoryPlugin } from '../../plugins/memory/index.ts';
import { propertyParams, propertyTimeout } from '../../testing/property-params.ts';
import { filterInstance, sharedPlugin } from '../testing.ts';
import { cacheFilter } from './index.ts';

const SIZE = 2 * 2 ** 20 + 1536; // an uneven last block
const opArb = fc.record({
  kind: fc.constantFrom('write', 'write', 'zero', 'trim', 'read', 'flush'),
  at: fc.integer({ min: 0, max: SIZE - 1 }),
  // Long enough that a few writes pass the 1M limit and evict dirty blocks.
  length: fc.integer({ min: 1, max: 600_000 }),
  fua: fc.boolean(),
  byte: fc.integer({ min: 1, max: 255 }),
});

describe('cache filter, against a buffer', () => {
  it('reads what was written, and flushes it below', { timeout: propertyTimeout(120_000) }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('writeback', 'writethrough', 'unsafe'), fc.boolean(), fc.array(opArb, { minLength: 1, maxLength: 25 }), async (mode, onRead, ops) => {
        const disk = await sharedPlugin(memoryPlugin, { size: String(SIZE) });
        const cache = await filterInstance(cacheFilter, { cache: mode, 'cache-on-read': String(onRead), 'cache-min-block-size': '4K', 'cache-max-size': '1M' });
        const open = await disk.open([cache]);
        const model = Buffer.alloc(SIZE);
        for (const op of ops) {
          const length = Math.min(op.length, SIZE - op.at);
          const flags = op.fua ? FLAG_FUA : 0;
          if (op.kind === 'write') {
            const data = Buffer.alloc(length, op.byte);
            await open.top.pwrite(data, op.at, flags);
            data.copy(model, op.at);
          } else if (op.kind === 'zero' || op.kind === 'trim') {
            await (op.kind === 'zero' ? open.top.zero(length, op.at, flags) : open.top.trim(length, op.at, flags));
            model.fill(0, op.at, op.at + length);
          } else if (op.kind === 'read') {
            expect((await readAll(open, op.at, length)).equals(model.subarray(op.at, op.at + length))).toBe(true);
          } else {
            await open.top.flush();
          }
        }
        expect((await readAll(open)).equals(model)).toBe(true);
        if (mode !== 'unsafe') {
          await open.top.flush();
          const below = await disk.open();
          expect((await readAll(below)).equals(model)).toBe(true);
          await below.close();
        }
        await open.close();
      }),
      propertyParams(40),
    );
  });
});
