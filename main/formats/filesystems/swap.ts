// Linux swap: the magic ends the first page, and the page size is whatever the machine
// that ran mkswap used, so every size Linux supports is tried.
import { uuidFromBytes, isAllZero } from '../partitions/guid.ts';
import { cString, hasMagic } from './fields.ts';
import type { FilesystemSignature, ProbeInput } from './types.ts';

const PAGE_SIZES = [4096, 8192, 16384, 32768, 65536];

export function probeSwap({ head }: ProbeInput): FilesystemSignature | null {
  const page = PAGE_SIZES.find((p) => hasMagic(head, p - 10, 'SWAPSPACE2') || hasMagic(head, p - 10, 'SWAP-SPACE'));
  if (page === undefined) return null;
  // Only the v1 header ("SWAPSPACE2") has a UUID and label.
  if (!hasMagic(head, page - 10, 'SWAPSPACE2')) return { type: 'swap' };
  const uuid = head.subarray(0x40c, 0x41c);
  return { type: 'swap', label: cString(head, 0x41c, 16), uuid: isAllZero(uuid) ? undefined : uuidFromBytes(uuid) };
}
