import { mkdirSync, truncateSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileReadAt, runTool, tempDir } from '../partitions/testing.ts';
import { BLKID_TYPE, detectFilesystem, type FilesystemSignature } from './index.ts';

const MiB = 1024 * 1024;
let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir()));
afterAll(() => cleanup());

function image(name: string, size: number): string {
  const file = path.join(dir, name);
  writeFileSync(file, '');
  truncateSync(file, size);
  return file;
}

async function detect(file: string, size: number): Promise<FilesystemSignature | null> {
  return detectFilesystem(fileReadAt(file), size);
}

/** blkid's TYPE, LABEL and UUID for the file: the oracle our reader must agree with. */
function blkid(file: string): Record<string, string> {
  const out = runTool('blkid', ['-p', '-o', 'export', file], 'util-linux');
  return Object.fromEntries(out.trim().split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]));
}

function expectAgreesWithBlkid(found: FilesystemSignature | null, file: string): void {
  const b = blkid(file);
  expect(found).not.toBeNull();
  expect(BLKID_TYPE[found!.type]).toBe(b.TYPE);
  expect(found!.label).toBe(b.LABEL);
  expect(found!.uuid).toBe(b.UUID);
}

const FIXED_UUID = '01020304-0506-0708-090a-0b0c0d0e0f10';

describe('ext', () => {
  for (const type of ['ext2', 'ext3', 'ext4'] as const) {
    it(`recognises ${type} from its feature flags`, async () => {
      const file = image(`${type}.img`, 8 * MiB);
      runTool(`mkfs.${type}`, ['-q', '-F', '-L', `lab-${type}`, '-U', FIXED_UUID, file], 'e2fsprogs');
      const found = await detect(file, 8 * MiB);
      expect(found).toEqual({ type, label: `lab-${type}`, uuid: FIXED_UUID });
      expectAgreesWithBlkid(found, file);
    });
  }
});

describe('FAT', () => {
  const cases = [
    { type: 'fat12', size: 2 * MiB, args: ['-F', '12'] },
    { type: 'fat16', size: 8 * MiB, args: ['-F', '16', '-s', '1'] },
    { type: 'fat32', size: 40 * MiB, args: ['-F', '32', '-s', '1'] },
  ] as const;
  for (const c of cases) {
    it(`recognises ${c.type} by its cluster count and FAT size`, async () => {
      const file = image(`${c.type}.img`, c.size);
      runTool('mkfs.fat', [...c.args, '-n', 'LABFAT', '-i', '1234ABCD', file], 'dosfstools');
      const found = await detect(file, c.size);
      expect(found).toEqual({ type: c.type, label: 'LABFAT', uuid: '1234-ABCD' });
      expectAgreesWithBlkid(found, file);
      expect(blkid(file).VERSION).toBe(c.type.toUpperCase());
    });
  }
});

describe('other filesystems', () => {
  it('recognises XFS', async () => {
    const file = image('xfs.img', 300 * MiB);
    runTool('mkfs.xfs', ['-q', '-L', 'labxfs', '-m', `uuid=${FIXED_UUID}`, file], 'xfsprogs');
    const found = await detect(file, 300 * MiB);
    expect(found).toEqual({ type: 'xfs', label: 'labxfs', uuid: FIXED_UUID });
    expectAgreesWithBlkid(found, file);
  });

  it('recognises Btrfs', async () => {
    const file = image('btrfs.img', 128 * MiB);
    runTool('mkfs.btrfs', ['-q', '-L', 'labbtrfs', '-U', FIXED_UUID, file], 'btrfs-progs');
    const found = await detect(file, 128 * MiB);
    expect(found).toEqual({ type: 'btrfs', label: 'labbtrfs', uuid: FIXED_UUID });
    expectAgreesWithBlkid(found, file);
  });

  it('recognises NTFS and reads the label from $Volume', async () => {
    const file = image('ntfs.img', 8 * MiB);
    runTool('mkntfs', ['-q', '-F', '-L', 'labntfs', file], 'ntfs-3g');
    const found = await detect(file, 8 * MiB);
    expect(found).toMatchObject({ type: 'ntfs', label: 'labntfs' });
    expectAgreesWithBlkid(found, file);
  });

  it('recognises exFAT and reads the label from the root directory', async () => {
    const file = image('exfat.img', 8 * MiB);
    runTool('mkfs.exfat', ['-L', 'labexfat', file], 'exfatprogs');
    const found = await detect(file, 8 * MiB);
    expect(found).toMatchObject({ type: 'exfat', label: 'labexfat' });
    expectAgreesWithBlkid(found, file);
  });

  it('recognises ISO9660', async () => {
    const content = path.join(dir, 'iso-content');
    mkdirSync(content, { recursive: true });
    writeFileSync(path.join(content, 'hello.txt'), 'hello\n');
    const file = path.join(dir, 'cd.iso');
    runTool('xorriso', ['-as', 'mkisofs', '-quiet', '-V', 'LABISO', '-o', file, content], 'xorriso');
    const size = Number(runTool('stat', ['-c', '%s', file], 'coreutils'));
    const found = await detect(file, size);
    expect(found).toMatchObject({ type: 'iso9660', label: 'LABISO' });
    expectAgreesWithBlkid(found, file);
  });

  it('recognises Linux swap', async () => {
    const file = image('swap.img', 8 * MiB);
    runTool('mkswap', ['-L', 'labswap', '-U', FIXED_UUID, file], 'util-linux');
    const found = await detect(file, 8 * MiB);
    expect(found).toEqual({ type: 'swap', label: 'labswap', uuid: FIXED_UUID });
    expectAgreesWithBlkid(found, file);
  });
});

describe('volume containers', () => {
  const luksFormat = (file: string, type: string, extra: string[]) =>
    runTool('cryptsetup', ['luksFormat', '-q', '--type', type, '--pbkdf', 'pbkdf2', '--pbkdf-force-iterations', '1000', '--uuid', FIXED_UUID, ...extra, file, '-'], 'cryptsetup-bin', 'passphrase');

  it('recognises LUKS1', async () => {
    const file = image('luks1.img', 20 * MiB);
    luksFormat(file, 'luks1', []);
    const found = await detect(file, 20 * MiB);
    expect(found).toEqual({ type: 'luks1', uuid: FIXED_UUID });
    expectAgreesWithBlkid(found, file);
  });

  it('recognises LUKS2 with its label', async () => {
    const file = image('luks2.img', 20 * MiB);
    luksFormat(file, 'luks2', ['--label', 'labluks']);
    const found = await detect(file, 20 * MiB);
    expect(found).toEqual({ type: 'luks2', label: 'labluks', uuid: FIXED_UUID });
    expectAgreesWithBlkid(found, file);
  });

  it('recognises an LVM2 PV label (hand-made: pvcreate needs a block device)', async () => {
    const file = image('pv.img', 8 * MiB);
    writeAt(file, 512, lvmLabelSector('N9xuwGimx6n8b2omEB3mLwFtkEI0hPVU'));
    const found = await detect(file, 8 * MiB);
    expect(found).toEqual({ type: 'lvm2-pv', uuid: 'N9xuwG-imx6-n8b2-omEB-3mLw-FtkE-I0hPVU' });
    expectAgreesWithBlkid(found, file);
  });
});

describe('nothing recognisable', () => {
  it('returns null for a blank volume', async () => {
    const file = image('blank.img', 1 * MiB);
    expect(await detect(file, 1 * MiB)).toBeNull();
  });

  it('returns null for a volume smaller than any superblock', async () => {
    const file = image('tiny.img', 100);
    expect(await detect(file, 100)).toBeNull();
  });
});

function writeAt(file: string, offset: number, data: Buffer): void {
  const fd = openSync(file, 'r+');
  writeSync(fd, data, 0, data.length, offset);
  closeSync(fd);
}

/**
 * A label sector as lvm2 writes it (label header + PV header with one data area), with
 * LVM's CRC: CRC-32 with initial value 0xf597a6cf and no final inversion, over bytes 20-511.
 */
function lvmLabelSector(uuid: string): Buffer {
  const s = Buffer.alloc(512);
  s.write('LABELONE', 0, 'latin1');
  s.writeBigUInt64LE(1n, 8);
  s.writeUInt32LE(32, 20); // PV header offset within the sector
  s.write('LVM2 001', 24, 'latin1');
  s.write(uuid, 32, 'latin1');
  s.writeBigUInt64LE(BigInt(8 * MiB), 64); // device size
  s.writeBigUInt64LE(BigInt(MiB), 72); // data area: offset, size 0 = to the end; then a terminator
  const crc = (crc32(s.subarray(20), 0xf597a6cf ^ 0xffffffff) ^ 0xffffffff) >>> 0;
  s.writeUInt32LE(crc, 16);
  return s;
}
