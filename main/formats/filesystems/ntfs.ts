// NTFS keeps its label in the $VOLUME_NAME attribute of MFT record 3 ($Volume), so the
// probe follows the boot sector to the MFT and undoes the record's update-sequence fixups.
import { hasMagic, isPowerOfTwo, u16le, u32le, utf16Label } from './fields.ts';
import type { FilesystemSignature, ProbeInput } from './types.ts';

const VOLUME_RECORD = 3;
const ATTR_VOLUME_NAME = 0x60;
const ATTR_END = 0xffffffff;

export async function probeNtfs({ head, read }: ProbeInput): Promise<FilesystemSignature | null> {
  if (!hasMagic(head, 3, 'NTFS    ') || head.length < 512 || head[510] !== 0x55 || head[511] !== 0xaa) return null;
  const bytesPerSector = u16le(head, 0x0b);
  const spcByte = head[0x0d]!;
  // Cluster sizes above 64 KiB are stored as a negative power of two.
  const sectorsPerCluster = spcByte > 0x80 ? 2 ** (256 - spcByte) : spcByte;
  if (!isPowerOfTwo(bytesPerSector) || bytesPerSector < 256 || bytesPerSector > 4096 || !isPowerOfTwo(sectorsPerCluster)) return null;
  const clusterSize = bytesPerSector * sectorsPerCluster;
  const recordByte = head.readInt8(0x40);
  const recordSize = recordByte < 0 ? 2 ** -recordByte : recordByte * clusterSize;
  const uuid = head.readBigUInt64LE(0x48).toString(16).toUpperCase().padStart(16, '0');
  const mftCluster = head.readBigUInt64LE(0x30);
  if (recordSize < 256 || recordSize > 65536 || mftCluster > BigInt(Number.MAX_SAFE_INTEGER) / BigInt(clusterSize)) return { type: 'ntfs', uuid };
  const record = await read(Number(mftCluster) * clusterSize + VOLUME_RECORD * recordSize, recordSize);
  return { type: 'ntfs', label: record ? volumeName(record, bytesPerSector) : undefined, uuid };
}

function volumeName(record: Buffer, bytesPerSector: number): string | undefined {
  if (!hasMagic(record, 0, 'FILE') || !applyFixups(record, bytesPerSector)) return undefined;
  let at = u16le(record, 0x14);
  while (at > 0 && at + 16 <= record.length) {
    const type = u32le(record, at);
    const length = u32le(record, at + 4);
    if (type === ATTR_END || length < 16 || at + length > record.length) return undefined;
    if (type === ATTR_VOLUME_NAME && record[at + 8] === 0) {
      const valueLength = u32le(record, at + 0x10);
      const valueAt = at + u16le(record, at + 0x14);
      if (valueAt + valueLength > at + length) return undefined;
      return utf16Label(record.subarray(valueAt, valueAt + valueLength));
    }
    at += length;
  }
  return undefined;
}

/** Put back the last two bytes of each sector, which NTFS swaps for a sequence number on disk. */
function applyFixups(record: Buffer, bytesPerSector: number): boolean {
  const usaAt = u16le(record, 4);
  const usaCount = u16le(record, 6);
  if (usaCount < 1 || usaAt + usaCount * 2 > record.length) return false;
  const stride = Math.min(bytesPerSector, 512);
  for (let i = 1; i < usaCount; i++) {
    const end = i * stride - 2;
    if (end + 2 > record.length) return false;
    if (record.readUInt16LE(end) !== record.readUInt16LE(usaAt)) return false;
    record.writeUInt16LE(record.readUInt16LE(usaAt + i * 2), end);
  }
  return true;
}
