import { readFileSync } from 'node:fs';
import { afterAll, expect, test } from 'vitest';
import { openImageChain } from '../backing.ts';
import { fuzzLayered, type FuzzSeed } from '../fuzz-support.ts';
import { makeTempDir, qemuImg, qemuIo } from '../qemu-oracle.ts';

const tmp = makeTempDir('vdi-fuzz');
afterAll(() => tmp.remove());

/** The header and the block map (at the offset the header names). */
function seed(name: string, options: string[], writes: string[]): FuzzSeed {
  const source = tmp.file(`${name}-src.vdi`);
  qemuImg('create', '-q', '-f', 'vdi', source, '2M');
  qemuIo(source, 'vdi', ...writes);
  const file = tmp.file(`${name}.vdi`);
  qemuImg('convert', '-f', 'vdi', '-O', 'vdi', ...options, source, file);
  const bytes = readFileSync(file);
  const map = bytes.readUInt32LE(0x154);
  return { name, bytes, hot: [[0x40, 0x1c8], [map, map + 12]] };
}

test('mutated VDI images open, map and read, or fail with an error naming the image', async () => {
  const writes = ['write -P 0x61 0 20k', 'write -P 0x62 1536k 4k'];
  const seeds = [seed('dynamic', [], writes), seed('static', ['-o', 'static=on'], writes)];
  const result = await fuzzLayered(seeds, 700, tmp.file('case.vdi'), (p) => openImageChain(p, 'vdi'), 777);
  expect(result.violations).toEqual([]);
  expect(result.cases).toBe(1400);
  expect(result.opened).toBeGreaterThan(350);
}, 180_000);
