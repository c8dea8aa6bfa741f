// The size of what the file plugin serves. fstat reports 0 for a block device, so its size
// comes from the BLKGETSIZE64 ioctl when the addon is there, else from sysfs.
import { readFileSync, type Stats } from 'node:fs';
import { BlockError } from '../../backend/errors.ts';
import type { NativeIo } from '../../native-io.ts';

export function sizeOf(file: string, fd: number, st: Stats, io: NativeIo | null): number {
  if (st.isFile()) return st.size;
  if (!st.isBlockDevice()) throw new BlockError('EINVAL', `${file}: not a regular file or block device`);
  const fromIoctl = io?.blockDeviceSize?.(fd);
  if (fromIoctl !== undefined && fromIoctl >= 0) return fromIoctl;
  return blockDeviceSizeFromSysfs(file, st.rdev);
}

/** /sys/dev/block/MAJOR:MINOR/size counts 512-byte sectors whatever the logical block size. */
export function blockDeviceSizeFromSysfs(file: string, rdev: number): number {
  // Linux's dev_t encoding (new_decode_dev): 12 bits of major, 20 of minor, split.
  const major = (rdev >>> 8) & 0xfff;
  const minor = (rdev & 0xff) | ((rdev >>> 12) & 0xfff00);
  try {
    return Number(readFileSync(`/sys/dev/block/${major}:${minor}/size`, 'utf8').trim()) * 512;
  } catch (err) {
    throw new BlockError('EIO', `${file}: cannot find the size of the block device (${(err as Error).message})`);
  }
}
