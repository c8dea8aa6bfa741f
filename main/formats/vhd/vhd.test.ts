import { readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir, qemuImg, qemuIo, qemuMap, qemuRawBytes, qemuVirtualSize, readAt, sha256, writeAt } from '../qemu-oracle.ts';
import { openImageChain } from '../backing.ts';
import { detectImage } from '../detect.ts';
import { readAll } from '../../backend/testing.ts';
import { bytesAndMap, chainContents, openImagePlugin } from '../layered-testing.ts';
import { vhdPlugin } from './index.ts';
import { editFooter, makeDifferencing } from './vhd-testing.ts';

const tmp = makeTempDir('vhd');
afterAll(() => tmp.remove());

const MiB = 1024 * 1024;
const openVhd = (image: string) => openImageChain(image, 'vhd');

function dynamicVhd(name: string, size: string, ...writes: string[]): string {
  const image = tmp.file(name);
  qemuImg('create', '-q', '-f', 'vpc', image, size);
  if (writes.length > 0) qemuIo(image, 'vpc', ...writes);
  return image;
}

describe('vhd dynamic', () => {
  const image = dynamicVhd('dyn.vhd', '64M', 'write -P 0xab 0 64k', 'write -P 0x11 5M 3M', 'write -P 0x22 20M 512');

  it('reads the guest bytes qemu reads', async () => {
    const { bytes } = await bytesAndMap(vhdPlugin, image);
    expect(sha256(bytes)).toBe(sha256(qemuRawBytes(image, 'vpc', tmp.file('dyn.raw'))));
  });

  it('has the size qemu computes from the CHS geometry', async () => {
    const { bytes } = await bytesAndMap(vhdPlugin, image);
    expect(bytes.length).toBe(qemuVirtualSize(image, 'vpc'));
    expect(bytes.length).toBe(67125248);
  });

  it('maps allocated blocks as data and the rest as holes, as qemu-img map does', async () => {
    const { map } = await bytesAndMap(vhdPlugin, image);
    expect(map).toEqual(qemuMap(image, 'vpc'));
    expect(map).toEqual([
      [0, 2 * MiB, 0],
      [2 * MiB, 2 * MiB, 3],
      [4 * MiB, 4 * MiB, 0],
      [8 * MiB, 12 * MiB, 3],
      [20 * MiB, 2 * MiB, 0],
      [22 * MiB, 67125248 - 22 * MiB, 3],
    ]);
  });
});

describe('vhd sector bitmaps', () => {
  it('reads sectors whose bitmap bit is clear as zero holes', async () => {
    const image = dynamicVhd('bitmap.vhd', '8M', 'write -P 0x5a 0 2M');
    const batAt = 512 + 1024; // qemu puts the BAT right after the footer copy and dynamic header
    const bitmapAt = readAt(image, batAt, 4).readUInt32BE(0) * 512;
    // Clear sectors 8..15 (byte 1 of the bitmap) and sector 16 (top bit of byte 2).
    writeAt(image, bitmapAt + 1, Buffer.from([0x00, 0x7f]));
    const { bytes, map } = await bytesAndMap(vhdPlugin, image);
    expect(map).toEqual([
      [0, 4096, 0],
      [4096, 4608, 3],
      [8704, 2 * MiB - 8704, 0],
      [2 * MiB, 8390656 - 2 * MiB, 3],
    ]);
    expect(bytes.subarray(4096, 8704).every((b) => b === 0)).toBe(true);
    expect(bytes[4095]).toBe(0x5a);
    expect(bytes[8704]).toBe(0x5a);
  });
});

describe('vhd fixed', () => {
  const source = dynamicVhd('src.vhd', '16M', 'write -P 0x77 1M 1M');
  const image = tmp.file('fixed.vhd');
  qemuImg('convert', '-f', 'vpc', '-O', 'vpc', '-o', 'subformat=fixed', source, image);

  it('reads the guest bytes qemu reads (with -f vpc: qemu probes it as raw)', async () => {
    const { bytes } = await bytesAndMap(vhdPlugin, image);
    expect(bytes.length).toBe(qemuVirtualSize(image, 'vpc'));
    expect(sha256(bytes)).toBe(sha256(qemuRawBytes(image, 'vpc', tmp.file('fixed.raw'))));
  });

  it('maps holes of the host file as holes, as qemu-img map does', async () => {
    const { map } = await bytesAndMap(vhdPlugin, image);
    expect(map).toEqual(qemuMap(image, 'vpc'));
    expect(map).toContainEqual([MiB, MiB, 0]);
  });

  it('is detected as vhd by its trailer alone', async () => {
    expect(await detectImage(image)).toEqual({ format: 'vhd', plugin: 'vhd' });
    expect(await detectImage(source)).toEqual({ format: 'vhd', plugin: 'vhd' });
  });

  it('refuses a fixed disk whose data is truncated, naming the file', async () => {
    const cut = tmp.file('fixed-cut.vhd');
    const whole = readFileSync(image);
    writeFileSync(cut, Buffer.concat([whole.subarray(0, 4096), whole.subarray(whole.length - 512)]));
    await expect(openVhd(cut)).rejects.toThrow(`${cut}: the fixed disk claims`);
  });
});

describe('vhd fixed made from a sparse raw file', () => {
  // Data at 0, 1M and near the end with host holes between: a read or a status query that
  // starts anywhere but 0 must ask the host file about its own range, not about [0, count).
  const raw = tmp.file('holey.raw');
  writeFileSync(raw, Buffer.alloc(0));
  truncateSync(raw, 4 * MiB);
  qemuIo(raw, 'raw', 'write -P 0x11 0 64k', 'write -P 0x22 1M 100k', 'write -P 0x33 4032k 64k');
  const image = tmp.file('holey-fixed.vhd');
  qemuImg('convert', '-f', 'raw', '-O', 'vpc', '-o', 'subformat=fixed', raw, image);
  const expected = qemuRawBytes(image, 'vpc', tmp.file('holey-fixed.raw'));

  it.each([
    [MiB, 256 * 1024],
    [MiB - 4096, 256 * 1024],
    [4032 * 1024 - 511, 70 * 1024],
    [12345, 2 * MiB],
  ])('reads [%i, +%i) as qemu does', async (offset, length) => {
    const opened = await openImagePlugin(vhdPlugin, image);
    try {
      const bytes = await readAll(opened.chain, offset, length);
      expect(sha256(bytes)).toBe(sha256(expected.subarray(offset, offset + length)));
    } finally {
      await opened.close();
    }
  });

  it('reports the data at 1M as data when asked from 1M', async () => {
    const opened = await openImagePlugin(vhdPlugin, image);
    try {
      const extents = await opened.chain.top.extents(MiB, MiB, 0);
      expect(extents[0]).toEqual({ offset: MiB, length: 100 * 1024, flags: 0 });
      expect(extents[1]).toMatchObject({ offset: MiB + 100 * 1024, flags: 2 });
    } finally {
      await opened.close();
    }
  });
});

describe('vhd virtual size', () => {
  it('uses the current-size field for images qemu made with force_size (creator qem2)', async () => {
    const source = dynamicVhd('fs-src.vhd', '10M');
    const image = tmp.file('qem2.vhd');
    qemuImg('convert', '-f', 'vpc', '-O', 'vpc', '-o', 'force_size=on', source, image);
    const ours = await openVhd(image);
    await ours.close();
    expect(readAt(image, 0, 512).toString('latin1', 28, 32)).toBe('qem2');
    expect(ours.size).toBe(qemuVirtualSize(image, 'vpc'));
  });

  it.each([
    ['qemu', 'CHS geometry'],
    ['win ', 'current size'],
  ])('sizes an image made by "%s" by its %s, as qemu does', async (creator) => {
    const image = dynamicVhd(`creator-${creator.trim()}.vhd`, '10M');
    editFooter(image, (f) => {
      f.write(creator, 28, 'latin1');
      f.writeBigUInt64BE(BigInt(11 * MiB), 48);
    });
    const ours = await openVhd(image);
    await ours.close();
    expect(ours.size).toBe(qemuVirtualSize(image, 'vpc'));
    expect(ours.size).toBe(creator === 'win ' ? 11 * MiB : 10514432);
  });
});

describe('vhd damaged footer', () => {
  it('uses the copy at offset 0 when the trailer checksum is wrong, and warns', async () => {
    const image = dynamicVhd('damaged.vhd', '8M', 'write -P 0x31 0 4k');
    const size = statSync(image).size;
    writeAt(image, size - 512 + 48, Buffer.from([0x7f])); // corrupt the trailer's current size
    const ours = await openVhd(image);
    const first = Buffer.alloc(4096);
    await ours.read(first, 0);
    await ours.close();
    expect(first.every((b) => b === 0x31)).toBe(true);
    expect(ours.layers[0]!.warnings.join('\n')).toContain('footer at the end of the file is damaged');
  });

  it('names the image when neither footer is there', async () => {
    const image = tmp.file('garbage.vhd');
    writeFileSync(image, Buffer.alloc(4096, 0x42));
    await expect(openVhd(image)).rejects.toThrow(`${image}: no VHD footer`);
  });
});

describe('vhd differencing', () => {
  const parent = dynamicVhd('base.vhd', '8M', 'write -P 0xa1 0 4M');
  const child = dynamicVhd('child.vhd', '8M', 'write -P 0xc2 2M 2M', 'write -P 0xc3 6M 1M');
  makeDifferencing(child, parent, '.\\base.vhd');
  // Sectors 0..7 of the child's second block come from the parent again.
  const batAt = 512 + 1024;
  const secondBlockBitmap = readAt(child, batAt + 4, 4).readUInt32BE(0) * 512;
  writeAt(child, secondBlockBitmap, Buffer.from([0x00]));
  const size = 8390656;

  it('reads child data over parent data, parent data where the child has none', async () => {
    const { bytes } = await chainContents(child, 'vhd');
    const expected = Buffer.alloc(bytes.length);
    expected.fill(0xa1, 0, 4 * MiB);
    expected.fill(0xc2, 2 * MiB + 4096, 4 * MiB);
    expected.fill(0xc3, 6 * MiB, 7 * MiB);
    expect(bytes.length).toBe(size);
    expect(sha256(bytes)).toBe(sha256(expected));
  });

  it('reports data from either layer as data, and the layer depth separately', async () => {
    const { extents, depth } = await chainContents(child, 'vhd');
    expect(extents.map((e) => [e.offset, e.length, e.flags])).toEqual([
      [0, 4 * MiB, 0],
      [4 * MiB, 2 * MiB, 3],
      [6 * MiB, 2 * MiB, 0],
      [8 * MiB, 2048, 3],
    ]);
    expect(depth.map((d) => [d.offset, d.length, d.depth])).toEqual([
      [0, 2 * MiB + 4096, 2],
      [2 * MiB + 4096, 2 * MiB - 4096, 1],
      [4 * MiB, 2 * MiB, 0],
      [6 * MiB, 2 * MiB, 1],
      [8 * MiB, 2048, 0],
    ]);
  });

  it('warns when the parent is not the disk the child was made from', async () => {
    const other = dynamicVhd('other-base.vhd', '8M');
    const stranger = dynamicVhd('stranger.vhd', '8M');
    makeDifferencing(stranger, parent, 'other-base.vhd');
    const stack = await openVhd(stranger);
    await stack.close();
    expect(stack.layers[0]!.warnings.join('\n')).toContain(`${stranger}: its parent ${other} is not the disk it was made from`);
  });

  it('does not warn when the unique ids agree', async () => {
    const stack = await openVhd(child);
    await stack.close();
    expect(stack.layers[0]!.warnings).toEqual([]);
  });

  it('names both images when the parent is missing', async () => {
    const orphan = dynamicVhd('orphan.vhd', '8M');
    const gone = dynamicVhd('gone.vhd', '8M');
    makeDifferencing(orphan, gone, 'gone.vhd');
    rmSync(gone);
    const message = await openVhd(orphan).then(() => '', (err: Error) => err.message);
    expect(message).toContain(`${orphan}: backing file`);
    expect(message).toContain(gone);
  });

  it('refuses a chain that loops', async () => {
    const a = dynamicVhd('loop-a.vhd', '8M');
    const b = dynamicVhd('loop-b.vhd', '8M');
    makeDifferencing(a, b, 'loop-b.vhd');
    makeDifferencing(b, a, 'loop-a.vhd');
    await expect(openVhd(a)).rejects.toThrow(`${b}: backing chain loops back to ${a}`);
  });
});
