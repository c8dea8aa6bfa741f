// Split against a model: the parts concatenated into one buffer. Random part sizes (empty
// parts included), then random writes and reads anywhere, across any number of boundaries;
// at the end every part file must hold exactly its slice of the model.
import fc from 'fast-check';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPEAT_SEPARATOR } from '../../../shared/params.ts';
import { readAll } from '../../backend/testing.ts';
import { openTestChain } from '../../testing/chains.ts';
import { propertyParams, propertyTimeout } from '../../testing/property-params.ts';
import { tempDir } from '../../temp-dir.ts';

const { dir, cleanup } = tempDir('blockscope-split-prop-');
afterAll(cleanup);

const caseArb = fc.record({
  sizes: fc.array(fc.integer({ min: 0, max: 9000 }), { minLength: 1, maxLength: 6 }),
  ops: fc.array(fc.record({ write: fc.boolean(), at: fc.double({ min: 0, max: 1, noNaN: true }), length: fc.integer({ min: 1, max: 12000 }), fill: fc.integer({ min: 1, max: 255 }) }), { maxLength: 12 }),
});

let counter = 0;

describe('split plugin (property)', () => {
  it('reads and writes like one buffer made of its parts', async () => {
    await fc.assert(fc.asyncProperty(caseArb, async ({ sizes, ops }) => {
      const files = sizes.map((size, i) => {
        const f = path.join(dir, `p${counter++}`);
        writeFileSync(f, Buffer.alloc(size, 0x10 + i));
        return f;
      });
      const model = Buffer.concat(sizes.map((size, i) => Buffer.alloc(size, 0x10 + i)));
      const open = await openTestChain('split', { file: files.join(REPEAT_SEPARATOR) });
      try {
        expect(open.top.getSize()).toBe(model.length);
        for (const op of ops) {
          if (model.length === 0) break;
          const offset = Math.min(model.length - 1, Math.floor(op.at * model.length));
          const length = Math.min(op.length, model.length - offset);
          if (op.write) {
            const data = Buffer.alloc(length, op.fill);
            await open.top.pwrite(data, offset);
            data.copy(model, offset);
          } else {
            expect((await readAll(open, offset, length)).equals(model.subarray(offset, offset + length))).toBe(true);
          }
        }
      } finally {
        await open.close();
      }
      let start = 0;
      for (const [i, f] of files.entries()) {
        expect(readFileSync(f).equals(model.subarray(start, start + sizes[i]!))).toBe(true);
        start += sizes[i]!;
      }
    }), propertyParams(60));
  }, propertyTimeout(120_000));
});
