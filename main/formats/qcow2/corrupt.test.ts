import { closeSync, openSync, readFileSync, statSync, truncateSync, writeSync } from 'node:fs';
import { afterAll, expect, test } from 'vitest';
import { openImageChain } from '../backing.ts';
import { makeTempDir, qemuImg, qemuIo } from '../qemu-oracle.ts';

const tmp = makeTempDir('qcow2-corrupt');
afterAll(() => tmp.remove());

let serial = 0;
/** A 1 MiB v3 image, 64 KiB clusters, with data in its first cluster. */
function image(): { file: string; l1: number; l2: number } {
  const file = tmp.file(`c${serial++}.qcow2`);
  qemuImg('create', '-f', 'qcow2', file, '1M');
  qemuIo(file, 'qcow2', 'write -P 0x61 0 64k');
  const bytes = readFileSync(file);
  const l1 = Number(bytes.readBigUInt64BE(40));
  const l2 = Number(bytes.readBigUInt64BE(l1) & 0x00fffffffffffe00n);
  return { file, l1, l2 };
}

function writeU64(file: string, offset: number, value: bigint): void {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64BE(value);
  const fd = openSync(file, 'r+');
  writeSync(fd, buf, 0, 8, offset);
  closeSync(fd);
}

async function mapAndRead(file: string): Promise<void> {
  const stack = await openImageChain(file, 'qcow2');
  try {
    await stack.extents(stack.size, 0);
    await stack.read(Buffer.alloc(65536), 0);
  } finally {
    await stack.close();
  }
}

test('a truncated header is refused', async () => {
  const { file } = image();
  truncateSync(file, 50);
  await expect(mapAndRead(file)).rejects.toThrow(/c\d+\.qcow2: qcow2 header is truncated \(file is 50 bytes/);
});

test('an absurd L1 table size is refused before anything is allocated', async () => {
  const { file } = image();
  writeU64(file, 32, 0x00000000ffffffffn); // crypt_method 0, l1_size 2^32-1
  await expect(mapAndRead(file)).rejects.toThrow(/L1 table of 4294967295 entries is absurdly large/);
});

test('an L1 table beyond the end of the file is refused', async () => {
  const { file } = image();
  writeU64(file, 40, 0x100000000n);
  await expect(mapAndRead(file)).rejects.toThrow(/L1 table \(1 entries at 4294967296\) lies beyond the end of the file/);
});

test('an L2 table beyond the end of the file is an I/O error naming the image', async () => {
  const { file, l1 } = image();
  writeU64(file, l1, 0x8000001000000000n);
  await expect(mapAndRead(file)).rejects.toMatchObject({ code: 'EIO', message: expect.stringMatching(/c\d+\.qcow2: L2 table \(L1 index 0\) at offset 68719476736 .* beyond the end of the file/) });
});

test('an unaligned L2 table offset is an I/O error', async () => {
  const { file, l1, l2 } = image();
  writeU64(file, l1, 0x8000000000000000n | BigInt(l2 + 512));
  await expect(mapAndRead(file)).rejects.toThrow(/L2 table offset \d+ \(L1 index 0\) is not aligned to a cluster/);
});

test('an L2 table overlapping the L1 table is an I/O error', async () => {
  const { file, l1 } = image();
  writeU64(file, l1, 0x8000000000000000n | BigInt(l1));
  await expect(mapAndRead(file)).rejects.toThrow(/L2 table at \d+ \(L1 index 0\) overlaps the L1 table/);
});

test('a data cluster beyond the end of the file fails the read, not the process', async () => {
  const { file, l2 } = image();
  writeU64(file, l2, 0x8000000000000000n | BigInt(statSync(file).size + 65536 * 16));
  await expect(mapAndRead(file)).rejects.toMatchObject({ code: 'EIO', message: expect.stringMatching(/c\d+\.qcow2: data cluster at offset \d+ .* beyond the end of the file/) });
});

test('an unaligned data cluster is an I/O error', async () => {
  const { file, l2 } = image();
  writeU64(file, l2, 0x8000000000000000n | 0x50200n);
  await expect(mapAndRead(file)).rejects.toThrow(/cluster for guest offset 0 points to unaligned host offset 328192/);
});
