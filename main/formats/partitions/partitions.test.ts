import { writeFileSync, openSync, writeSync, closeSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildGpt, type GptSpec } from './gpt-writer.ts';
import { readPartitionTable } from './index.ts';
import { fileReadAt, runTool, tempDir } from './testing.ts';

const MiB = 1024 * 1024;
let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

function blankImage(name: string, size: number): string {
  const file = path.join(dir, name);
  writeFileSync(file, '');
  truncateSync(file, size);
  return file;
}

function patch(file: string, offset: number, bytes: Buffer): void {
  const fd = openSync(file, 'r+');
  writeSync(fd, bytes, 0, bytes.length, offset);
  closeSync(fd);
}

async function tableOf(file: string, size: number, mbrSectorSize?: number) {
  return readPartitionTable(fileReadAt(file), size, { mbrSectorSize });
}

const sgdisk = (args: string[]) => runTool('sgdisk', args, 'gdisk');

function sgdiskDisk(size = 8 * MiB): string {
  const file = blankImage('gpt.img', size);
  sgdisk(['-U', '11111111-2222-3333-4444-555555555555',
    '-n', '1:2048:+1M', '-t', '1:ef00', '-c', '1:EFI', '-u', '1:AAAAAAAA-0000-0000-0000-000000000001',
    '-n', '2:4096:+2M', '-t', '2:8300', '-c', '2:root', '-u', '2:AAAAAAAA-0000-0000-0000-000000000002', '-A', '2:set:2', file]);
  return file;
}

const SGDISK_PARTITIONS = [
  { number: 1, start: 1 * MiB, length: 1 * MiB, type: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', typeName: 'EFI System', name: 'EFI', guid: 'AAAAAAAA-0000-0000-0000-000000000001' },
  { number: 2, start: 2 * MiB, length: 2 * MiB, type: '0FC63DAF-8483-4772-8E79-3D69D8477DE4', typeName: 'Linux filesystem', name: 'root', guid: 'AAAAAAAA-0000-0000-0000-000000000002', bootable: true },
];

describe('GPT', () => {
  it('reads a 512-byte-sector GPT made by sgdisk', async () => {
    const file = sgdiskDisk();
    expect(await tableOf(file, 8 * MiB)).toEqual({
      scheme: 'gpt', sectorSize: 512, diskGuid: '11111111-2222-3333-4444-555555555555', partitions: SGDISK_PARTITIONS, warnings: [],
    });
  });

  it('reads a 4096-byte-sector GPT made by fdisk -b 4096', async () => {
    const file = blankImage('gpt4k.img', 8 * MiB);
    runTool('fdisk', ['-b', '4096', file], 'fdisk', 'g\nn\n1\n\n+1M\nn\n2\n\n\nt\n1\n1\nw\n');
    const t = await tableOf(file, 8 * MiB);
    expect(t.sectorSize).toBe(4096);
    expect(t.partitions.map((p) => [p.number, p.start, p.length, p.typeName])).toEqual([
      [1, 1 * MiB, 1 * MiB, 'EFI System'],
      [2, 2 * MiB, 5 * MiB, 'Linux filesystem'],
    ]);
    expect(t.warnings).toEqual([]);
  });

  it('uses the backup header when the primary header is corrupted, and says so', async () => {
    const file = sgdiskDisk();
    patch(file, 512 + 48, Buffer.from([0x99])); // last usable LBA: breaks the header CRC
    const t = await tableOf(file, 8 * MiB);
    expect(t.partitions).toEqual(SGDISK_PARTITIONS);
    expect(t.warnings).toEqual([
      'the primary GPT header at LBA 1 (512-byte sectors) is damaged: header CRC32 mismatch; using the backup header at LBA 16383',
    ]);
  });

  it('uses the backup when the primary entry array fails its CRC', async () => {
    const file = sgdiskDisk();
    patch(file, 1024 + 56, Buffer.from('X')); // first letter of partition 1's name
    const t = await tableOf(file, 8 * MiB);
    expect(t.partitions[0]!.name).toBe('EFI');
    expect(t.warnings).toEqual([
      'the primary GPT header at LBA 1 (512-byte sectors) is damaged: partition entry array CRC32 mismatch; using the backup header at LBA 16383',
    ]);
  });

  it('warns when the backup copy is damaged but the primary is fine', async () => {
    const file = sgdiskDisk();
    patch(file, 8 * MiB - 512 + 48, Buffer.from([0x99]));
    const t = await tableOf(file, 8 * MiB);
    expect(t.partitions).toEqual(SGDISK_PARTITIONS);
    expect(t.warnings).toEqual(['the backup GPT header at LBA 16383 is damaged: header CRC32 mismatch']);
  });

  it('reports no table, naming both problems, when primary and backup are damaged', async () => {
    const file = sgdiskDisk();
    patch(file, 512 + 48, Buffer.from([0x99]));
    patch(file, 8 * MiB - 512 + 48, Buffer.from([0x99]));
    const t = await tableOf(file, 8 * MiB);
    expect(t.scheme).toBe('none');
    expect(t.warnings).toEqual([
      'the primary GPT header at LBA 1 (512-byte sectors) is damaged: header CRC32 mismatch',
      'the backup GPT header at LBA 16383 (512-byte sectors) is unusable: header CRC32 mismatch',
      'sector 0 holds a protective MBR but no valid GPT header was found',
    ]);
  });

  it('refuses an entry array larger than 1 MiB without allocating it', async () => {
    const file = blankImage('huge.img', 8 * MiB);
    const [primary] = buildGpt({ diskSize: 8 * MiB, sectorSize: 512, diskGuid: '11111111-2222-3333-4444-555555555555', partitions: [] });
    const header = primary.data.subarray(512, 1024);
    header.writeUInt32LE(100_000, 80);
    header.writeUInt32LE(0, 16);
    header.writeUInt32LE(crc32(header.subarray(0, 92)), 16);
    patch(file, 0, primary.data.subarray(0, 1024));
    const t = await tableOf(file, 8 * MiB);
    expect(t.scheme).toBe('none');
    expect(t.warnings[0]).toBe('the primary GPT header at LBA 1 (512-byte sectors) is damaged: partition entry array of 100000 × 128 bytes is larger than the 1048576-byte limit');
  });

  it('flags a partition that runs past the end of the disk', async () => {
    const spec: GptSpec = {
      diskSize: 8 * MiB, sectorSize: 512, diskGuid: '11111111-2222-3333-4444-555555555555',
      partitions: [{ type: '0FC63DAF-8483-4772-8E79-3D69D8477DE4', guid: 'AAAAAAAA-0000-0000-0000-000000000001', firstLba: 2048, lastLba: 20479, name: 'big' }],
    };
    const file = blankImage('past.img', 8 * MiB);
    for (const w of buildGpt(spec)) patch(file, w.offset, w.data);
    const t = await tableOf(file, 8 * MiB);
    expect(t.partitions[0]).toMatchObject({ number: 1, start: 1 * MiB, length: 9 * MiB, pastEnd: true });
    expect(t.warnings).toEqual([
      'partition 1 (LBA 2048-20479) lies outside the usable area LBA 34-16350',
      'partition 1 (bytes 1048576-10485760) extends past the end of the disk (8388608 bytes)',
    ]);
  });

  it('warns about a hybrid MBR and still uses the GPT', async () => {
    const file = sgdiskDisk();
    sgdisk(['-h', '2', file]);
    const t = await tableOf(file, 8 * MiB);
    expect(t.partitions).toEqual(SGDISK_PARTITIONS);
    expect(t.warnings).toEqual(['hybrid MBR: sector 0 has partitions next to the protective 0xee entry; the GPT is used']);
  });

  it('warns when a GPT has no protective MBR', async () => {
    const file = sgdiskDisk();
    patch(file, 0, Buffer.alloc(512));
    const t = await tableOf(file, 8 * MiB);
    expect(t.partitions).toEqual(SGDISK_PARTITIONS);
    expect(t.warnings).toEqual(['GPT found but sector 0 has no protective MBR (type 0xee): some firmware and tools will not see it']);
  });

  it('writes a GPT that sgdisk -v finds valid', () => {
    const file = blankImage('written.img', 8 * MiB);
    const spec: GptSpec = {
      diskSize: 8 * MiB, sectorSize: 512, diskGuid: '11111111-2222-3333-4444-555555555555',
      partitions: [{ type: '0FC63DAF-8483-4772-8E79-3D69D8477DE4', guid: 'AAAAAAAA-0000-0000-0000-000000000001', firstLba: 2048, lastLba: 4095, name: 'data' }],
    };
    for (const w of buildGpt(spec)) patch(file, w.offset, w.data);
    expect(sgdisk(['-v', file])).toContain('No problems found');
    expect(sgdisk(['-i', '1', file])).toContain("Partition name: 'data'");
  });
});

describe('MBR', () => {
  it('reads primaries and the EBR chain of logicals made by sfdisk', async () => {
    const file = blankImage('mbr.img', 16 * MiB);
    runTool('sfdisk', ['--no-reread', '--no-tell-kernel', file], 'fdisk',
      'label: dos\nlabel-id: 0x12345678\nstart=2048, size=4096, type=83, bootable\nstart=8192, size=24576, type=5\nstart=10240, size=2048, type=82\nstart=14336, size=4096, type=83\n');
    expect(await tableOf(file, 16 * MiB)).toEqual({
      scheme: 'mbr', sectorSize: 512, diskGuid: '12345678', warnings: [],
      partitions: [
        { number: 1, start: 2048 * 512, length: 4096 * 512, type: '0x83', typeName: 'Linux', name: '', bootable: true },
        { number: 2, start: 8192 * 512, length: 24576 * 512, type: '0x05', typeName: 'Extended', name: '', bootable: false },
        { number: 5, start: 10240 * 512, length: 2048 * 512, type: '0x82', typeName: 'Linux swap', name: '', bootable: false },
        { number: 6, start: 14336 * 512, length: 4096 * 512, type: '0x83', typeName: 'Linux', name: '', bootable: false },
      ],
    });
  });

  it('stops an EBR chain that links back to itself', async () => {
    const file = blankImage('loop.img', 4 * MiB);
    const mbr = Buffer.alloc(512);
    mbrEntry(mbr, 0, 0x0f, 2048, 4096);
    const ebr = Buffer.alloc(512);
    mbrEntry(ebr, 0, 0x83, 1, 100);
    mbrEntry(ebr, 1, 0x05, 0, 4096); // next EBR = start of the extended partition: itself
    patch(file, 0, mbr);
    patch(file, 2048 * 512, ebr);
    const t = await tableOf(file, 4 * MiB);
    expect(t.partitions.map((p) => p.number)).toEqual([1, 5]);
    expect(t.warnings).toEqual(['the EBR chain of extended partition 1 loops back to LBA 2048; stopped there']);
  });

  it('reads MBR LBAs in 4096-byte sectors when told the disk is 4Kn', async () => {
    const file = blankImage('mbr4k.img', 8 * MiB);
    const mbr = Buffer.alloc(512);
    mbrEntry(mbr, 0, 0x83, 256, 512);
    patch(file, 0, mbr);
    const t = await tableOf(file, 8 * MiB, 4096);
    expect(t.partitions.map((p) => [p.start, p.length])).toEqual([[1 * MiB, 2 * MiB]]);
  });
});

describe('no partition table', () => {
  it('reports none for a blank disk', async () => {
    const file = blankImage('blank.img', 1 * MiB);
    expect(await tableOf(file, 1 * MiB)).toEqual({ scheme: 'none', sectorSize: 512, partitions: [], warnings: [] });
  });

  it('does not mistake a FAT boot sector on a whole disk for an MBR', async () => {
    const file = blankImage('fat.img', 8 * MiB);
    runTool('mkfs.fat', [file], 'dosfstools');
    expect(await tableOf(file, 8 * MiB)).toEqual({ scheme: 'none', sectorSize: 512, partitions: [], warnings: [] });
  });
});

function mbrEntry(sector: Buffer, slot: number, type: number, startLba: number, sectors: number): void {
  const at = 0x1be + slot * 16;
  sector[at + 4] = type;
  sector.writeUInt32LE(startLba, at + 8);
  sector.writeUInt32LE(sectors, at + 12);
  sector[510] = 0x55;
  sector[511] = 0xaa;
}
