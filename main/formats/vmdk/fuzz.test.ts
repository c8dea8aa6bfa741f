import { readFileSync } from 'node:fs';
import { afterAll, expect, test } from 'vitest';
import { openImageChain } from '../backing.ts';
import { fuzzLayered, type FuzzSeed } from '../fuzz-support.ts';
import { makeTempDir, qemuImg, qemuIo } from '../qemu-oracle.ts';

const tmp = makeTempDir('vmdk-fuzz');
afterAll(() => tmp.remove());

/** The header, the metadata before the first grain, and the footer area of streamOptimized. */
function hotRanges(bytes: Buffer): [number, number][] {
  const overhead = Number(bytes.readBigUInt64LE(64)) * 512;
  return [[0, 512], [512, Math.min(bytes.length, Math.max(1024, overhead))], [Math.max(0, bytes.length - 4096), bytes.length]];
}

function seed(name: string, options: string): FuzzSeed {
  const src = tmp.file(`${name}.qcow2`);
  qemuImg('create', '-f', 'qcow2', src, '2M');
  qemuIo(src, 'qcow2', 'write -P 0x61 0 20k', 'write -P 0x62 1m 70k');
  const file = tmp.file(`${name}.vmdk`);
  qemuImg('convert', '-O', 'vmdk', '-o', options, src, file);
  const bytes = readFileSync(file);
  return { name, bytes, hot: hotRanges(bytes) };
}

test('mutated VMDK images open, map and read, or fail with an error naming the image', async () => {
  const seeds = [
    seed('sparse', 'subformat=monolithicSparse'),
    seed('stream', 'subformat=streamOptimized'),
    seed('zeroed', 'subformat=monolithicSparse,zeroed_grain=on'),
  ];
  const result = await fuzzLayered(seeds, 600, tmp.file('case.vmdk'), (p) => openImageChain(p, 'vmdk'));
  expect(result.violations).toEqual([]);
  expect(result.cases).toBe(1800);
  expect(result.opened).toBeGreaterThan(450);
}, 180_000);

test('mutated VMDK descriptors fail cleanly too', async () => {
  const text = Buffer.from('# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType="monolithicFlat"\n\nRW 4096 FLAT "data.raw" 0\n');
  qemuImg('create', '-f', 'raw', tmp.file('data.raw'), '2M');
  const result = await fuzzLayered([{ name: 'descriptor', bytes: text, hot: [[0, text.length]] }], 400, tmp.file('case-desc.vmdk'), (p) => openImageChain(p, 'vmdk'));
  expect(result.violations).toEqual([]);
}, 180_000);
