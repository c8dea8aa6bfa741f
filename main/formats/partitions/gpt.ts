// GPT: a header at LBA 1 and a copy at the last LBA, each pointing at its own copy of the
// partition entry array; both carry CRC32s. The sector size is not recorded anywhere, so
// the header is looked for at LBA 1 of 512- and 4096-byte sectors.
import { crc32 } from 'node:zlib';
import { readU64, type Disk } from './disk.ts';
import { guidFromBytes, isAllZero } from './guid.ts';
import { gptTypeName } from './type-names.ts';
import type { Partition } from './types.ts';

export const GPT_SECTOR_SIZES = [512, 4096] as const;
export const GPT_SIGNATURE = 'EFI PART';
/** No tool makes an entry array larger than this; a bigger claim is corruption, not a disk. */
export const MAX_ENTRY_ARRAY_BYTES = 1024 * 1024;
const MIN_HEADER_SIZE = 92;
const MIN_ENTRY_SIZE = 128;
const NAME_AT = 56;
const NAME_BYTES = 72;
const ATTR_LEGACY_BIOS_BOOTABLE = 1n << 2n;

export interface GptHeader {
  sectorSize: number;
  myLba: number;
  alternateLba: number;
  firstUsableLba: number;
  lastUsableLba: number;
  diskGuid: string;
  entriesLba: number;
  entryCount: number;
  entrySize: number;
}

export interface LoadedGpt {
  header: GptHeader;
  entries: Buffer;
}

/** The header and entry array found at `lba`, or a sentence saying what is wrong with them. */
export async function loadGpt(disk: Disk, sectorSize: number, lba: number): Promise<LoadedGpt | string> {
  const sector = await disk.read(lba * sectorSize, sectorSize);
  if (!sector) return `LBA ${lba} is beyond the end of the disk`;
  const header = parseHeader(sector, sectorSize, lba);
  if (typeof header === 'string') return header;
  const entries = await disk.read(header.entriesLba * sectorSize, header.entryCount * header.entrySize);
  if (!entries) return `its partition entry array (LBA ${header.entriesLba}, ${header.entryCount} × ${header.entrySize} bytes) runs past the end of the disk`;
  if (crc32(entries) !== sector.readUInt32LE(88)) return 'partition entry array CRC32 mismatch';
  return { header, entries };
}

export function hasGptSignature(sector: Buffer): boolean {
  return sector.toString('latin1', 0, 8) === GPT_SIGNATURE;
}

function parseHeader(sector: Buffer, sectorSize: number, lba: number): GptHeader | string {
  if (!hasGptSignature(sector)) return 'no "EFI PART" signature';
  const revisionMajor = sector.readUInt16LE(10);
  if (revisionMajor !== 1) return `unsupported GPT revision ${revisionMajor}.${sector.readUInt16LE(8)}`;
  const headerSize = sector.readUInt32LE(12);
  if (headerSize < MIN_HEADER_SIZE || headerSize > sectorSize) return `header size ${headerSize} is outside [${MIN_HEADER_SIZE}, ${sectorSize}]`;
  const stored = sector.readUInt32LE(16);
  const copy = Buffer.from(sector.subarray(0, headerSize));
  copy.writeUInt32LE(0, 16);
  if (crc32(copy) !== stored) return 'header CRC32 mismatch';
  const myLba = readU64(sector, 24);
  if (myLba !== lba) return `the header says it lives at LBA ${myLba ?? 'huge'}, but it was read from LBA ${lba}`;
  const fields = { alternateLba: readU64(sector, 32), firstUsableLba: readU64(sector, 40), lastUsableLba: readU64(sector, 48), entriesLba: readU64(sector, 72) };
  for (const [name, value] of Object.entries(fields)) if (value === null) return `${name} does not fit in 2^53`;
  const entryCount = sector.readUInt32LE(80);
  const entrySize = sector.readUInt32LE(84);
  if (entrySize < MIN_ENTRY_SIZE || entrySize % 8 !== 0) return `partition entry size ${entrySize} is not a multiple of 8 of at least ${MIN_ENTRY_SIZE}`;
  if (entryCount * entrySize > MAX_ENTRY_ARRAY_BYTES) {
    return `partition entry array of ${entryCount} × ${entrySize} bytes is larger than the ${MAX_ENTRY_ARRAY_BYTES}-byte limit`;
  }
  return {
    sectorSize,
    myLba,
    alternateLba: fields.alternateLba!,
    firstUsableLba: fields.firstUsableLba!,
    lastUsableLba: fields.lastUsableLba!,
    diskGuid: guidFromBytes(sector.subarray(56, 72)),
    entriesLba: fields.entriesLba!,
    entryCount,
    entrySize,
  };
}

/** The used entries as partitions; entries that make no sense are reported and left out. */
export function gptPartitions({ header, entries }: LoadedGpt, warnings: string[]): Partition[] {
  const out: Partition[] = [];
  const ss = header.sectorSize;
  for (let i = 0; i < header.entryCount; i++) {
    const e = entries.subarray(i * header.entrySize, (i + 1) * header.entrySize);
    if (isAllZero(e.subarray(0, 16))) continue;
    const number = i + 1;
    const first = readU64(e, 32);
    const last = readU64(e, 40);
    if (first === null || last === null || last < first) {
      warnings.push(`GPT entry ${number} has first LBA ${e.readBigUInt64LE(32)} and last LBA ${e.readBigUInt64LE(40)}; ignored`);
      continue;
    }
    if (first < header.firstUsableLba || last > header.lastUsableLba) {
      warnings.push(`partition ${number} (LBA ${first}-${last}) lies outside the usable area LBA ${header.firstUsableLba}-${header.lastUsableLba}`);
    }
    const type = guidFromBytes(e.subarray(0, 16));
    const p: Partition = {
      number,
      start: first * ss,
      length: (last - first + 1) * ss,
      type,
      typeName: gptTypeName(type),
      name: decodeName(e.subarray(NAME_AT, NAME_AT + NAME_BYTES)),
      guid: guidFromBytes(e.subarray(16, 32)),
    };
    if ((e.readBigUInt64LE(48) & ATTR_LEGACY_BIOS_BOOTABLE) !== 0n) p.bootable = true;
    out.push(p);
  }
  return out;
}

function decodeName(bytes: Buffer): string {
  const text = bytes.toString('utf16le');
  const nul = text.indexOf('\0');
  return nul < 0 ? text : text.slice(0, nul);
}

export interface FoundGpt {
  gpt: LoadedGpt;
  warnings: string[];
}

/**
 * The GPT of the disk, preferring the primary header and falling back to the backup at the
 * last LBA. `problems` collects why each candidate was rejected, so a disk with no usable
 * GPT can say exactly what is wrong.
 */
export async function findGpt(disk: Disk, tryBackupAlways: boolean, problems: string[]): Promise<FoundGpt | null> {
  const damagedPrimary = new Map<number, string>();
  for (const ss of GPT_SECTOR_SIZES) {
    const head = await disk.read(ss, 8);
    if (!head || !hasGptSignature(head)) continue;
    const primary = await loadGpt(disk, ss, 1);
    if (typeof primary !== 'string') return { gpt: primary, warnings: await checkBackup(disk, primary) };
    damagedPrimary.set(ss, `the primary GPT header at LBA 1 (${ss}-byte sectors) is damaged: ${primary}`);
  }
  problems.push(...damagedPrimary.values());
  if (damagedPrimary.size === 0 && !tryBackupAlways) return null;
  for (const ss of damagedPrimary.size > 0 ? damagedPrimary.keys() : GPT_SECTOR_SIZES) {
    const lastLba = Math.floor(disk.size / ss) - 1;
    if (lastLba < 2) continue;
    const backup = await loadGpt(disk, ss, lastLba);
    if (typeof backup === 'string') {
      problems.push(`the backup GPT header at LBA ${lastLba} (${ss}-byte sectors) is unusable: ${backup}`);
      continue;
    }
    const why = damagedPrimary.get(ss) ?? `there is no primary GPT header at LBA 1 (${ss}-byte sectors)`;
    return { gpt: backup, warnings: [`${why}; using the backup header at LBA ${lastLba}`] };
  }
  return null;
}

async function checkBackup(disk: Disk, primary: LoadedGpt): Promise<string[]> {
  const { alternateLba, sectorSize, lastUsableLba } = primary.header;
  const warnings: string[] = [];
  const diskSectors = Math.floor(disk.size / sectorSize);
  if (lastUsableLba >= diskSectors) {
    warnings.push(`the GPT describes a disk of at least ${lastUsableLba + 1} sectors but the disk has ${diskSectors}: it may have been truncated`);
  }
  const backup = await loadGpt(disk, sectorSize, alternateLba);
  if (typeof backup === 'string') warnings.push(`the backup GPT header at LBA ${alternateLba} is damaged: ${backup}`);
  return warnings;
}
