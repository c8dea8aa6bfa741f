import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { openImageChain } from '../backing.ts';
import { detectImage } from '../detect.ts';
import { bytesAndMap, chainContents } from '../layered-testing.ts';
import { makeTempDir, qemuImg, qemuIo, qemuMap, qemuRawBytes, qemuVirtualSize, readAt, sha256, writeAt } from '../qemu-oracle.ts';
import { vdiPlugin } from './index.ts';

const tmp = makeTempDir('vdi');
afterAll(() => tmp.remove());

const MiB = 1024 * 1024;
const BLOCK_MAP_AT = 0x200; // where qemu puts the block map (header field 0x154)

function dynamicVdi(name: string, size: string, ...writes: string[]): string {
  const image = tmp.file(name);
  qemuImg('create', '-q', '-f', 'vdi', image, size);
  if (writes.length > 0) qemuIo(image, 'vdi', ...writes);
  return image;
}



function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value);
  return b;
}


describe('vdi dynamic', () => {
  const image = dynamicVdi('dyn.vdi', '8M', 'write -P 0xab 1M 64k', 'write -P 0x11 5M 2M');

  it('reads the guest bytes qemu reads', async () => {
    const { bytes } = await bytesAndMap(vdiPlugin, image);
    expect(bytes.length).toBe(qemuVirtualSize(image, 'vdi'));
    expect(sha256(bytes)).toBe(sha256(qemuRawBytes(image, 'vdi', tmp.file('dyn.raw'))));
  });

  it('maps allocated blocks as data and free blocks as holes, as qemu-img map does', async () => {
    const { map } = await bytesAndMap(vdiPlugin, image);
    expect(map).toEqual(qemuMap(image, 'vdi'));
    expect(map).toEqual([
      [0, MiB, 3],
      [MiB, MiB, 0],
      [2 * MiB, 3 * MiB, 3],
      [5 * MiB, 2 * MiB, 0],
      [7 * MiB, MiB, 3],
    ]);
  });

  it('is detected as vdi by the signature at 0x40', async () => {
    expect(await detectImage(image)).toEqual({ format: 'vdi', plugin: 'vdi' });
  });

  it('reads a discarded block (0xFFFFFFFE) as a zero hole', async () => {
    const copy = tmp.file('discarded.vdi');
    qemuImg('convert', '-f', 'vdi', '-O', 'vdi', image, copy);
    writeAt(copy, BLOCK_MAP_AT + 4 * 5, u32(0xfffffffe));
    const { bytes, map } = await bytesAndMap(vdiPlugin, copy);
    expect(map).toEqual([
      [0, MiB, 3],
      [MiB, MiB, 0],
      [2 * MiB, 4 * MiB, 3],
      [6 * MiB, MiB, 0],
      [7 * MiB, MiB, 3],
    ]);
    expect(bytes.subarray(5 * MiB, 6 * MiB).every((b) => b === 0)).toBe(true);
    expect(bytes[6 * MiB]).toBe(0x11);
  });
});

describe('vdi static', () => {
  const source = dynamicVdi('static-src.vdi', '4M', 'write -P 0x42 1M 3k');
  const image = tmp.file('static.vdi');
  qemuImg('convert', '-f', 'vdi', '-O', 'vdi', '-o', 'static=on', source, image);

  it('reads the guest bytes qemu reads', async () => {
    const { bytes } = await bytesAndMap(vdiPlugin, image);
    expect(sha256(bytes)).toBe(sha256(qemuRawBytes(image, 'vdi', tmp.file('static.raw'))));
  });

  it('maps like qemu-img map: every block allocated, host holes reading as zero', async () => {
    const { map } = await bytesAndMap(vdiPlugin, image);
    expect(map).toEqual(qemuMap(image, 'vdi'));
    expect(map.every(([, , flags]) => flags === 0 || flags === 2)).toBe(true);
  });
});

describe('vdi corrupt headers', () => {
  it('rejects an absurd block count, naming the image', async () => {
    const image = dynamicVdi('absurd.vdi', '4M');
    writeAt(image, 0x180, u32(0x7fffffff));
    await expect(openImageChain(image, 'vdi')).rejects.toThrow(`${image}: the block map claims 2147483647 blocks`);
  });

  it('rejects a block map entry beyond the image, naming the image', async () => {
    const image = dynamicVdi('slot.vdi', '4M');
    writeAt(image, BLOCK_MAP_AT, u32(1000));
    const chain = await openImageChain(image, 'vdi');
    await expect(chain.read(Buffer.alloc(512), 0)).rejects.toThrow(`${image}: block map entry 0 names slot 1000`);
    await chain.close();
  });

  it('rejects an unknown version', async () => {
    const image = dynamicVdi('version.vdi', '4M');
    writeAt(image, 0x44, u32(0x00020000));
    await expect(openImageChain(image, 'vdi')).rejects.toThrow(`${image}: unsupported VDI version 2.0`);
  });
});

/**
 * qemu cannot create differencing VDIs; the test turns a dynamic one into a child: image
 * type 4 at 0x4C and the parent's image UUID (0x188 of the parent) at 0x1B8.
 */
function makeDifferencing(child: string, parent: string): void {
  writeAt(child, 0x4c, u32(4));
  writeAt(child, 0x1b8, readAt(parent, 0x188, 16));
}

describe('vdi differencing', () => {
  it('reads child blocks over the parent, found by UUID in the same folder', async () => {
    const parent = dynamicVdi('base.vdi', '4M', 'write -P 0xa1 0 3M');
    const child = dynamicVdi('child.vdi', '4M', 'write -P 0xc2 1M 1M');
    makeDifferencing(child, parent);
    const { bytes, extents, depth } = await chainContents(child, 'vdi');
    const expected = Buffer.alloc(4 * MiB);
    expected.fill(0xa1, 0, 3 * MiB);
    expected.fill(0xc2, MiB, 2 * MiB);
    expect(sha256(bytes)).toBe(sha256(expected));
    expect(extents.map((e) => [e.offset, e.length, e.flags])).toEqual([
      [0, 3 * MiB, 0],
      [3 * MiB, MiB, 3],
    ]);
    expect(depth.map((d) => [d.offset, d.length, d.depth])).toEqual([
      [0, MiB, 2],
      [MiB, MiB, 1],
      [2 * MiB, MiB, 2],
      [3 * MiB, MiB, 0],
    ]);
  });

  it('names the child and the parent UUID when no parent is there', async () => {
    const { dir, file, remove } = makeTempDir('vdi-orphan');
    try {
      const child = file('orphan.vdi');
      qemuImg('create', '-q', '-f', 'vdi', child, '4M');
      writeAt(child, 0x4c, u32(4));
      writeAt(child, 0x1b8, Buffer.alloc(16, 0x5a));
      writeFileSync(file('not-a-vdi.vdi'), 'hello');
      await expect(openImageChain(child, 'vdi')).rejects.toThrow(
        `${child}: differencing image whose parent (UUID 5a5a5a5a-5a5a-5a5a-5a5a-5a5a5a5a5a5a) is not among the .vdi files in ${dir}`,
      );
    } finally {
      remove();
    }
  });
});
