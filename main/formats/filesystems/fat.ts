// FAT12/16/32. The "FATxx" string in the boot sector is only a hint: like Linux and blkid,
// a zero 16-bit FAT size means FAT32, and otherwise the cluster count decides 12 vs 16.
import { hasMagic, isPowerOfTwo, paddedLabel, u16le, u32le, volumeSerial } from './fields.ts';
import type { FilesystemSignature, ProbeInput } from './types.ts';

const FAT12_MAX_CLUSTERS = 4084;
const NO_LABEL = 'NO NAME';

export function probeFat({ head }: ProbeInput): FilesystemSignature | null {
  if (head.length < 512 || head[510] !== 0x55 || head[511] !== 0xaa) return null;
  if (!hasMagic(head, 0x52, 'FAT32   ') && !hasMagic(head, 0x36, 'FAT1') && !hasMagic(head, 0x36, 'FAT     ')) return null;
  const bytesPerSector = u16le(head, 0x0b);
  const sectorsPerCluster = head[0x0d]!;
  const reserved = u16le(head, 0x0e);
  const fats = head[0x10]!;
  const media = head[0x15]!;
  if (![512, 1024, 2048, 4096].includes(bytesPerSector) || !isPowerOfTwo(sectorsPerCluster)) return null;
  if (reserved === 0 || fats === 0 || (media !== 0xf0 && media < 0xf8)) return null;

  const fatSize16 = u16le(head, 0x16);
  if (fatSize16 === 0) {
    if (u32le(head, 0x24) === 0) return null;
    return withLabel('fat32', head, 0x47, u32le(head, 0x43));
  }
  const totalSectors = u16le(head, 0x13) || u32le(head, 0x20);
  const rootDirSectors = Math.ceil((u16le(head, 0x11) * 32) / bytesPerSector);
  const dataSectors = totalSectors - reserved - fats * fatSize16 - rootDirSectors;
  if (dataSectors <= 0) return null;
  const clusters = Math.floor(dataSectors / sectorsPerCluster);
  return withLabel(clusters <= FAT12_MAX_CLUSTERS ? 'fat12' : 'fat16', head, 0x2b, u32le(head, 0x27));
}

function withLabel(type: 'fat12' | 'fat16' | 'fat32', head: Buffer, labelAt: number, serial: number): FilesystemSignature {
  const label = paddedLabel(head, labelAt, 11);
  return { type, label: label === NO_LABEL ? undefined : label, uuid: volumeSerial(serial) };
}
