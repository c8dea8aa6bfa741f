import { readFileSync, statSync } from 'node:fs';
import { afterAll, expect, test } from 'vitest';
import { openImageChain } from '../backing.ts';
import { fuzzLayered, type FuzzSeed } from '../fuzz-support.ts';
import { makeTempDir, qemuImg, qemuIo } from '../qemu-oracle.ts';

const tmp = makeTempDir('vhd-fuzz');
afterAll(() => tmp.remove());

/** Footer copy, dynamic header, BAT and the first sector bitmap (qemu's layout), and the trailer. */
function dynamicSeed(name: string, writes: string[]): FuzzSeed {
  const file = tmp.file(`${name}.vhd`);
  qemuImg('create', '-q', '-f', 'vpc', file, '4M');
  qemuIo(file, 'vpc', ...writes);
  const bytes = readFileSync(file);
  const firstBitmap = bytes.readUInt32BE(1536) * 512;
  return { name, bytes, hot: [[0, 1536 + 64], [firstBitmap, firstBitmap + 512], [bytes.length - 512, bytes.length]] };
}

function fixedSeed(): FuzzSeed {
  const source = tmp.file('fixed-src.vhd');
  qemuImg('create', '-q', '-f', 'vpc', source, '256K');
  const file = tmp.file('fixed.vhd');
  qemuImg('convert', '-f', 'vpc', '-O', 'vpc', '-o', 'subformat=fixed', source, file);
  const bytes = readFileSync(file);
  return { name: 'fixed', bytes, hot: [[bytes.length - 512, bytes.length]] };
}

/**
 * A differencing child of `base.vhd` (which stays in the folder): disk type 4 and a W2ru
 * locator, so mutations also reach the parent locator and chain code.
 */
function differencingSeed(): FuzzSeed {
  const base = tmp.file('base.vhd');
  qemuImg('create', '-q', '-f', 'vpc', base, '4M');
  qemuIo(base, 'vpc', 'write -P 0x71 0 4M');
  const seed = dynamicSeed('child', ['write -P 0x72 8k 4k']);
  const bytes = Buffer.concat([seed.bytes.subarray(0, seed.bytes.length - 512), Buffer.alloc(512), seed.bytes.subarray(seed.bytes.length - 512)]);
  const locatorAt = seed.bytes.length - 512;
  const ref = Buffer.from('base.vhd', 'utf16le');
  ref.copy(bytes, locatorAt);
  const sum = (b: Buffer, at: number): number => {
    let s = 0;
    for (let i = 0; i < b.length; i++) if (i < at || i >= at + 4) s = (s + b[i]!) >>> 0;
    return ~s >>> 0;
  };
  for (const at of [0, bytes.length - 512]) {
    const footer = bytes.subarray(at, at + 512);
    footer.writeUInt32BE(4, 60);
    footer.writeUInt32BE(sum(footer, 64), 64);
  }
  const header = bytes.subarray(512, 1536);
  header.write('W2ru', 576, 'latin1');
  header.writeUInt32BE(ref.length, 584);
  header.writeBigUInt64BE(BigInt(locatorAt), 592);
  header.writeUInt32BE(sum(header, 36), 36);
  return { name: 'differencing', bytes, hot: [...seed.hot, [locatorAt, locatorAt + 32]] };
}

test('mutated VHD images open, map and read, or fail with an error naming the image', async () => {
  const seeds = [
    dynamicSeed('dynamic', ['write -P 0x61 0 20k', 'write -P 0x62 1M 4k']),
    fixedSeed(),
    differencingSeed(),
  ];
  const result = await fuzzLayered(seeds, 500, tmp.file('case.vhd'), (p) => openImageChain(p, 'vhd'), 4242);
  expect(result.violations).toEqual([]);
  expect(result.cases).toBe(1500);
  expect(result.opened).toBeGreaterThan(500);
  expect(statSync(tmp.file('base.vhd')).size).toBeGreaterThan(0);
}, 180_000);
