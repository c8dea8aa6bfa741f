// The xz filter against the bytes it was made from: random images (runs of zeroes, patterns
// and noise), compressed by the xz tool with random block sizes, sometimes as several
// concatenated streams; random reads through the filter, in a random order so that the
// block cache is hit, missed and evicted, must equal the original bytes.
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readAll } from '../../backend/testing.ts';
import { openTestChain } from '../../testing/chains.ts';
import { propertyParams, propertyTimeout } from '../../testing/property-params.ts';
import { tempDir } from '../../temp-dir.ts';

const { dir, cleanup } = tempDir('blockscope-xz-prop-');
afterAll(cleanup);

const runArb = fc.record({ kind: fc.constantFrom('zero', 'pattern', 'noise'), length: fc.integer({ min: 1, max: 40_000 }), seed: fc.integer({ min: 0, max: 255 }) });

function render(runs: { kind: string; length: number; seed: number }[]): Buffer {
  return Buffer.concat(runs.map(({ kind, length, seed }) => {
    const b = Buffer.alloc(length);
    if (kind === 'pattern') for (let i = 0; i < length; i++) b[i] = (i + seed) & 0xff;
    if (kind === 'noise') for (let i = 0, x = seed + 1; i < length; i++) b[i] = (x = (Math.imul(x, 1103515245) + 12345) | 0) >>> 24;
    return b;
  }));
}

const caseArb = fc.record({
  streams: fc.array(fc.array(runArb, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 3 }),
  blockSize: fc.constantFrom(4096, 10_000, 32_768, 1 << 20),
  depth: fc.integer({ min: 1, max: 3 }),
  reads: fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 50_000 })), { minLength: 1, maxLength: 10 }),
});

let counter = 0;

describe('xz filter (property)', () => {
  it('reads anywhere equal the bytes that were compressed', async () => {
    await fc.assert(fc.asyncProperty(caseArb, async ({ streams, blockSize, depth, reads }) => {
      const parts = streams.map(render);
      const raw = Buffer.concat(parts);
      const file = path.join(dir, `p${counter++}.xz`);
      writeFileSync(file, Buffer.concat(parts.map((p) => execFileSync('xz', ['-c', '-0', `--block-size=${blockSize}`], { input: p }))));
      const open = await openTestChain('file', { file }, [['xz', { 'xz-max-depth': String(depth) }]]);
      try {
        expect(open.top.getSize()).toBe(raw.length);
        for (const [at, n] of reads) {
          const offset = Math.min(raw.length - 1, Math.floor(at * raw.length));
          const length = Math.min(n, raw.length - offset);
          expect((await readAll(open, offset, length)).equals(raw.subarray(offset, offset + length))).toBe(true);
        }
      } finally {
        await open.close();
      }
    }), propertyParams(25));
  }, propertyTimeout(180_000));
});
