// Filesystem and volume signatures (what blkid calls superblocks), read through any chain
// layer from the start of a partition or of an unpartitioned disk.
import { probeBtrfs } from './btrfs.ts';
import { probeExfat } from './exfat.ts';
import { probeExt } from './ext.ts';
import { probeFat } from './fat.ts';
import { probeIso9660 } from './iso9660.ts';
import { probeLuks } from './luks.ts';
import { probeLvm } from './lvm.ts';
import { probeNtfs } from './ntfs.ts';
import { probeSwap } from './swap.ts';
import { HEAD_BYTES, type FilesystemSignature, type FilesystemType, type Probe, type ReadAt } from './types.ts';
import { probeXfs } from './xfs.ts';

export type { FilesystemSignature, FilesystemType } from './types.ts';

/**
 * Containers first (their payload can look like anything), then filesystems whose magic
 * sits at byte 0 or in a superblock, and swap last: mkfs tools do not always wipe the page
 * where an old swap signature lived.
 */
const PROBES: readonly Probe[] = [probeLuks, probeLvm, probeXfs, probeBtrfs, probeExt, probeNtfs, probeExfat, probeFat, probeIso9660, probeSwap];

/** The filesystem in the `size` bytes `read` exposes, or null if none is recognised. */
export async function detectFilesystem(read: ReadAt, size: number): Promise<FilesystemSignature | null> {
  const head = size > 0 ? await read(0, Math.min(size, HEAD_BYTES)) : Buffer.alloc(0);
  const bounded = (offset: number, length: number) =>
    Number.isSafeInteger(offset) && offset >= 0 && offset + length <= size ? read(offset, length) : Promise.resolve(null);
  for (const probe of PROBES) {
    const found = await probe({ head, read: bounded, size });
    if (found) return withoutUndefined(found);
  }
  return null;
}

/** The TYPE blkid prints for each of our types (FAT versions are blkid's VERSION). */
export const BLKID_TYPE: Readonly<Record<FilesystemType, string>> = {
  ext2: 'ext2', ext3: 'ext3', ext4: 'ext4', xfs: 'xfs', btrfs: 'btrfs', ntfs: 'ntfs',
  fat12: 'vfat', fat16: 'vfat', fat32: 'vfat', exfat: 'exfat', iso9660: 'iso9660', swap: 'swap',
  'lvm2-pv': 'LVM2_member', luks1: 'crypto_LUKS', luks2: 'crypto_LUKS',
};

function withoutUndefined(sig: FilesystemSignature): FilesystemSignature {
  const out: FilesystemSignature = { type: sig.type };
  if (sig.label !== undefined) out.label = sig.label;
  if (sig.uuid !== undefined) out.uuid = sig.uuid;
  return out;
}
