// A small but consistent FAT32 volume for the demo ESP: boot sector, FSInfo and their
// backups, two FATs, and a root directory with the volume label and two files. Only the
// metadata pages and file data are written; the rest of the FATs stay zero (free) and
// never get allocated in the image file.
import type { SparseImage } from './sparse-image.ts';

const SECTOR = 512;
const RESERVED_SECTORS = 32;
const FAT_COUNT = 2;
const FSINFO_SECTOR = 1;
const BACKUP_BOOT_SECTOR = 6;
const ROOT_CLUSTER = 2;
const END_OF_CHAIN = 0x0fffffff;
const ATTR_VOLUME_ID = 0x08;
const ATTR_ARCHIVE = 0x20;
/** 2024-01-01 12:00:00 in DOS date/time format, so the image does not depend on the clock. */
const DOS_DATE = ((2024 - 1980) << 9) | (1 << 5) | 1;
const DOS_TIME = 12 << 11;

export interface FatFile {
  /** 8.3 name as it appears in a listing, e.g. "README.TXT". */
  name: string;
  data: Buffer;
}

export interface Fat32Options {
  /** Partition start in sectors, recorded as "hidden sectors". */
  startLba: number;
  sectors: number;
  label: string;
  serial: number;
  files: readonly FatFile[];
}

/** Sectors per FAT for one-sector clusters: the smallest FAT that covers every cluster it leaves room for. */
function fatSectors(total: number): number {
  let fat = 1;
  while (Math.ceil(((total - RESERVED_SECTORS - FAT_COUNT * fat + 2) * 4) / SECTOR) > fat) fat++;
  return fat;
}

export function writeFat32(image: SparseImage, offset: number, o: Fat32Options): void {
  const fat = fatSectors(o.sectors);
  const clusters = o.sectors - RESERVED_SECTORS - FAT_COUNT * fat;
  const dataStart = offset + (RESERVED_SECTORS + FAT_COUNT * fat) * SECTOR;
  const clusterOffset = (n: number) => dataStart + (n - 2) * SECTOR;

  const table: number[] = [0x0ffffff8, END_OF_CHAIN, END_OF_CHAIN];
  const entries: Buffer[] = [dirEntry(o.label.padEnd(11), ATTR_VOLUME_ID, 0, 0)];
  for (const file of o.files) {
    const first = table.length;
    const count = Math.max(1, Math.ceil(file.data.length / SECTOR));
    for (let i = 0; i < count; i++) table.push(i === count - 1 ? END_OF_CHAIN : first + i + 1);
    entries.push(dirEntry(shortName(file.name), ATTR_ARCHIVE, first, file.data.length));
    image.write(clusterOffset(first), file.data);
  }
  image.write(clusterOffset(ROOT_CLUSTER), Buffer.concat(entries));

  const fatBytes = Buffer.alloc(table.length * 4);
  table.forEach((v, i) => fatBytes.writeUInt32LE(v, i * 4));
  for (let i = 0; i < FAT_COUNT; i++) image.write(offset + (RESERVED_SECTORS + i * fat) * SECTOR, fatBytes);

  const boot = bootSector(o, fat);
  const info = fsInfo(clusters - (table.length - 2), table.length);
  for (const base of [0, BACKUP_BOOT_SECTOR]) {
    image.write(offset + base * SECTOR, boot);
    image.write(offset + (base + FSINFO_SECTOR) * SECTOR, info);
  }
}

function bootSector(o: Fat32Options, fat: number): Buffer {
  const b = Buffer.alloc(SECTOR);
  b.set([0xeb, 0x58, 0x90], 0);
  b.write('BLKSCOPE', 3, 'latin1');
  b.writeUInt16LE(SECTOR, 0x0b);
  b[0x0d] = 1; // sectors per cluster
  b.writeUInt16LE(RESERVED_SECTORS, 0x0e);
  b[0x10] = FAT_COUNT;
  b[0x15] = 0xf8; // fixed disk
  b.writeUInt16LE(32, 0x18); // sectors per track, heads: nominal CHS geometry
  b.writeUInt16LE(64, 0x1a);
  b.writeUInt32LE(o.startLba, 0x1c);
  b.writeUInt32LE(o.sectors, 0x20);
  b.writeUInt32LE(fat, 0x24);
  b.writeUInt32LE(ROOT_CLUSTER, 0x2c);
  b.writeUInt16LE(FSINFO_SECTOR, 0x30);
  b.writeUInt16LE(BACKUP_BOOT_SECTOR, 0x32);
  b[0x40] = 0x80; // drive number
  b[0x42] = 0x29; // extended boot signature: serial, label and type follow
  b.writeUInt32LE(o.serial, 0x43);
  b.write(o.label.padEnd(11), 0x47, 'latin1');
  b.write('FAT32   ', 0x52, 'latin1');
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

function fsInfo(freeClusters: number, nextFree: number): Buffer {
  const s = Buffer.alloc(SECTOR);
  s.write('RRaA', 0, 'latin1');
  s.write('rrAa', 0x1e4, 'latin1');
  s.writeUInt32LE(freeClusters, 0x1e8);
  s.writeUInt32LE(nextFree, 0x1ec);
  s.writeUInt32LE(0xaa550000, 0x1fc);
  return s;
}

function shortName(name: string): string {
  const [base, ext = ''] = name.toUpperCase().split('.');
  if (!base || base.length > 8 || ext.length > 3) throw new Error(`demo image: '${name}' is not an 8.3 name`);
  return base.padEnd(8) + ext.padEnd(3);
}

function dirEntry(name11: string, attr: number, cluster: number, size: number): Buffer {
  const e = Buffer.alloc(32);
  e.write(name11, 0, 'latin1');
  e[11] = attr;
  for (const at of [0x0e, 0x16]) e.writeUInt16LE(DOS_TIME, at);
  for (const at of [0x10, 0x12, 0x18]) e.writeUInt16LE(DOS_DATE, at);
  e.writeUInt16LE(cluster >>> 16, 0x14);
  e.writeUInt16LE(cluster & 0xffff, 0x1a);
  e.writeUInt32LE(size, 0x1c);
  return e;
}
