// Damaged compressed clusters (qcow2) and grains (VMDK streamOptimized) fail the read with
// the image, the guest and host offsets and the limit involved, in the format's words: never
// Node's "Cannot create a Buffer larger than ..." or a bare zlib message.
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openImageChain } from './backing.ts';
import { makeTempDir, qemuImg, qemuIo, readAt, writeAt } from './qemu-oracle.ts';

const tmp = makeTempDir('compressed-corrupt');
afterAll(() => tmp.remove());

const KiB = 1024;
let source = '';
beforeAll(() => {
  source = tmp.file('source.raw');
  qemuImg('create', '-q', '-f', 'raw', source, '1M');
  qemuIo(source, 'raw', 'write -P 0x41 0 64k', 'write -P 0x42 64k 64k');
});

let serial = 0;

async function readFirstCluster(file: string, format: string): Promise<void> {
  const stack = await openImageChain(file, format);
  try {
    await stack.read(Buffer.alloc(4096), 0);
  } finally {
    await stack.close();
  }
}

/** A compressed qcow2 (64 KiB clusters) and the host offset of guest cluster 0's stream. */
function compressedQcow2(): { file: string; host: number } {
  const file = tmp.file(`c${serial++}.qcow2`);
  qemuImg('convert', '-c', '-f', 'raw', '-O', 'qcow2', source, file);
  const l1 = Number(readAt(file, 40, 8).readBigUInt64BE(0));
  const l2 = Number(readAt(file, l1, 8).readBigUInt64BE(0) & 0x00fffffffffffe00n);
  const entry = readAt(file, l2, 8).readBigUInt64BE(0);
  expect(entry >> 62n).toBe(1n); // compressed, not copied
  // With 16 cluster bits the host offset takes bits 0..53.
  return { file, host: Number(entry & ((1n << 54n) - 1n)) };
}

describe('qcow2 compressed clusters', () => {
  test('garbage in place of the deflate stream', async () => {
    const { file, host } = compressedQcow2();
    writeAt(file, host, Buffer.alloc(64, 0xff));
    await expect(readFirstCluster(file, 'qcow2')).rejects.toMatchObject({
      code: 'EIO',
      message: `${file}: compressed cluster at guest offset 0 (host offset ${host}) is not valid deflate data: the image is corrupt`,
    });
  });

  test('a stream that inflates past the cluster size (a zip bomb)', async () => {
    const { file, host } = compressedQcow2();
    writeAt(file, host, zlib.deflateRawSync(Buffer.alloc(1024 * KiB, 0x41)));
    await expect(readFirstCluster(file, 'qcow2')).rejects.toMatchObject({
      code: 'EIO',
      message: `${file}: compressed cluster at guest offset 0 (host offset ${host}) inflates to more than 65536 bytes, the cluster size: the image is corrupt`,
    });
  });

  test('a stream that ends before the cluster is full', async () => {
    const { file, host } = compressedQcow2();
    writeAt(file, host, zlib.deflateRawSync(Buffer.alloc(1000, 0x41)));
    await expect(readFirstCluster(file, 'qcow2')).rejects.toMatchObject({
      code: 'EIO',
      message: `${file}: compressed cluster at guest offset 0 (host offset ${host}) inflates to only 1000 bytes of the 65536 it must hold: the image is corrupt`,
    });
  });
});

/** A streamOptimized VMDK (64 KiB grains) and the host offset of guest grain 0's marker. */
function streamVmdk(): { file: string; marker: number } {
  const file = tmp.file(`s${serial++}.vmdk`);
  qemuImg('convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized', source, file);
  // qemu writes the real grain directory offset into the leading header too.
  const gd = Number(readAt(file, 56, 8).readBigUInt64LE(0));
  const gt = readAt(file, gd * 512, 4).readUInt32LE(0);
  return { file, marker: readAt(file, gt * 512, 4).readUInt32LE(0) * 512 };
}

/** A grain marker (guest sector 0, `size` bytes) followed by `data`. */
function grain(data: Buffer, size = data.length): Buffer {
  const marker = Buffer.alloc(12);
  marker.writeUInt32LE(size, 8);
  return Buffer.concat([marker, data]);
}

describe('VMDK streamOptimized compressed grains', () => {
  test('garbage in place of the zlib stream', async () => {
    const { file, marker } = streamVmdk();
    writeAt(file, marker, grain(Buffer.alloc(64, 0xff)));
    await expect(readFirstCluster(file, 'vmdk')).rejects.toMatchObject({
      code: 'EIO',
      message: `${file}: compressed grain at guest offset 0 (host offset ${marker}) is not valid zlib data: the image is corrupt`,
    });
  });

  test('a stream that inflates past the grain size (a zip bomb)', async () => {
    const { file, marker } = streamVmdk();
    writeAt(file, marker, grain(zlib.deflateSync(Buffer.alloc(1024 * KiB, 0x41))));
    await expect(readFirstCluster(file, 'vmdk')).rejects.toMatchObject({
      code: 'EIO',
      message: `${file}: compressed grain at guest offset 0 (host offset ${marker}) inflates to more than 65536 bytes, the grain size: the image is corrupt`,
    });
  });

  test('a marker that claims more compressed bytes than a grain can take', async () => {
    const { file, marker } = streamVmdk();
    writeAt(file, marker + 8, Buffer.from([0xff, 0xff, 0xff, 0x7f]));
    await expect(readFirstCluster(file, 'vmdk')).rejects.toMatchObject({
      code: 'EIO',
      message: `${file}: compressed grain at guest offset 0 (host offset ${marker}): its marker claims 2147483647 compressed bytes (1 to 131072 for a 65536-byte grain): the image is corrupt`,
    });
  });
});
