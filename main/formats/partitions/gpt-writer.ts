// Writes a GPT (protective MBR, primary and backup headers and entry arrays, all CRCs) for
// the demo image and for tests that need tables no tool makes (4Kn, damaged copies).
import { crc32 } from 'node:zlib';
import { guidToBytes } from './guid.ts';
import { PROTECTIVE_MBR_TYPE } from './type-names.ts';

export interface GptPartitionSpec {
  type: string;
  guid: string;
  firstLba: number;
  /** Inclusive, as GPT stores it. */
  lastLba: number;
  name: string;
  attributes?: bigint;
}

export interface GptSpec {
  diskSize: number;
  sectorSize: 512 | 4096;
  diskGuid: string;
  partitions: readonly GptPartitionSpec[];
  /** Slots in the entry array (128 is what every tool writes). */
  entryCount?: number;
}

export interface DiskWrite {
  offset: number;
  data: Buffer;
}

const HEADER_SIZE = 92;
const ENTRY_SIZE = 128;

/** The bytes to put on the disk: [0] LBA 0 up to the end of the primary array, [1] the backup array and header. */
export function buildGpt(spec: GptSpec): [DiskWrite, DiskWrite] {
  const ss = spec.sectorSize;
  const count = spec.entryCount ?? 128;
  const arraySectors = Math.ceil((count * ENTRY_SIZE) / ss);
  const lastLba = Math.floor(spec.diskSize / ss) - 1;
  const firstUsable = 2 + arraySectors;
  const lastUsable = lastLba - 1 - arraySectors;
  const entries = Buffer.alloc(arraySectors * ss);
  spec.partitions.forEach((p, i) => writeEntry(entries.subarray(i * ENTRY_SIZE, (i + 1) * ENTRY_SIZE), p));
  const entriesCrc = crc32(entries.subarray(0, count * ENTRY_SIZE));
  const header = (myLba: number, alternateLba: number, entriesLba: number): Buffer => {
    const h = Buffer.alloc(ss);
    h.write('EFI PART', 0, 'latin1');
    h.writeUInt32LE(0x00010000, 8);
    h.writeUInt32LE(HEADER_SIZE, 12);
    h.writeBigUInt64LE(BigInt(myLba), 24);
    h.writeBigUInt64LE(BigInt(alternateLba), 32);
    h.writeBigUInt64LE(BigInt(firstUsable), 40);
    h.writeBigUInt64LE(BigInt(lastUsable), 48);
    guidToBytes(spec.diskGuid).copy(h, 56);
    h.writeBigUInt64LE(BigInt(entriesLba), 72);
    h.writeUInt32LE(count, 80);
    h.writeUInt32LE(ENTRY_SIZE, 84);
    h.writeUInt32LE(entriesCrc, 88);
    h.writeUInt32LE(crc32(h.subarray(0, HEADER_SIZE)), 16);
    return h;
  };
  const primary = Buffer.concat([protectiveMbr(ss, lastLba), header(1, lastLba, 2), entries]);
  const backup = Buffer.concat([entries, header(lastLba, 1, lastLba - arraySectors)]);
  return [
    { offset: 0, data: primary },
    { offset: (lastLba - arraySectors) * ss, data: backup },
  ];
}

function writeEntry(e: Buffer, p: GptPartitionSpec): void {
  guidToBytes(p.type).copy(e, 0);
  guidToBytes(p.guid).copy(e, 16);
  e.writeBigUInt64LE(BigInt(p.firstLba), 32);
  e.writeBigUInt64LE(BigInt(p.lastLba), 40);
  e.writeBigUInt64LE(p.attributes ?? 0n, 48);
  if (p.name.length > 36) throw new Error(`GPT partition name '${p.name}' is longer than 36 UTF-16 units`);
  e.write(p.name, 56, 'utf16le');
}

/** One 0xee entry covering the disk (capped at 2^32-1 sectors), so MBR-only tools leave it alone. */
function protectiveMbr(ss: number, lastLba: number): Buffer {
  const s = Buffer.alloc(ss);
  const at = 0x1be;
  s.set([0x00, 0x00, 0x02, 0x00, PROTECTIVE_MBR_TYPE, 0xff, 0xff, 0xff], at);
  s.writeUInt32LE(1, at + 8);
  s.writeUInt32LE(Math.min(lastLba, 0xffffffff), at + 12);
  s[510] = 0x55;
  s[511] = 0xaa;
  return s;
}
