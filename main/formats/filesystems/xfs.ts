// XFS: big-endian superblock at byte 0.
import { uuidFromBytes } from '../partitions/guid.ts';
import { cString, hasMagic, isPowerOfTwo } from './fields.ts';
import type { FilesystemSignature, ProbeInput } from './types.ts';

export function probeXfs({ head }: ProbeInput): FilesystemSignature | null {
  if (!hasMagic(head, 0, 'XFSB') || head.length < 512) return null;
  const blockSize = head.readUInt32BE(4);
  if (!isPowerOfTwo(blockSize) || blockSize < 512 || blockSize > 65536) return null;
  return { type: 'xfs', label: cString(head, 0x6c, 12), uuid: uuidFromBytes(head.subarray(0x20, 0x30)) };
}
