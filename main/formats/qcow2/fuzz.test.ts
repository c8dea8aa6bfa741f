import { readFileSync } from 'node:fs';
import { afterAll, expect, test } from 'vitest';
import { openImageChain } from '../backing.ts';
import { fuzzLayered, type FuzzSeed } from '../fuzz-support.ts';
import { makeTempDir, qemuImg, qemuIo } from '../qemu-oracle.ts';

const tmp = makeTempDir('qcow2-fuzz');
afterAll(() => tmp.remove());

/** Header cluster, L1 table and every L2 table of a pristine image. */
function hotRanges(bytes: Buffer): [number, number][] {
  const clusterSize = 2 ** bytes.readUInt32BE(20);
  const l1Size = bytes.readUInt32BE(36);
  const l1Offset = Number(bytes.readBigUInt64BE(40));
  const hot: [number, number][] = [[0, 512], [l1Offset, l1Offset + l1Size * 8]];
  for (let i = 0; i < l1Size; i++) {
    const l2 = Number(bytes.readBigUInt64BE(l1Offset + i * 8) & 0x00fffffffffffe00n);
    if (l2) hot.push([l2, l2 + clusterSize]);
  }
  return hot;
}

function seed(name: string, options: string, writes: string[], compress = false): FuzzSeed {
  let file = tmp.file(`${name}.qcow2`);
  qemuImg('create', '-f', 'qcow2', '-o', options, file, '1M');
  qemuIo(file, 'qcow2', ...writes);
  if (compress) {
    const packed = tmp.file(`${name}-c.qcow2`);
    qemuImg('convert', '-c', '-O', 'qcow2', '-o', options, file, packed);
    file = packed;
  }
  const bytes = readFileSync(file);
  return { name, bytes, hot: hotRanges(bytes) };
}

test('mutated qcow2 images open, map and read, or fail with an error naming the image', async () => {
  const writes = ['write -P 0x61 0 20k', 'write -z 64k 8k', 'write -z -u 128k 8k', 'write -P 0x62 900k 30k'];
  const seeds = [
    seed('v3-4k', 'cluster_size=4k', writes),
    seed('v2-512', 'compat=0.10,cluster_size=512', writes),
    seed('extl2-16k', 'extended_l2=on,cluster_size=16k', writes),
    seed('compressed-4k', 'cluster_size=4k', writes, true),
  ];
  const result = await fuzzLayered(seeds, 600, tmp.file('case.qcow2'), (p) => openImageChain(p, 'qcow2'));
  expect(result.violations).toEqual([]);
  expect(result.cases).toBe(2400);
  // The mutations must leave a good share of images readable, or the test proves little.
  expect(result.opened).toBeGreaterThan(600);
}, 180_000);
