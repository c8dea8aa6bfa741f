import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, expect, test } from 'vitest';
import { openImageChain } from '../backing.ts';
import { fuzzLayered, type FuzzSeed } from '../fuzz-support.ts';
import { crc32c } from '../crc32c.ts';
import { guidToBytes } from '../partitions/guid.ts';
import { makeTempDir, qemuImg, qemuIo } from '../qemu-oracle.ts';

const tmp = makeTempDir('vhdx-fuzz');
afterAll(() => tmp.remove());

const MiB = 1024 * 1024;
const BAT_GUID = guidToBytes('2DC27766-F623-4200-9D64-115E9BFD4A08');

/**
 * qemu leaves megabytes of unused space (log, gaps) in a small VHDX, and every fuzz case
 * rewrites the whole file, so the seed is packed first: BAT at 1 MiB, metadata at 2 MiB,
 * allocated blocks from 3 MiB, the region tables' offsets and CRCs updated to match.
 */
function pack(bytes: Buffer): Buffer {
  const regionsAt = [192 * 1024, 256 * 1024];
  const table = bytes.subarray(regionsAt[0]!, regionsAt[0]! + 64 * 1024);
  const out = Buffer.alloc(8 * MiB);
  bytes.copy(out, 0, 0, MiB);
  let bat = 0;
  for (let i = 0; i < table.readUInt32LE(8); i++) {
    const entry = table.subarray(16 + i * 32, 48 + i * 32);
    const from = Number(entry.readBigUInt64LE(16));
    const isBat = entry.subarray(0, 16).equals(BAT_GUID);
    const to = isBat ? MiB : 2 * MiB;
    if (isBat) bat = to;
    bytes.copy(out, to, from, from + MiB);
    for (const at of regionsAt) out.writeBigUInt64LE(BigInt(to), at + 16 + i * 32 + 16);
  }
  let next = 3 * MiB;
  for (let i = 0; i < 16; i++) {
    const entry = out.readBigUInt64LE(bat + i * 8);
    const host = Number(entry >> 20n) * MiB;
    if (host === 0) continue;
    bytes.copy(out, next, host, host + MiB);
    out.writeBigUInt64LE((entry & 0xfffffn) | (BigInt(next / MiB) << 20n), bat + i * 8);
    next += MiB;
  }
  for (const at of regionsAt) {
    out.writeUInt32LE(0, at + 4);
    out.writeUInt32LE(crc32c(out.subarray(at, at + 64 * 1024)), at + 4);
  }
  return out.subarray(0, next);
}

/** Both headers, the region table, the metadata table and items, and the first BAT entries. */
function seed(name: string, options: string): FuzzSeed {
  const file = tmp.file(`${name}.vhdx`);
  qemuImg('create', '-q', '-f', 'vhdx', '-o', options, file, '3M');
  qemuIo(file, 'vhdx', 'write -P 0x61 0 20k', 'write -P 0x62 2M 64k');
  const bytes = pack(readFileSync(file));
  const hot: [number, number][] = [[64 * 1024, 64 * 1024 + 80], [128 * 1024, 128 * 1024 + 80], [192 * 1024, 192 * 1024 + 80]];
  hot.push([MiB, MiB + 64], [2 * MiB, 2 * MiB + 32 + 5 * 32], [2 * MiB + 64 * 1024, 2 * MiB + 64 * 1024 + 64]);
  return { name, bytes, hot };
}

test('mutated VHDX images open, map and read, or fail with an error naming the image', async () => {
  const seeds = [seed('zero-states', 'block_size=1M,log_size=1M'), seed('absent-states', 'block_size=1M,log_size=1M,block_state_zero=off')];
  for (const s of seeds) {
    writeFileSync(tmp.file('pristine.vhdx'), s.bytes);
    const stack = await openImageChain(tmp.file('pristine.vhdx'), 'vhdx');
    const first = Buffer.alloc(512);
    await stack.read(first, 0);
    await stack.close();
    expect(first[0]).toBe(0x61);
  }
  const result = await fuzzLayered(seeds, 400, tmp.file('case.vhdx'), (p) => openImageChain(p, 'vhdx'), 99);
  expect(result.violations).toEqual([]);
  expect(result.cases).toBe(800);
  expect(result.opened).toBeGreaterThan(200);
}, 180_000);
